// Gradient unit tests in doctest form, one line each: a file to copy beside your own ops.
//
// Each TG_CHECK_GRADIENTS line compares the op's backward with central differences over the
// whole Jacobian; a failure prints gradcheck's report (the wrong element, both derivatives, the
// input's value there), the inputs' values and the seed. Built and run as a CTest
// (example_gradient_unit_tests); `gradient_unit_tests --help` lists doctest's flags.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad.hpp>
#include <tapegrad/testing.hpp>  // after doctest: the macros report through it
#include <type_traits>

namespace {

// An op from a forward and a backward, as torch.autograd.Function: x³, d/dx = 3x².
struct Cube : tg::autograd::Function<Cube> {
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const tg::Tensor x = ctx->get_saved_variables()[0];
    return {grad_outputs[0] * 3.0 * x * x};
  }
};

tg::Tensor cube(const std::vector<tg::Tensor>& in) { return Cube::apply(in[0]); }

// An f64 leaf that requires grad: finite differences need f64.
tg::Tensor leaf(std::vector<double> values) {
  const auto n = static_cast<int64_t>(values.size());
  return tg::tensor(std::move(values), {n}, {.dtype = tg::f64, .requires_grad = true});
}

// softplus(x) = log(1 + eˣ) as a raw-buffer kernel written once for float and double, the way
// SIMD code is: the f32 version is what runs in training, so it is the one to test.
template <class T>
void softplus_kernel(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::log1p(std::exp(x[i]));
}
template <class T>
void softplus_backward_kernel(const T* x, const T* g, T* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = g[i] / (T(1) + std::exp(-x[i]));  // g·sigmoid(x)
}

struct Softplus : tg::autograd::Function<Softplus> {
  template <class T>
  static tg::Tensor apply_kernel(const tg::Tensor& x, const tg::Tensor* g) {
    const tg::Tensor xc = x.detach();
    tg::Tensor out = tg::zeros(x.shape(), {.dtype = x.dtype()});
    if (g) {
      const tg::Tensor gc = g->detach().to(x.dtype());
      softplus_backward_kernel<T>(xc.data<T>(), gc.data<T>(), out.data<T>(), x.numel());
    } else {
      softplus_kernel<T>(xc.data<T>(), out.data<T>(), x.numel());
    }
    return out;
  }
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x.dtype() == tg::f32 ? apply_kernel<float>(x, nullptr)
                                : apply_kernel<double>(x, nullptr);
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const tg::Tensor x = ctx->get_saved_variables()[0];
    const tg::Tensor& g = grad_outputs[0];
    return {x.dtype() == tg::f32 ? apply_kernel<float>(x, &g) : apply_kernel<double>(x, &g)};
  }
};

}  // namespace

TEST_CASE("Cube's backward matches finite differences") {
  TG_CHECK_GRADIENTS(cube, {leaf({0.5, -1.5, 2.0})});
}

TEST_CASE("...at random points too, not only the one I thought of") {
  // Point 0 is the given inputs; 9 more are drawn from N(0, 1) with seed 1.
  TG_CHECK_GRADIENTS(cube, {leaf({0.5, -1.5, 2.0})}, {.samples = 10, .seed = 1});
}

TEST_CASE("second derivatives, for ops used inside gradients (penalties, Hessians)") {
  // Cube's backward is built from recorded ops, so it has a graph of its own.
  TG_CHECK_GRADGRADIENTS(cube, {leaf({0.5, -1.5, 2.0})}, {.samples = 3});
}

TEST_CASE("a function defined for x > 0 only is sampled inside its domain") {
  const auto positive = [](const tg::Shape& shape, tg::DType dtype) {
    return tg::rand(shape, {.dtype = dtype}) * 5.0 + 0.1;  // uniform in [0.1, 5.1)
  };
  TG_CHECK_GRADIENTS([](const auto& in) { return tg::log(in[0]) * tg::sqrt(in[0]); },
                     {leaf({0.5, 1.0, 3.0})}, {.samples = 10, .sampler = positive});
}

TEST_CASE("relu at its kink: one-sided slopes 0 and 1, any value between is a fair answer") {
  // Without .at_kinks = skip this fails with "non-differentiable point (one-sided slopes 0 and
  // 1)" rather than with a report that looks like a bug.
  TG_CHECK_GRADIENTS([](const auto& in) { return tg::relu(in[0]); }, {leaf({0.0, -1.0, 2.0})},
                     {.at_kinks = tg::AtKinks::skip});
}

TEST_CASE("an f32 kernel is checked through f64, then in f32 at f32's tolerance") {
  const tg::Tensor x = tg::tensor({0.5f, -1.25f, 2.0f}, {.dtype = tg::f32, .requires_grad = true});
  TG_CHECK_GRADIENTS([](const auto& in) { return Softplus::apply(in[0]); }, {x},
                     {.samples = 5, .upcast = true});
}

TEST_CASE("forward mode: jvp along random tangents against differences along them") {
  TG_CHECK_GRADIENTS(cube, {leaf({0.5, -1.5, 2.0})}, {.mode = tg::GradcheckMode::forward});
}
