// tg::nn::summary's table, line by line, for a Sequential and a user module, with and without
// output shapes; and that a summary leaves the model as it found it.
#include <sstream>
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

using tg::testing::lines;

namespace {

tg::nn::Sequential small_sequential() {
  return tg::nn::Sequential(tg::nn::Linear(4, 3), tg::nn::BatchNorm1d(3), tg::nn::ReLU(),
                            tg::nn::Linear(3, 2));
}

// A user module: a registered Linear, a nested Sequential and a parameter of its own.
struct Net : tg::nn::Module {
  tg::nn::Linear& fc1 = register_module("fc1", tg::nn::Linear(4, 3));
  tg::nn::Sequential& head =
      register_module("head", tg::nn::Sequential(tg::nn::ReLU(), tg::nn::Linear(3, 2)));
  tg::Tensor scale = register_parameter("scale", tg::ones({2}));
  tg::Tensor forward(const tg::Tensor& x) override { return head(fc1(x)) * scale; }
};

// Calls its layer's forward directly, so summary cannot see that layer's output.
struct Opaque : tg::nn::Module {
  tg::nn::Linear& fc = register_module("fc", tg::nn::Linear(2, 2));
  tg::Tensor forward(const tg::Tensor& x) override { return fc.forward(x); }
};

}  // namespace

TEST_CASE("summary of a Sequential lists each layer, the totals and the parameter memory") {
  const tg::nn::Sequential model = small_sequential();
  // 4·3 + 3 = 15, 3 + 3 = 6, 0, 3·2 + 2 = 8: 29 f32 parameters, 116 bytes
  CHECK(lines(tg::nn::summary(model)) == std::vector<std::string>{
                                             "Layer  Type         Params",
                                             "--------------------------",
                                             "0      Linear           15",
                                             "1      BatchNorm1d       6",
                                             "2      ReLU              0",
                                             "3      Linear            8",
                                             "--------------------------",
                                             "Total params: 29",
                                             "Trainable params: 29",
                                             "Parameter memory: 116 B (116 bytes)",
                                         });
}

TEST_CASE("summary with an input shape adds each layer's output shape") {
  tg::nn::Sequential model = small_sequential();
  CHECK(lines(tg::nn::summary(model, {5, 4})) == std::vector<std::string>{
                                                     "Layer  Type         Output shape  Params",
                                                     "----------------------------------------",
                                                     "0      Linear       [5, 3]            15",
                                                     "1      BatchNorm1d  [5, 3]             6",
                                                     "2      ReLU         [5, 3]             0",
                                                     "3      Linear       [5, 2]             8",
                                                     "----------------------------------------",
                                                     "Total params: 29",
                                                     "Trainable params: 29",
                                                     "Parameter memory: 116 B (116 bytes)",
                                                 });
  SUBCASE("the model comes back as it was: flags, running estimates, no gradients") {
    model[1].eval();
    tg::nn::summary(model, {5, 4});
    CHECK(model.is_training());
    CHECK(model[0].is_training());
    CHECK(!model[1].is_training());
    auto& norm = model.at<tg::nn::BatchNorm1d>(1);
    CHECK(norm.num_batches_tracked.item() == 0);
    TG_CHECK_VALUES(norm.running_mean, {0, 0, 0});
    CHECK(!model[0].parameters()[0].grad().defined());
  }
}

TEST_CASE("summary of a user module: nested names, its own parameters, trainable count") {
  Net net;
  net.fc1.bias.set_requires_grad(false);
  // fc1 15, head.1 8, own scale 2: 25 parameters, 22 trainable (fc1.bias frozen), 100 bytes
  CHECK(lines(tg::nn::summary(net)) == std::vector<std::string>{
                                           "Layer   Type        Params",
                                           "--------------------------",
                                           "fc1     Linear          15",
                                           "head    Sequential       0",
                                           "head.0  ReLU             0",
                                           "head.1  Linear           8",
                                           "(own)   Net              2",
                                           "--------------------------",
                                           "Total params: 25",
                                           "Trainable params: 22",
                                           "Parameter memory: 100 B (100 bytes)",
                                       });
  CHECK(lines(tg::nn::summary(net, {2, 4})) == std::vector<std::string>{
                                                   "Layer   Type        Output shape  Params",
                                                   "----------------------------------------",
                                                   "fc1     Linear      [2, 3]            15",
                                                   "head    Sequential  [2, 2]             0",
                                                   "head.0  ReLU        [2, 3]             0",
                                                   "head.1  Linear      [2, 2]             8",
                                                   "(own)   Net         [2, 2]             2",
                                                   "----------------------------------------",
                                                   "Total params: 25",
                                                   "Trainable params: 22",
                                                   "Parameter memory: 100 B (100 bytes)",
                                               });
}

TEST_CASE("summary shows '-' for a layer called through .forward and counts f64 and large sizes") {
  Opaque opaque;
  CHECK(lines(tg::nn::summary(opaque, {1, 2}))[2] == "fc     Linear  -                  6");
  tg::nn::Linear wide(784, 256);  // 200,960 f32 parameters: 803,840 bytes = 785.0 KiB
  CHECK(lines(tg::nn::summary(wide)).back() == "Parameter memory: 785.0 KiB (803,840 bytes)");
  CHECK(lines(tg::nn::summary(wide))[4] == "Total params: 200,960");  // after the "(own)" row
  wide.to(tg::f64);
  CHECK(lines(tg::nn::summary(wide)).back() == "Parameter memory: 1.5 MiB (1,607,680 bytes)");
}

TEST_CASE("summary propagates the error of a forward that rejects the input shape") {
  tg::nn::Sequential model = small_sequential();
  TG_CHECK_ERROR(tg::nn::summary(model, {5, 7}), "Linear", "[5, 7]");
  CHECK(model.is_training());
}
