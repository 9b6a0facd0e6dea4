// Weight penalties for regularisation: l1_penalty = Σ|θ| and l2_penalty = Σθ².
#include <fmt/format.h>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/loss_checks.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/nn/functional.hpp"

namespace tg::nn::functional {

namespace {

// Σ over params of term(θ).sum(); a 0-D f32 zero for an empty list.
template <class Term>
Tensor sum_over(const char* penalty, const std::vector<Tensor>& params, Term term) {
  Tensor total;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined())
      throw Error(
          fmt::format("{}: parameter {} of {} is an undefined tensor", penalty, i, params.size()));
    check_loss_floating(penalty, "a parameter", params[i]);
    const Tensor part = term(params[i]).sum();
    total = total.defined() ? total + part : part;
  }
  return total.defined() ? total : scalar(0.0);
}

}  // namespace

// d|θ|/dθ = sign(θ) (0 at 0)
Tensor l1_penalty(const std::vector<Tensor>& params) {
  return sum_over("l1_penalty", params, [](const Tensor& p) { return abs(p); });
}

// dθ²/dθ = 2θ
Tensor l2_penalty(const std::vector<Tensor>& params) {
  return sum_over("l2_penalty", params, [](const Tensor& p) { return p * p; });
}

}  // namespace tg::nn::functional
