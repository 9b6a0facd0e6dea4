// tg::distributed::DistributedDataParallel: a module whose backward averages gradients over ranks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tapegrad/autograd/dtype.hpp"
#include "tapegrad/nn/module.hpp"

namespace tg::distributed {

/// One bucket as a communication hook sees it: the values every rank adds up.
struct GradBucket {
  size_t index = 0;          ///< the bucket's position in reduction order
  DType dtype = DType::f32;  ///< the values' type (f32 or f64)
  void* values = nullptr;    ///< the gradients end to end, then a 0/1 "had a gradient" flag each
  int64_t numel = 0;         ///< the number of values
  int world = 1;             ///< the number of ranks whose values are summed
};

/// The element type a communication hook's all-reduce sums on the wire.
enum class WireType {
  f16,  ///< IEEE half (2 bytes); each addition is done in f32 and rounded to half once
  f32,  ///< float (4 bytes)
  f64,  ///< double (8 bytes)
};

/// How DDP sends a bucket (PyTorch's register_comm_hook idea, as encode, sum, decode): DDP asks
/// the hook for the wire type, lets it encode the bucket's values into a wire buffer of numel
/// elements of that type, sums the wire buffers over the ranks, and lets it decode the sums
/// back into the bucket's values; DDP then divides by the world size. Called on the thread
/// running backward; encode and decode must keep a zero flag zero and a non-zero one non-zero.
class CommHook {
 public:
  virtual ~CommHook() = default;
  /// The type the bucket travels as.
  virtual WireType wire_type(const GradBucket& bucket) const = 0;
  /// Writes bucket.numel wire elements for the bucket's values to `wire`.
  virtual void encode(const GradBucket& bucket, void* wire) const = 0;
  /// Writes the values for the summed wire elements at `wire` into bucket.values.
  virtual void decode(const void* wire, GradBucket& bucket) const = 0;
};

/// The built-in compression hook (PyTorch's fp16_compress_hook): each value is divided by the
/// world size and rounded to IEEE half, the halves are summed (in f32, rounded to half after
/// each addition), and the sums are widened and multiplied back. Halves the bytes of f32
/// buckets (quarters f64's) at a relative error of about 2^-11 per value and addition;
/// magnitudes under 6e-8 after the division become 0 and above 65504 become infinite.
std::shared_ptr<const CommHook> fp16_compress_hook();

/// How DistributedDataParallel groups gradients (fields and defaults as PyTorch's DDP).
struct DDPOptions {
  double bucket_cap_mb = 25;      ///< gradients per all-reduce, in MiB (> 0)
  bool broadcast_buffers = true;  ///< re-broadcast rank 0's buffers before each synced forward
  /// How buckets travel; null sends the values as they are (the same on every rank).
  std::shared_ptr<const CommHook> comm_hook = nullptr;
  /// While a backward's buckets are in flight, a helper thread makes MPI move them every this
  /// many microseconds (OpenMPI advances a non-blocking collective only inside MPI calls); 0
  /// leaves it to the calls DDP makes anyway (one per parameter, then the final wait). >= 0.
  /// The thread inherits the constructing thread's CPU affinity: pin the computing thread to
  /// a core after constructing DDP, or the poller shares that one core and rarely runs.
  int progress_interval_us = 100;
};

/// Counters for profiling: how often and how long the backward waited for the reductions.
struct DDPStatistics {
  int64_t synchronized_backwards = 0;  ///< backward passes that averaged gradients
  int64_t bucket_reductions = 0;       ///< MPI_Iallreduce calls launched
  /// Time at the end of backward waiting for the buckets and the ranks' agreement on failures.
  double wait_seconds = 0;
  int64_t bytes_reduced = 0;  ///< bytes this rank handed to the all-reduces
};

/// Data-parallel training: every rank runs the same program on its own shard of each batch;
/// wrapping the model makes backward() leave on every rank the gradients averaged over all
/// ranks, so identical optimizer steps keep the replicas identical. Follows PyTorch's DDP:
///
/// - Construction broadcasts rank 0's parameters and buffers to every rank and checks that all
///   ranks hold the same parameter names, shapes and dtypes (tg::Error on every rank if not).
/// - Parameters are grouped, in reverse registration order (about the order backward finishes
///   them), into buckets of at most bucket_cap_mb of one dtype. When the last gradient of a
///   bucket is final in backward (a post-accumulate-grad hook), the bucket's MPI_Iallreduce is
///   launched while the backward walk goes on; buckets are launched in index order on every
///   rank, and a helper thread keeps them moving (DDPOptions::progress_interval_us). At the
///   end of that backward (an end-of-backward callback) the remaining buckets are launched,
///   all are waited for, and each gradient becomes the mean over the ranks.
/// - A parameter that got no gradient on this rank in this step (not used by the forward, and
///   no gradient accumulated earlier) counts as zeros in its bucket, so every rank runs the
///   same reductions. If some rank did produce one, the parameter's grad() becomes the
///   average with zeros from the others (what one process with the whole batch computes);
///   if no rank did, its grad() is left as it was (undefined after zero_grad()), so optimizers
///   skip it as they would in one process.
/// - Only a forward in training with grad mode on and outside no_sync() synchronises the
///   following backward; exactly one backward must follow such a forward on every rank.
/// - Failures: if the wrapped forward or the backward of its output throws on one rank, every
///   rank throws tg::Error "rank R failed in forward|backward: <message>" (from forward on
///   the failing rank, from backward() on the others): each step all-reduces a status word
///   after its buckets, so peers learn of the failure instead of waiting. The gradients are
///   then not averaged (zero_grad() before going on); the ranks stay in step, so training may
///   continue. A failure anywhere else (data loading, optimizer, I/O, inside no_sync()) is not
///   seen by the peers: let it end the job (tg::distributed::run, or the terminate handler
///   that init_process_group installs, reports the rank and calls MPI_Abort).
///
///     tg::distributed::init_process_group(&argc, &argv);
///     Net net;
///     tg::distributed::DistributedDataParallel ddp(net);
///     tg::optim::SGD sgd(ddp.parameters(), {.lr = 0.1});
///     for (auto [x, y] : loader) {   // loader with .num_replicas = world, .rank = rank
///       sgd.zero_grad();
///       tg::F::cross_entropy(ddp(x), y).backward();   // gradients averaged over ranks
///       sgd.step();
///     }
class DistributedDataParallel : public nn::Module {
 public:
  /// Wraps `module` (which must outlive this wrapper) and registers it as the submodule
  /// "module", so parameters() are the wrapped module's and named_parameters() read
  /// "module.fc1.weight" as in PyTorch. Needs init_process_group(); collective.
  explicit DistributedDataParallel(nn::Module& module, DDPOptions options = {});
  ~DistributedDataParallel() override;
  DistributedDataParallel(DistributedDataParallel&&) = delete;
  DistributedDataParallel& operator=(DistributedDataParallel&&) = delete;

  /// The wrapped module's forward; in training with grad mode on (and outside no_sync) it
  /// prepares the next backward to average gradients.
  Tensor forward(const Tensor& input) override;

  /// The wrapped module.
  nn::Module& module() { return module_; }

  /// RAII scope in which backward passes only accumulate gradients locally (no communication);
  /// the first synchronised backward after it averages the accumulated sums, so k backward
  /// passes in no_sync plus one outside equal one pass over all k + 1 batches (for losses
  /// that are sums, or means scaled by 1 / (k + 1)).
  class NoSyncGuard {
   public:
    explicit NoSyncGuard(DistributedDataParallel& ddp);
    ~NoSyncGuard();
    NoSyncGuard(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(const NoSyncGuard&) = delete;

   private:
    DistributedDataParallel& ddp_;
    bool previous_;
  };
  /// Disables gradient synchronisation until the returned guard is destroyed.
  [[nodiscard]] NoSyncGuard no_sync() { return NoSyncGuard(*this); }

  /// The number of buckets.
  size_t bucket_count() const;
  /// The parameter indices (into parameters()) in bucket `bucket`, in reduction order.
  std::vector<size_t> bucket_parameters(size_t bucket) const;
  /// Calls `observer(bucket)` as each bucket's reduction is launched (tests, profiling).
  void set_bucket_observer(std::function<void(size_t bucket)> observer);
  /// Counters since construction.
  DDPStatistics statistics() const;

  struct State;  ///< the buckets, requests and per-step bookkeeping (private)

 private:
  nn::Module& module_;
  std::unique_ptr<State> state_;
};

}  // namespace tg::distributed
