// micrograd's tanh neuron and the f32 lesson: the same neuron in f64, with tanh written out, and
// with its bias rounded to f32 first — which reproduces the digits PyTorch printed in the lecture.
//
// Why the PyTorch cross-check in the lecture prints o = 0.7071066904050358 and not 0.70710678…:
// the lecture builds its tensors with `torch.Tensor([b]).double()`. `torch.Tensor` makes a
// float32 tensor, so b = 6.8813735870195432 is first rounded to the nearest float, 6.881373405
// 456543 (an error of 1.8e-7), and only then widened to float64; widening is exact and cannot
// bring the lost digits back. Everything after runs in float64, carefully, on the wrong input:
// n = 0.881373405456543 instead of 0.8813735870195432, so o = tanh(n) moves by
// (1 − o²)·1.8e-7 ≈ 9.1e-8, and 1 − o² becomes 0.5000001283844369. The gradients then carry
// the same relative error (2.6e-7) into dw1, dx1 and dx2. Nothing is wrong with float64 here;
// the precision was lost once, at the input, and a port that wants PyTorch's digits must make
// the same rounding on purpose: tg::tensor(..., f32).to(f64) below.
#include <fmt/format.h>

#include <tapegrad.hpp>

namespace {

struct Neuron {
  tg::Tensor x1, x2, w1, w2, b, n, o;
};

tg::Tensor leaf(double v, tg::DType storage, const char* name) {
  // Stored in `storage` (rounding there), computed in f64, as torch.Tensor([v]).double() does.
  tg::Tensor t = tg::scalar(v, {.dtype = storage}).to(tg::f64).detach();
  t.set_requires_grad(true);
  t.set_name(name);
  return t;
}

// o = tanh(x1·w1 + x2·w2 + b), with tanh as one op (libm's tanh, derivative 1 − o²) or written
// out in micrograd's ops as (e^{2n} − 1)·(e^{2n} + 1)⁻¹.
Neuron run(tg::DType storage, bool written_out) {
  Neuron u;
  u.x1 = leaf(2.0, storage, "x1");
  u.x2 = leaf(0.0, storage, "x2");
  u.w1 = leaf(-3.0, storage, "w1");
  u.w2 = leaf(1.0, storage, "w2");
  u.b = leaf(6.8813735870195432, storage, "b");
  u.n = u.x1 * u.w1 + u.x2 * u.w2 + u.b;
  if (written_out) {
    const tg::Tensor e = tg::exp(2.0 * u.n);
    u.o = (e - 1.0) * tg::pow(e + 1.0, -1.0);  // micrograd divides as a · b⁻¹
  } else {
    u.o = tg::tanh(u.n);
  }
  u.o.backward();
  return u;
}

void print(const char* title, const Neuron& u) {
  fmt::print("{}\n  b = {}  n = {}\n  o = {}\n", title, u.b.item(), u.n.item(), u.o.item());
  fmt::print("  dx1 = {}  dw1 = {}  dx2 = {}  dw2 = {}  db = {}\n\n", u.x1.grad().item(),
             u.w1.grad().item(), u.x2.grad().item(), u.w2.grad().item(), u.b.grad().item());
}

}  // namespace

int main() {
  fmt::print(
      "the neuron o = tanh(x1·w1 + x2·w2 + b), x1 = 2, x2 = 0, w1 = -3, w2 = 1, "
      "b = 6.8813735870195432\n\n");
  const Neuron f64 = run(tg::f64, false);
  print(
      "f64, tanh as one op (libm's tanh, one ulp above the lecture's formula; 1 − o² rounds "
      "below ½):",
      f64);
  const Neuron written = run(tg::f64, true);
  print(
      "f64, tanh written out as (e^{2n} − 1)·(e^{2n} + 1)⁻¹, as the lecture's second half "
      "(gradients exact):",
      written);
  const Neuron rounded = run(tg::f32, false);
  print("inputs rounded to f32 first, then f64 (torch.Tensor([b]).double()):", rounded);

  // The lecture's PyTorch cell printed these (fixture micrograd_values.md, section 3).
  const double published[] = {0.7071066904050358, 0.5000001283844369, 0.0, -1.5000003851533106,
                              1.0000002567688737};
  const double ours[] = {rounded.o.item(), rounded.x2.grad().item(), rounded.w2.grad().item(),
                         rounded.x1.grad().item(), rounded.w1.grad().item()};
  int equal = 0;
  for (int i = 0; i < 5; ++i) equal += ours[i] == published[i] ? 1 : 0;
  fmt::print("PyTorch printed o, dx2, dw2, dx1, dw1 = {}, {}, {}, {}, {}\n", published[0],
             published[1], published[2], published[3], published[4]);
  fmt::print("the f32-rounded run gives the same {}/5 to the last digit\n", equal);
  return equal == 5 ? 0 : 1;
}
