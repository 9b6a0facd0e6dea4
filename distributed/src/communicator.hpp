// The process group's MPI communicator and the helpers the collectives and DDP share.
#pragma once

#include <mpi.h>

#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "tapegrad/autograd/dtype.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::distributed::detail {

/// The group's communicator (a duplicate of MPI_COMM_WORLD, errors returned, not fatal);
/// throws tg::Error naming `op` before init_process_group.
MPI_Comm communicator(const char* op);

/// Held around every MPI call of the process group and of DDP: DDP's progress thread calls MPI
/// while backward runs, and MPI_THREAD_SERIALIZED allows one caller at a time (recursive, as a
/// bucket observer or a hook may call a collective while DDP holds it).
std::recursive_mutex& mpi_lock();

/// Throws tg::Error "<op>: MPI error: <MPI's text>" unless `result` is MPI_SUCCESS.
void check(int result, const char* op);

/// The MPI datatype of a tapegrad dtype.
MPI_Datatype mpi_type(DType dtype);

/// The MPI sum of IEEE halves (MPI_UINT16_T bit patterns), each addition in f32.
MPI_Op half_sum();

/// Collective: every rank passes its own failure message (or none) and learns the lowest
/// failing rank and that rank's message, or nullopt when no rank failed.
std::optional<std::pair<int, std::string>> agree_on_failure(
    const std::optional<std::string>& local_failure, const char* op);

}  // namespace tg::distributed::detail
