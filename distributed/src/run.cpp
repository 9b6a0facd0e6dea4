// run and abort_job: a failure outside the collectives ends every rank of the job, named.
#include "tapegrad/distributed/run.hpp"

#include <mpi.h>

#include <cstdio>
#include <exception>

#include "tapegrad/distributed/process_group.hpp"

namespace tg::distributed {

void abort_job(const char* message) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int rank = -1, size = 0;
  if (initialized && !finalized) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  std::fprintf(stderr, "tapegrad: rank %d of %d failed: %s\n", rank, size, message);
  std::fflush(stderr);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

int run(const std::function<int()>& main_function) {
  try {
    const int status = main_function();
    // A program that returns run(...) from main is complete as written: MPI is finalised here
    // (OpenMPI reports a rank that exits without MPI_Finalize as "exited improperly" and fails
    // the job). Idempotent, so a destroy_process_group() of the program's own is harmless.
    destroy_process_group();
    return status;
  } catch (const std::exception& error) {
    abort_job(error.what());
  } catch (...) {
    abort_job("an exception of unknown type");
  }
}

}  // namespace tg::distributed
