// The process group: MPI start-up and shutdown, rank and size, all_reduce and broadcast.
#include "tapegrad/distributed/process_group.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <exception>
#include <vector>

#include "communicator.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/serialize.hpp"
#include "tapegrad/distributed/run.hpp"

namespace tg::distributed {
namespace {

MPI_Comm group = MPI_COMM_NULL;
bool we_started_mpi = false;
bool destroyed = false;

// An uncaught exception on one rank ends the job instead of leaving the others in a collective.
[[noreturn]] void terminate_job() {
  std::string message = "terminate called without an active exception";
  if (std::exception_ptr current = std::current_exception()) {
    try {
      std::rethrow_exception(current);
    } catch (const std::exception& error) {
      message = fmt::format("uncaught exception: {}", error.what());
    } catch (...) {
      message = "uncaught exception of unknown type";
    }
  }
  abort_job(message.c_str());
}

// Applies `reduce` to at most INT_MAX elements at a time (MPI counts are ints).
template <class Reduce>
void in_chunks(int64_t numel, size_t element_bytes, void* data, Reduce reduce) {
  char* bytes = static_cast<char*>(data);
  for (int64_t start = 0; start < numel; start += INT_MAX) {
    const int count = static_cast<int>(std::min<int64_t>(INT_MAX, numel - start));
    reduce(bytes + static_cast<size_t>(start) * element_bytes, count);
  }
}

void check_tensor(const Tensor& tensor, const char* op) {
  if (!tensor.defined()) throw Error(fmt::format("{}: the tensor is undefined", op));
}

}  // namespace

namespace detail {

std::recursive_mutex& mpi_lock() {
  static std::recursive_mutex lock;
  return lock;
}

MPI_Comm communicator(const char* op) {
  if (group == MPI_COMM_NULL)
    throw Error(fmt::format(
        "{}: the process group is not initialised; call tg::distributed::init_process_group() "
        "first (and start the program with mpirun)",
        op));
  return group;
}

void check(int result, const char* op) {
  if (result == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(result, text, &length);
  throw Error(fmt::format("{}: MPI error: {}", op, std::string(text, static_cast<size_t>(length))));
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return MPI_FLOAT;
    case DType::f64:
      return MPI_DOUBLE;
    case DType::i64:
      return MPI_INT64_T;
  }
  throw Error("tg::distributed: unsupported dtype");
}

std::optional<std::pair<int, std::string>> agree_on_failure(
    const std::optional<std::string>& local_failure, const char* op) {
  const std::lock_guard hold(mpi_lock());
  MPI_Comm comm = communicator(op);
  int rank = 0, size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int failing = local_failure ? rank : size;
  check(MPI_Allreduce(MPI_IN_PLACE, &failing, 1, MPI_INT, MPI_MIN, comm), op);
  if (failing == size) return std::nullopt;
  std::string message = failing == rank ? *local_failure : std::string();
  int length = static_cast<int>(std::min<size_t>(message.size(), 4096));
  check(MPI_Bcast(&length, 1, MPI_INT, failing, comm), op);
  message.resize(static_cast<size_t>(length));
  check(MPI_Bcast(message.data(), length, MPI_CHAR, failing, comm), op);
  return std::make_pair(failing, message);
}

}  // namespace detail

void init_process_group(int* argc, char*** argv) {
  if (group != MPI_COMM_NULL) return;
  if (destroyed)
    throw Error(
        "init_process_group: the process group was destroyed and MPI cannot be started twice in "
        "one process");
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // Serialized: backward (and so the reductions) may run on any one thread at a time.
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
      throw Error("init_process_group: MPI_Init_thread failed");
    we_started_mpi = true;
  }
  MPI_Comm comm = MPI_COMM_NULL;
  detail::check(MPI_Comm_dup(MPI_COMM_WORLD, &comm), "init_process_group");
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  group = comm;
  std::set_terminate(terminate_job);
}

bool is_initialized() { return group != MPI_COMM_NULL; }

int get_rank() {
  const std::lock_guard hold(detail::mpi_lock());
  int rank = 0;
  detail::check(MPI_Comm_rank(detail::communicator("get_rank"), &rank), "get_rank");
  return rank;
}

int get_world_size() {
  const std::lock_guard hold(detail::mpi_lock());
  int size = 0;
  detail::check(MPI_Comm_size(detail::communicator("get_world_size"), &size), "get_world_size");
  return size;
}

void barrier() {
  const std::lock_guard hold(detail::mpi_lock());
  detail::check(MPI_Barrier(detail::communicator("barrier")), "barrier");
}

void destroy_process_group() {
  if (group == MPI_COMM_NULL) return;
  MPI_Comm_free(&group);
  group = MPI_COMM_NULL;
  destroyed = true;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (we_started_mpi && !finalized) MPI_Finalize();
}

void all_reduce(Tensor& tensor, ReduceOp op) {
  const std::lock_guard hold(detail::mpi_lock());
  MPI_Comm comm = detail::communicator("all_reduce");
  check_tensor(tensor, "all_reduce");
  if (op == ReduceOp::mean && tensor.dtype() == DType::i64)
    throw Error(
        fmt::format("all_reduce: ReduceOp::mean needs a floating tensor, got i64 of shape {}",
                    format_shape(tensor.shape())));
  const MPI_Op mpi_op = op == ReduceOp::max ? MPI_MAX : op == ReduceOp::min ? MPI_MIN : MPI_SUM;
  const MPI_Datatype type = detail::mpi_type(tensor.dtype());
  in_chunks(tensor.numel(), static_cast<size_t>(element_size(tensor.dtype())),
            raw_bytes(tensor).data(), [&](void* data, int count) {
              detail::check(MPI_Allreduce(MPI_IN_PLACE, data, count, type, mpi_op, comm),
                            "all_reduce");
            });
  if (op == ReduceOp::mean) {
    NoGradGuard no_grad;
    tensor.copy_(tensor / static_cast<double>(get_world_size()));
  }
}

void broadcast(Tensor& tensor, int root) {
  const std::lock_guard hold(detail::mpi_lock());
  MPI_Comm comm = detail::communicator("broadcast");
  check_tensor(tensor, "broadcast");
  const int size = get_world_size();
  if (root < 0 || root >= size)
    throw Error(fmt::format("broadcast: root {} is not a rank of a group of {}", root, size));
  const MPI_Datatype type = detail::mpi_type(tensor.dtype());
  in_chunks(tensor.numel(), static_cast<size_t>(element_size(tensor.dtype())),
            raw_bytes(tensor).data(), [&](void* data, int count) {
              detail::check(MPI_Bcast(data, count, type, root, comm), "broadcast");
            });
}

}  // namespace tg::distributed
