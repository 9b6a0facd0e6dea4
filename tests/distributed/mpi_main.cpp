// The doctest entry point of the MPI tests: every rank of the mpirun job runs every test case.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <tapegrad/distributed.hpp>

int main(int argc, char** argv) {
  tg::distributed::init_process_group(&argc, &argv);
  doctest::Context context(argc, argv);
  const int failures = context.run();
  // A rank whose checks failed must not leave the others in a collective: end the job.
  if (failures != 0) tg::distributed::abort_job("doctest reported failures");
  tg::distributed::destroy_process_group();
  return 0;
}
