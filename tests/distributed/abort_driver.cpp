// A program whose last rank fails outside any DDP step, for the "whole job ends" test: with
// "run" the exception escapes tg::distributed::run, with "terminate" it escapes main.
#include <stdexcept>
#include <string>
#include <tapegrad/distributed.hpp>

namespace dist = tg::distributed;

namespace {

int train() {
  if (dist::get_rank() == dist::get_world_size() - 1)
    throw std::runtime_error("the data file is missing");
  dist::barrier();  // the other ranks wait here for a rank that will never come
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dist::init_process_group(&argc, &argv);
  const std::string mode = argc > 1 ? argv[1] : "run";
  const int status = mode == "run" ? dist::run(train) : train();
  dist::destroy_process_group();
  return status;
}
