// Defines an optimizer outside the library on the installed OptimizerBase and update_elements,
// trains with it, and checks its first step by hand and its state dict round trip.
#include <cmath>
#include <cstdio>
#include <string>
#include <tapegrad.hpp>
#include <tapegrad/optim/optimizer_base.hpp>

namespace {

struct SignMomentumOptions {
  double lr = 0.01;
  double beta = 0.9;
};

struct SignMomentumState {
  tg::optim::Step step;
  tg::optim::Buffer<"momentum"> momentum;
};

// b ← βb + (1 − β)g,  θ ← θ − γ·sign(b). The base's constructors check lr by its name.
class SignMomentum
    : public tg::optim::OptimizerBase<SignMomentumOptions, SignMomentumState, "SignMomentum"> {
 public:
  using OptimizerBase::OptimizerBase;

 private:
  void update(tg::Tensor& param, const tg::Tensor& grad, State& state,
              const Options& options) override {
    state.step += 1;
    tg::optim::update_elements(name(), param, grad, state, [=]<class T>(T& p, T g, T& b) {
      b = T(options.beta) * b + T(1 - options.beta) * g;
      p -= T(options.lr) * (b > 0 ? T(1) : b < 0 ? T(-1) : T(0));
    });  // b = state.momentum
  }
};

}  // namespace

int main() {
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    std::printf("custom_optimizer: %s %s\n", what, ok ? "ok" : "WRONG");
    failures += ok ? 0 : 1;
  };
  // First step by hand: g = 2w = (2, −4), b = 0.1g, w ← w − 0.5·sign(b) = (0.5, −1.5).
  tg::Tensor w = tg::tensor({1.0, -2.0}, {.dtype = tg::f64, .requires_grad = true});
  SignMomentum opt({w}, {.lr = 0.5, .beta = 0.9});
  (w * w).sum().backward();
  opt.step();
  const std::vector<double> v = w.to_vector();
  check(v[0] == 0.5 && v[1] == -1.5, "first step");
  check(opt.state(0).step == 1, "step count");
  try {
    SignMomentum bad({w}, {.lr = -1});
    check(false, "negative lr rejected");
  } catch (const tg::Error& error) {
    check(std::string(error.what()).find("SignMomentum: invalid learning rate -1") !=
              std::string::npos,
          "negative lr rejected");
  }
  // Training: minimise Σ(w − 3)² from 0 with a decaying lr.
  tg::Tensor x = tg::zeros({4}, {.dtype = tg::f32, .requires_grad = true});
  SignMomentum train({x}, {.lr = 0.2});
  for (int k = 0; k < 200; ++k) {
    if (k % 50 == 49) train.set_lr(train.lr() * 0.3);
    train.zero_grad();
    ((x - 3.0) * (x - 3.0)).sum().backward();
    train.step();
  }
  const double loss = ((x - 3.0) * (x - 3.0)).sum().item();
  check(loss < 1e-2, "training");
  // The state dict names the declared fields and restores them.
  const tg::StateDict dict = train.state_dict();
  check(dict.count("state.0.momentum") == 1 && dict.count("state.0.step") == 1 &&
            dict.count("param_groups.0.beta") == 1,
        "state dict keys");
  SignMomentum resumed({x}, {});
  resumed.load_state_dict(dict);
  check(resumed.state(0).step == 200 && resumed.options().beta == 0.9, "state dict load");
  return failures == 0 ? 0 : 1;
}
