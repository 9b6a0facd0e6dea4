// DistributedDataParallel: buckets of gradients all-reduced while backward runs, then averaged.
#include "tapegrad/distributed/ddp.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "communicator.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/function.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/hooks.hpp"
#include "tapegrad/distributed/process_group.hpp"

namespace tg::distributed {
namespace {

// One all-reduce: the gradients of some parameters of one dtype, laid end to end, followed by
// one "this rank had a gradient" flag per parameter.
struct Bucket {
  DType dtype = DType::f32;
  std::vector<size_t> parameters;  // indices into the parameter list, in reduction order
  std::vector<int64_t> offsets;    // where each parameter's gradient starts in the buffer
  int64_t gradient_numel = 0;      // the flags start here
  std::vector<unsigned char> buffer;
  std::vector<unsigned char> wire;  // the hook's encoding of the buffer (with a hook only)
  size_t pending = 0;               // parameters whose gradient is not final yet in this step
  bool launched = false;
  MPI_Request request = MPI_REQUEST_NULL;
};

template <class T>
T* elements(Bucket& bucket) {
  return reinterpret_cast<T*>(bucket.buffer.data());
}

std::string message_of(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& error) {
    return error.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

std::string describe(const std::string& name, const Tensor& t) {
  return fmt::format("'{}' {} {}", name, dtype_name(t.dtype()), format_shape(t.shape()));
}

}  // namespace

struct DistributedDataParallel::State {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int world = 1;
  std::vector<Tensor> parameters;
  std::vector<Tensor> buffers;
  bool broadcast_buffers = true;
  std::shared_ptr<const CommHook> hook;
  std::vector<Bucket> buckets;
  std::vector<size_t> bucket_of;  // per parameter
  std::vector<bool> ready;        // per parameter: final in this step
  std::vector<uint64_t> hook_ids;
  size_t next_launch = 0;
  bool sync_enabled = true;
  bool armed = false;  // the next backward averages
  bool finalize_queued = false;
  // What each step's output marker holds (its context's payload): this state, or null once the
  // wrapper is destroyed while a graph it made is still alive.
  struct Anchor {
    State* state = nullptr;
  };
  std::shared_ptr<Anchor> anchor = std::make_shared<Anchor>(Anchor{this});
  std::function<void(size_t)> observer;
  DDPStatistics statistics;
  // OpenMPI moves a non-blocking collective forward only inside MPI calls, and a backward makes
  // few (one per parameter, each after a long matrix product), so without help the bytes move
  // in the final wait. While buckets are in flight, the poller tests them every interval.
  // `polling`, `stopping`, `progress_error`, the requests and next_launch are guarded by
  // detail::mpi_lock(), which every MPI call here holds (MPI_THREAD_SERIALIZED).
  std::chrono::microseconds poll_interval{0};
  std::thread poller;
  std::condition_variable_any wake;
  bool polling = false;
  bool stopping = false;
  int progress_error = MPI_SUCCESS;

  void poll_loop() {
    std::unique_lock lock(detail::mpi_lock());
    while (!stopping) {
      if (!polling) {
        wake.wait(lock);
        continue;
      }
      const int result = test_launched();
      if (result != MPI_SUCCESS) {
        progress_error = result;  // reported by the final wait; stop touching the requests
        polling = false;
        continue;
      }
      lock.unlock();
      std::this_thread::sleep_for(poll_interval);
      lock.lock();
    }
  }

  // One MPI_Test per launched, unfinished bucket: each moves its all-reduce as far as it can.
  // When every bucket is launched and done, the poller has nothing left to drive.
  int test_launched() {
    int flag = 0;
    bool outstanding = next_launch < buckets.size();
    for (size_t b = 0; b < next_launch; ++b)
      if (buckets[b].request != MPI_REQUEST_NULL) {
        const int result = MPI_Test(&buckets[b].request, &flag, MPI_STATUS_IGNORE);
        if (result != MPI_SUCCESS) return result;
        outstanding = outstanding || buckets[b].request != MPI_REQUEST_NULL;
      }
    if (!outstanding) polling = false;
    return MPI_SUCCESS;
  }

  void arm() {
    const std::lock_guard hold(detail::mpi_lock());
    polling = false;
    for (Bucket& bucket : buckets) {
      bucket.pending = bucket.parameters.size();
      bucket.launched = false;
      bucket.request = MPI_REQUEST_NULL;
    }
    std::fill(ready.begin(), ready.end(), false);
    next_launch = 0;
    finalize_queued = false;
    armed = true;
  }

  // Copies the bucket's gradients (zeros and flag 0 where there is none, or all zeros for a
  // failed step) into its buffer.
  void fill(Bucket& bucket, bool failed) {
    std::memset(bucket.buffer.data(), 0, bucket.buffer.size());
    if (failed) return;
    auto copy = [&]<class T>() {
      T* data = elements<T>(bucket);
      for (size_t i = 0; i < bucket.parameters.size(); ++i) {
        const Tensor grad = parameters[bucket.parameters[i]].grad();
        if (!grad.defined()) continue;
        const Tensor same_type = grad.dtype() == bucket.dtype ? grad : grad.to(bucket.dtype);
        std::memcpy(data + bucket.offsets[i], same_type.data<T>(),
                    static_cast<size_t>(same_type.numel()) * sizeof(T));
        data[bucket.gradient_numel + static_cast<int64_t>(i)] = T(1);
      }
    };
    if (bucket.dtype == DType::f64)
      copy.template operator()<double>();
    else
      copy.template operator()<float>();
  }

  void launch(size_t index, bool failed) {
    Bucket& bucket = buckets[index];
    fill(bucket, failed);
    const int count =
        static_cast<int>(bucket.gradient_numel) + static_cast<int>(bucket.parameters.size());
    void* data = bucket.buffer.data();
    MPI_Datatype type = detail::mpi_type(bucket.dtype);
    MPI_Op op = MPI_SUM;
    size_t element_bytes = static_cast<size_t>(element_size(bucket.dtype));
    if (hook) {
      const GradBucket view = view_of(index);
      const WireType wire_type = hook->wire_type(view);
      element_bytes = wire_type == WireType::f16 ? 2 : wire_type == WireType::f32 ? 4 : 8;
      type = wire_type == WireType::f16   ? MPI_UINT16_T
             : wire_type == WireType::f32 ? MPI_FLOAT
                                          : MPI_DOUBLE;
      if (wire_type == WireType::f16) op = detail::half_sum();
      bucket.wire.resize(static_cast<size_t>(count) * element_bytes);
      hook->encode(view, bucket.wire.data());
      data = bucket.wire.data();
    }
    detail::check(MPI_Iallreduce(MPI_IN_PLACE, data, count, type, op, comm, &bucket.request),
                  "DistributedDataParallel: all-reduce of a gradient bucket");
    statistics.bytes_reduced += static_cast<int64_t>(static_cast<size_t>(count) * element_bytes);
    bucket.launched = true;
    if (poller.joinable() && !polling) {
      polling = true;
      wake.notify_one();
    }
    ++statistics.bucket_reductions;
    if (observer) observer(index);
  }

  // The bucket as a communication hook sees it.
  GradBucket view_of(size_t index) {
    Bucket& bucket = buckets[index];
    return GradBucket{
        .index = index,
        .dtype = bucket.dtype,
        .values = bucket.buffer.data(),
        .numel = bucket.gradient_numel + static_cast<int64_t>(bucket.parameters.size()),
        .world = world};
  }

  // Launches, in index order (the same on every rank), each bucket whose gradients are final.
  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0)
      launch(next_launch++, false);
  }

  void queue_finalize() {
    if (finalize_queued) return;
    finalize_queued = true;
    autograd::queue_callback([this](std::exception_ptr failure) { finalize(failure); });
  }

  void on_ready(size_t parameter) {
    if (!armed || ready[parameter]) return;
    const std::lock_guard hold(detail::mpi_lock());
    ready[parameter] = true;
    queue_finalize();
    --buckets[bucket_of[parameter]].pending;
    launch_ready();
    // MPI progresses non-blocking collectives only inside MPI calls: give it one (an error
    // shows again in the final wait).
    test_launched();
  }

  // Launches what is left (zeros where nothing came), waits for every bucket, and agrees with
  // the other ranks on whether any failed.
  std::optional<std::pair<int, std::string>> complete(std::optional<std::string> failure) {
    const std::lock_guard hold(detail::mpi_lock());
    while (next_launch < buckets.size()) launch(next_launch++, failure.has_value());
    polling = false;  // this thread drives MPI from here on (launch turned the poller on)
    std::vector<MPI_Request> requests;
    for (Bucket& bucket : buckets) requests.push_back(bucket.request);
    double start = MPI_Wtime();
    // MPI_Waitall would spin on this core until the slowest rank arrives; testing and yielding
    // instead lets whatever else wants the core run meanwhile (on a loaded machine, the work
    // that delays the other ranks), at no cost when nothing else is runnable.
    int result = MPI_SUCCESS, done = 0;
    while (result == MPI_SUCCESS && !done) {
      result = MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done,
                           MPI_STATUSES_IGNORE);
      if (!done) sched_yield();
    }
    statistics.wait_seconds += MPI_Wtime() - start;
    for (Bucket& bucket : buckets) bucket.request = MPI_REQUEST_NULL;
    if (result == MPI_SUCCESS) std::swap(result, progress_error);
    detail::check(result, "DistributedDataParallel: waiting for the gradient buckets");
    if (hook)
      for (size_t b = 0; b < buckets.size(); ++b) {
        GradBucket view = view_of(b);
        hook->decode(buckets[b].wire.data(), view);
      }
    // Waiting too: a rank that is behind (descheduled, say) holds the others here.
    start = MPI_Wtime();
    auto agreed = detail::agree_on_failure(failure, "DistributedDataParallel");
    statistics.wait_seconds += MPI_Wtime() - start;
    return agreed;
  }

  [[noreturn]] void throw_failure(const std::pair<int, std::string>& failed) {
    throw Error(fmt::format("DistributedDataParallel: rank {} of {} failed in {}", failed.first,
                            world, failed.second));
  }

  // The step's failure on this rank (in its forward or in backward): join the collectives the
  // others run (the buckets already launched keep their data, the rest go out as zeros), then
  // throw the same error everywhere. Called only in an armed step.
  [[noreturn]] void fail_step(const std::string& failure) {
    armed = false;
    const auto failed = complete(failure);
    throw_failure(failed ? *failed : std::make_pair(rank, failure));
  }

  void finalize(std::exception_ptr failure) {
    if (!armed) return;
    armed = false;
    finalize_queued = false;
    if (failure) fail_step(fmt::format("backward: {}", message_of(failure)));
    if (const auto failed = complete(std::nullopt)) throw_failure(*failed);
    average();
    ++statistics.synchronized_backwards;
  }

  // Writes each bucket's sums, divided by the world size, back into the gradients.
  void average() {
    for (Bucket& bucket : buckets) {
      auto write = [&]<class T>() {
        const T* data = elements<T>(bucket);
        for (size_t i = 0; i < bucket.parameters.size(); ++i) {
          if (data[bucket.gradient_numel + static_cast<int64_t>(i)] == T(0)) continue;
          Tensor& parameter = parameters[bucket.parameters[i]];
          Tensor& grad = parameter.mutable_grad();
          if (!grad.defined() || grad.dtype() != bucket.dtype || grad.numel() != parameter.numel())
            grad = zeros(parameter.shape(), {.dtype = bucket.dtype});
          T* out = grad.data<T>();
          const T* sum = data + bucket.offsets[i];
          const T ranks = static_cast<T>(world);
          for (int64_t k = 0, n = parameter.numel(); k < n; ++k) out[k] = sum[k] / ranks;
        }
      };
      if (bucket.dtype == DType::f64)
        write.template operator()<double>();
      else
        write.template operator()<float>();
    }
  }
};

namespace {

// Identity on the wrapped module's output whose backward queues the end-of-backward step, so a
// failure anywhere in the module's backward still reaches the other ranks.
struct OutputMarker : autograd::Function<OutputMarker> {
  static constexpr const char* name = "ddp_output";
  using Anchor = DistributedDataParallel::State::Anchor;
  static Tensor forward(autograd::AutogradContext* context, const Tensor& output,
                        std::shared_ptr<Anchor> anchor) {
    context->set_payload(std::move(anchor));
    return output;
  }
  static std::vector<Tensor> backward(autograd::AutogradContext* context,
                                      std::vector<Tensor> grad_outputs) {
    DistributedDataParallel::State* state = context->payload<Anchor>().state;
    if (state != nullptr && state->armed) state->queue_finalize();
    return {grad_outputs[0]};  // d(output)/d(output) = 1
  }
};

// Every rank learns whether some rank's parameters differ from rank 0's, and which.
void check_same_parameters(const nn::Module::NamedTensors& named, MPI_Comm comm, int rank) {
  std::string signature;
  for (const auto& [name, tensor] : named) signature += describe(name, tensor) + "\n";
  int length = static_cast<int>(signature.size());
  detail::check(MPI_Bcast(&length, 1, MPI_INT, 0, comm), "DistributedDataParallel");
  std::string root_signature = signature;
  root_signature.resize(static_cast<size_t>(length));
  detail::check(MPI_Bcast(root_signature.data(), length, MPI_CHAR, 0, comm),
                "DistributedDataParallel");
  std::optional<std::string> mismatch;
  if (root_signature != signature) {
    std::vector<std::string> mine, root;
    auto split = [](const std::string& text, std::vector<std::string>& lines) {
      size_t start = 0;
      for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        lines.push_back(text.substr(start, end - start));
    };
    split(signature, mine);
    split(root_signature, root);
    size_t i = 0;
    while (i < mine.size() && i < root.size() && mine[i] == root[i]) ++i;
    mismatch = fmt::format("parameter {}: {} on rank {} but {} on rank 0", i,
                           i < mine.size() ? mine[i] : std::string("(none)"), rank,
                           i < root.size() ? root[i] : std::string("(none)"));
  }
  if (const auto failed = detail::agree_on_failure(mismatch, "DistributedDataParallel"))
    throw Error(
        fmt::format("DistributedDataParallel: the ranks' parameters differ: {}", failed->second));
}

}  // namespace

DistributedDataParallel::DistributedDataParallel(nn::Module& module, DDPOptions options)
    : module_(module), state_(std::make_unique<State>()) {
  if (!(options.bucket_cap_mb > 0) || !std::isfinite(options.bucket_cap_mb))
    throw Error(fmt::format("DistributedDataParallel: bucket_cap_mb must be > 0, got {}",
                            options.bucket_cap_mb));
  if (options.progress_interval_us < 0)
    throw Error(fmt::format("DistributedDataParallel: progress_interval_us must be >= 0, got {}",
                            options.progress_interval_us));
  State& s = *state_;
  s.comm = detail::communicator("DistributedDataParallel");
  s.rank = get_rank();
  s.world = get_world_size();
  register_module_reference("module", module);
  s.parameters = module.parameters();
  s.buffers = module.buffers();
  s.broadcast_buffers = options.broadcast_buffers;
  s.hook = options.comm_hook;
  check_same_parameters(module.named_parameters(), s.comm, s.rank);
  for (Tensor& parameter : s.parameters) broadcast(parameter, 0);
  for (Tensor& buffer : s.buffers) broadcast(buffer, 0);

  // Reverse registration order: the last layers' gradients are final first in backward.
  const double cap_bytes = options.bucket_cap_mb * 1024.0 * 1024.0;
  s.bucket_of.resize(s.parameters.size());
  double bucket_bytes = 0;
  for (size_t p = s.parameters.size(); p-- > 0;) {
    const Tensor& parameter = s.parameters[p];
    const double bytes = static_cast<double>(parameter.numel() * element_size(parameter.dtype()));
    if (s.buckets.empty() || s.buckets.back().dtype != parameter.dtype() ||
        bucket_bytes + bytes > cap_bytes) {
      s.buckets.emplace_back();
      s.buckets.back().dtype = parameter.dtype();
      bucket_bytes = 0;
    }
    Bucket& bucket = s.buckets.back();
    bucket.parameters.push_back(p);
    bucket.offsets.push_back(bucket.gradient_numel);
    bucket.gradient_numel += parameter.numel();
    bucket_bytes += bytes;
    s.bucket_of[p] = s.buckets.size() - 1;
  }
  for (Bucket& bucket : s.buckets) {
    const auto slots = static_cast<size_t>(bucket.gradient_numel) + bucket.parameters.size();
    if (slots > static_cast<size_t>(INT32_MAX))
      throw Error(
          fmt::format("DistributedDataParallel: a bucket of {} elements is too large for "
                      "one MPI call; lower bucket_cap_mb",
                      slots));
    bucket.buffer.resize(slots * static_cast<size_t>(element_size(bucket.dtype)));
  }
  s.ready.assign(s.parameters.size(), false);
  for (size_t p = 0; p < s.parameters.size(); ++p)
    s.hook_ids.push_back(autograd::register_post_accumulate_grad_hook(
        s.parameters[p], [state = &s, p](const Tensor&) { state->on_ready(p); }));
  if (options.progress_interval_us > 0 && s.world > 1) {
    s.poll_interval = std::chrono::microseconds(options.progress_interval_us);
    s.poller = std::thread([state = &s] { state->poll_loop(); });
  }
}

DistributedDataParallel::~DistributedDataParallel() {
  state_->anchor->state = nullptr;  // a graph that outlives the wrapper no longer reaches it
  for (size_t p = 0; p < state_->parameters.size(); ++p)
    autograd::remove_post_accumulate_grad_hook(state_->parameters[p], state_->hook_ids[p]);
  if (state_->poller.joinable()) {
    {
      const std::lock_guard hold(detail::mpi_lock());
      state_->stopping = true;
      state_->wake.notify_one();
    }
    state_->poller.join();
  }
  const std::lock_guard hold(detail::mpi_lock());
  for (Bucket& bucket : state_->buckets)
    if (bucket.request != MPI_REQUEST_NULL) MPI_Wait(&bucket.request, MPI_STATUS_IGNORE);
}

Tensor DistributedDataParallel::forward(const Tensor& input) {
  State& s = *state_;
  if (!s.sync_enabled || !is_grad_enabled()) return module_.forward(input);
  if (s.broadcast_buffers)
    for (Tensor& buffer : s.buffers) broadcast(buffer, 0);
  s.arm();
  Tensor output;
  try {
    output = module_.forward(input);
  } catch (const std::exception& error) {
    s.fail_step(fmt::format("forward: {}", error.what()));
  } catch (...) {
    s.fail_step("forward: an exception of unknown type");
  }
  if (!output.defined() || !output.requires_grad()) return output;
  return OutputMarker::apply(output, s.anchor);
}

DistributedDataParallel::NoSyncGuard::NoSyncGuard(DistributedDataParallel& ddp)
    : ddp_(ddp), previous_(ddp.state_->sync_enabled) {
  ddp_.state_->sync_enabled = false;
}

DistributedDataParallel::NoSyncGuard::~NoSyncGuard() { ddp_.state_->sync_enabled = previous_; }

size_t DistributedDataParallel::bucket_count() const { return state_->buckets.size(); }

std::vector<size_t> DistributedDataParallel::bucket_parameters(size_t bucket) const {
  if (bucket >= state_->buckets.size())
    throw Error(fmt::format("DistributedDataParallel::bucket_parameters: bucket {} of {}", bucket,
                            state_->buckets.size()));
  return state_->buckets[bucket].parameters;
}

void DistributedDataParallel::set_bucket_observer(std::function<void(size_t bucket)> observer) {
  state_->observer = std::move(observer);
}

DDPStatistics DistributedDataParallel::statistics() const { return state_->statistics; }

}  // namespace tg::distributed
