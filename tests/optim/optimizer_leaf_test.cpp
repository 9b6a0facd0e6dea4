// Optimizers refuse a parameter that is not a leaf or that appears twice, naming index and shape.
#include <doctest/doctest.h>

#include <tapegrad/autograd.hpp>
#include <tapegrad/optim.hpp>

#include "../support/testing.hpp"

TEST_CASE("an optimizer refuses a non-leaf parameter, naming its index and shape") {
  tg::Tensor w = tg::testing::leaf({1.0, 2.0}, {2});
  tg::Tensor b = tg::testing::leaf({0.5, 0.5, 0.5}, {3});
  const tg::Tensor computed = b * 2.0;  // an op's result: an update into it would be lost
  TG_CHECK_ERROR(tg::optim::SGD({w, computed}, {.lr = 0.1}), "SGD", "non-leaf", "parameter 1",
                 "[3]");
  TG_CHECK_ERROR(tg::optim::Adam({computed}), "Adam", "non-leaf", "parameter 0", "[3]");
  tg::optim::SGD sgd({w}, {.lr = 0.1});
  TG_CHECK_ERROR(sgd.add_param_group({computed}), "non-leaf", "parameter 0 of group 1", "[3]");
  CHECK(sgd.parameters().size() == 1);
}

TEST_CASE("an optimizer refuses a parameter given twice, naming its index and shape") {
  tg::Tensor w = tg::testing::leaf({1.0, 2.0}, {2});
  tg::Tensor b = tg::testing::leaf({0.5, 0.5, 0.5}, {3});
  TG_CHECK_ERROR(tg::optim::SGD({w, b, b}, {.lr = 0.1}), "more than once", "parameter 2", "[3]");
  TG_CHECK_ERROR(tg::optim::RMSprop({b, w, w}), "more than once", "parameter 2", "[2]");
}
