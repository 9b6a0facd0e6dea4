// Writes a small model with hand-set f32 and f64 parameters to argv[1], for read_safetensors.py.
#include <cstdio>
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

namespace {

struct Model : tg::nn::Module {
  tg::nn::Linear& fc1 = register_module("fc1", tg::nn::Linear(2, 3));
  tg::nn::Linear& fc2 = register_module("fc2", tg::nn::Linear(3, 1, false));
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s out.safetensors\n", argv[0]);
    return 2;
  }
  Model model;
  model.fc2.to(tg::f64);
  model.fc1.weight.copy_(tg::tensor({1, 2, 3, 4, 5, 6}, {3, 2}));  // sum 21
  model.fc1.bias.copy_(tg::tensor({0.5, -1, 0.25}));               // sum −0.25
  model.fc2.weight.copy_(tg::tensor({0.125, -2, 4}, {1, 3}));      // sum 2.125
  tg::nn::save(model, argv[1]);
  return 0;
}
