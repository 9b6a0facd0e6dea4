// Printing: PyTorch's layout from to_string and operator<<, checked against PyTorch's output.
#include <sstream>

#include "support/testing.hpp"

TEST_CASE("floats print with 4 decimals, f64 and gradients say so") {
  CHECK(tg::to_string(tg::tensor({0.1, 0.2, 0.3, 0.4}, {2, 2})) ==
        "tensor([[0.1000, 0.2000],\n        [0.3000, 0.4000]])");
  CHECK(tg::to_string(tg::tensor({0.1, -2.5}, {.dtype = tg::f64, .requires_grad = true})) ==
        "tensor([ 0.1000, -2.5000], dtype=f64, requires_grad=true)");
  const tg::Tensor x = tg::tensor({1.5}, {.requires_grad = true});
  CHECK(tg::to_string(x * 2.0) == "tensor([3.], grad_fn=<mul>)");
}

TEST_CASE("integral floats print with a trailing point, i64 as integers, 0-D bare") {
  CHECK(tg::to_string(tg::tensor({1, 2, 3})) == "tensor([1., 2., 3.])");
  CHECK(tg::to_string(tg::zeros({2})) == "tensor([0., 0.])");
  CHECK(tg::to_string(tg::tensor({1, -20, 300}, {.dtype = tg::i64})) == "tensor([  1, -20, 300])");
  CHECK(tg::to_string(tg::scalar(3.5)) == "tensor(3.5000)");
  CHECK(tg::to_string(tg::scalar(7, {.dtype = tg::i64})) == "tensor(7)");
  CHECK(tg::to_string(tg::zeros({0, 3})) == "tensor([], size=[0, 3])");
  CHECK(tg::to_string(tg::zeros({0})) == "tensor([])");
  CHECK(tg::to_string(tg::Tensor()) == "tensor(undefined)");
}

TEST_CASE("scientific notation when the magnitudes span more than 1000x or are tiny") {
  // torch.tensor([1e-5, 1.0]) prints tensor([1.0000e-05, 1.0000e+00])
  CHECK(tg::to_string(tg::tensor({1e-5, 1.0})) == "tensor([1.0000e-05, 1.0000e+00])");
  CHECK(tg::to_string(tg::tensor({1.0, 12345.0})) == "tensor([1.0000e+00, 1.2345e+04])");
  // Non-finite values do not count towards the format.
  CHECK(tg::to_string(tg::tensor({NAN, INFINITY, -0.5})) == "tensor([    nan,     inf, -0.5000])");
}

TEST_CASE("long rows wrap at 80 columns under the first bracket") {
  // 20 entries of width 6 ("0.0000" and "1.0000"): 9 per line after the 7-column indent.
  const std::string text = tg::to_string(tg::linspace(0.0, 1.9, 20) / 2.0);
  CHECK(text ==
        "tensor([0.0000, 0.0500, 0.1000, 0.1500, 0.2000, 0.2500, 0.3000, 0.3500, 0.4000,\n"
        "        0.4500, 0.5000, 0.5500, 0.6000, 0.6500, 0.7000, 0.7500, 0.8000, 0.8500,\n"
        "        0.9000, 0.9500])");
}

TEST_CASE("tensors over 1000 elements are summarised with 3 edge items per dim") {
  const tg::Tensor big = tg::arange(10000).reshape({100, 100});
  const std::string text = tg::to_string(big);
  CHECK(text ==
        "tensor([[   0,    1,    2,  ...,   97,   98,   99],\n"
        "        [ 100,  101,  102,  ...,  197,  198,  199],\n"
        "        [ 200,  201,  202,  ...,  297,  298,  299],\n"
        "        ...,\n"
        "        [9700, 9701, 9702,  ..., 9797, 9798, 9799],\n"
        "        [9800, 9801, 9802,  ..., 9897, 9898, 9899],\n"
        "        [9900, 9901, 9902,  ..., 9997, 9998, 9999]])");
  CHECK(tg::to_string(tg::arange(1000)).find("...") == std::string::npos);
}

TEST_CASE("3-D tensors separate their matrices by a blank line") {
  CHECK(tg::to_string(tg::arange(8).reshape({2, 2, 2})) ==
        "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])");
}

TEST_CASE("operator<< writes the same text as to_string") {
  const tg::Tensor t = tg::tensor({0.5, 1.25}, {.dtype = tg::f64});
  std::ostringstream out;
  out << t;
  CHECK(out.str() == tg::to_string(t));
}
