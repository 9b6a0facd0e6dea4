// "Becoming a backprop ninja" (makemore part 4, exercise 1) on tapegrad: the batch-norm MLP's
// forward in small f32 steps, every intermediate's gradient derived by hand, and the cmp table
// against tapegrad's autograd (retain_grad) and against PyTorch's gradients from the fixture.
//
// The fixture (../shared/fixtures/makemore_ninja, see its README) holds the notebook's
// parameters, its first batch and PyTorch's .grad of each of the 26 intermediates.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tapegrad.hpp>
#include <vector>

#ifndef TG_FIXTURES_DIR
#define TG_FIXTURES_DIR "../shared/fixtures"
#endif

namespace {

constexpr int64_t n = 32;  // the batch

// PyTorch adds f32 numbers in f32, in an order of its own (its CPU sum kernel, 8-wide AVX2
// vectors); tapegrad's sums add f32 in double, more accurately and so with other last bits. To
// reach PyTorch's loss bit for bit the batch sums below follow PyTorch's order, with tapegrad's
// own ops, so autograd still runs through them.

// Σ over the 32 rows of x [32, k] (keepdim), as PyTorch's outer reduction: rows 0–15 and rows
// 16–31 each summed in order, then the two halves added.
tg::Tensor torch_sum_rows(const tg::Tensor& x) {
  auto half = [&](int64_t start) {
    tg::Tensor s = tg::narrow(x, 0, start, 1);
    for (int64_t r = start + 1; r < start + 16; ++r) s = s + tg::narrow(x, 0, r, 1);
    return s;
  };
  return half(0) + half(16);
}

// Σ along the last dim of x [rows, k] (keepdim), as PyTorch's inner reduction: eight lanes each
// sum every eighth element of the first 8·⌊k/8⌋; the rest is summed in order, then the lanes.
tg::Tensor torch_sum_last(const tg::Tensor& x) {
  const int64_t k = x.shape().back(), vectors = k / 8;
  tg::Tensor lanes = tg::narrow(x, 1, 0, 8);
  for (int64_t v = 1; v < vectors; ++v) lanes = lanes + tg::narrow(x, 1, 8 * v, 8);
  tg::Tensor total;
  for (int64_t i = 8 * vectors; i < k; ++i)
    total = total.defined() ? total + tg::narrow(x, 1, i, 1) : tg::narrow(x, 1, i, 1);
  for (int64_t l = 0; l < 8; ++l)
    total = total.defined() ? total + tg::narrow(lanes, 1, l, 1) : tg::narrow(lanes, 1, l, 1);
  return total;
}

// The forward pass, one small step per line, as the notebook writes it out.
struct Forward {
  tg::Tensor emb, embcat, hprebn, bnmeani, bndiff, bndiff2, bnvar, bnvar_inv, bnraw, hpreact, h,
      logits, logit_maxes, norm_logits, counts, counts_sum, counts_sum_inv, probs, logprobs, loss;

  // Each intermediate in the order of the notebook's cmp() calls, with its name.
  std::vector<std::pair<const char*, tg::Tensor*>> intermediates() {
    return {{"logprobs", &logprobs},
            {"probs", &probs},
            {"counts_sum_inv", &counts_sum_inv},
            {"counts_sum", &counts_sum},
            {"counts", &counts},
            {"norm_logits", &norm_logits},
            {"logit_maxes", &logit_maxes},
            {"logits", &logits},
            {"h", &h},
            {"hpreact", &hpreact},
            {"bnraw", &bnraw},
            {"bnvar_inv", &bnvar_inv},
            {"bnvar", &bnvar},
            {"bndiff2", &bndiff2},
            {"bndiff", &bndiff},
            {"bnmeani", &bnmeani},
            {"hprebn", &hprebn},
            {"embcat", &embcat},
            {"emb", &emb}};
  }
};

struct Params {
  tg::Tensor C, W1, b1, W2, b2, bngain, bnbias;
};

Forward forward(const Params& p, const tg::Tensor& Xb, const tg::Tensor& Yb) {
  Forward f;
  const auto m = static_cast<double>(n);
  f.emb = tg::reshape(tg::index_select(p.C, 0, tg::reshape(Xb, {-1})), {n, 3, 10});  // C[Xb]
  f.embcat = tg::reshape(f.emb, {n, 30});
  f.hprebn = tg::matmul(f.embcat, p.W1) + p.b1;  // linear layer 1
  // Batch norm, written out.
  f.bnmeani = 1.0 / m * torch_sum_rows(f.hprebn);  // hprebn.sum(0, keepdim=True)
  f.bndiff = f.hprebn - f.bnmeani;
  f.bndiff2 = tg::pow(f.bndiff, 2);
  f.bnvar = 1.0 / (m - 1) * torch_sum_rows(f.bndiff2);  // Bessel's correction, 1/(n − 1)
  // (bnvar + 1e-5)**-0.5: PyTorch computes the power −½ as 1/√x (and −1 below as 1/x).
  f.bnvar_inv = 1.0 / tg::sqrt(f.bnvar + 1e-5);
  f.bnraw = f.bndiff * f.bnvar_inv;
  f.hpreact = p.bngain * f.bnraw + p.bnbias;
  f.h = tg::tanh(f.hpreact);
  f.logits = tg::matmul(f.h, p.W2) + p.b2;  // linear layer 2
  // Cross-entropy, written out.
  f.logit_maxes = tg::max(f.logits, 1, true);
  f.norm_logits = f.logits - f.logit_maxes;  // subtracting the max, for numerical stability
  f.counts = tg::exp(f.norm_logits);
  f.counts_sum = torch_sum_last(f.counts);  // counts.sum(1, keepdim=True)
  f.counts_sum_inv = 1.0 / f.counts_sum;    // counts_sum**-1
  f.probs = f.counts * f.counts_sum_inv;
  f.logprobs = tg::log(f.probs);
  // −logprobs[range(n), Yb].mean(); PyTorch's mean is its sum divided by n.
  f.loss = -(
      torch_sum_last(tg::reshape(tg::gather(f.logprobs, 1, tg::reshape(Yb, {n, 1})), {1, n})) / m);
  return f;
}

// The gradients derived by hand, one line per step of the forward, read bottom up.
struct Manual {
  tg::Tensor dlogprobs, dprobs, dcounts_sum_inv, dcounts_sum, dcounts, dnorm_logits, dlogit_maxes,
      dlogits, dh, dW2, db2, dhpreact, dbngain, dbnbias, dbnraw, dbnvar_inv, dbnvar, dbndiff2,
      dbndiff, dbnmeani, dhprebn, dembcat, dW1, db1, demb, dC;
};

Manual backward_by_hand(const Forward& f, const Params& p, const tg::Tensor& Xb,
                        const tg::Tensor& Yb) {
  tg::NoGradGuard no_grad;
  Manual d;
  const auto m = static_cast<double>(n);
  const int64_t* y = Yb.data<int64_t>();
  // loss = −(1/n) Σ_i logprobs[i, y_i]: −1/n at each label, 0 elsewhere.
  d.dlogprobs = tg::zeros_like(f.logprobs);
  for (int64_t i = 0; i < n; ++i) d.dlogprobs.data<float>()[i * 27 + y[i]] = -1.0F / 32.0F;
  // logprobs = log(probs): d/dprobs = 1/probs.
  d.dprobs = 1.0 / f.probs * d.dlogprobs;
  // probs = counts · counts_sum_inv, counts_sum_inv broadcast along each row: its gradient sums
  // the row; counts' is the other factor.
  d.dcounts_sum_inv = tg::sum(f.counts * d.dprobs, 1, true);
  d.dcounts = f.counts_sum_inv * d.dprobs;
  // counts_sum_inv = 1/counts_sum: d/dx (1/x) = −1/x².
  d.dcounts_sum = -d.dcounts_sum_inv / (f.counts_sum * f.counts_sum);
  // counts_sum = Σ_j counts: each count gets the row's gradient, added to its direct one.
  d.dcounts = d.dcounts + tg::ones_like(f.counts) * d.dcounts_sum;
  // counts = exp(norm_logits): the derivative is exp itself, counts.
  d.dnorm_logits = f.counts * d.dcounts;
  // norm_logits = logits − logit_maxes: logits get it as is, the maxes minus the row sum.
  d.dlogits = d.dnorm_logits;
  d.dlogit_maxes = tg::sum(-d.dnorm_logits, 1, true);
  // logit_maxes = max_j logits: the gradient goes to the position of each row's maximum.
  tg::Tensor to_max = tg::zeros_like(f.logits);
  const tg::Tensor where = tg::argmax(f.logits, 1);
  for (int64_t i = 0; i < n; ++i)
    to_max.data<float>()[i * 27 + where.data<int64_t>()[i]] = d.dlogit_maxes.data<float>()[i];
  d.dlogits = d.dlogits + to_max;
  // logits = h W2 + b2: the matrix product's two rules, and b2's sum over the batch.
  d.dh = tg::matmul(d.dlogits, tg::transpose(p.W2, 0, 1));
  d.dW2 = tg::matmul(tg::transpose(f.h, 0, 1), d.dlogits);
  d.db2 = tg::sum(d.dlogits, 0);
  // h = tanh(hpreact): the derivative is 1 − h².
  d.dhpreact = (1.0 - f.h * f.h) * d.dh;
  // hpreact = bngain · bnraw + bnbias, the gain and bias broadcast over the batch.
  d.dbngain = tg::sum(f.bnraw * d.dhpreact, 0, true);
  d.dbnraw = p.bngain * d.dhpreact;
  d.dbnbias = tg::sum(d.dhpreact, 0, true);
  // bnraw = bndiff · bnvar_inv.
  d.dbndiff = f.bnvar_inv * d.dbnraw;
  d.dbnvar_inv = tg::sum(f.bndiff * d.dbnraw, 0, true);
  // bnvar_inv = (bnvar + ε)^−½, derivative −½ (bnvar + ε)^−³⁄₂, as the notebook writes it. The
  // forward computes it as 1/s with s = √(bnvar + ε), so the chain rule twice, d(1/s) = −1/s²
  // and d√x = 1/(2√x), is the same arithmetic as autograd's.
  const tg::Tensor s = tg::sqrt(f.bnvar + 1e-5);
  d.dbnvar = (-d.dbnvar_inv / (s * s)) / (s * 2.0);
  // bnvar = 1/(n−1) Σ_i bndiff2: every row gets the same share.
  d.dbndiff2 = 1.0 / (m - 1) * tg::ones_like(f.bndiff2) * d.dbnvar;
  // bndiff2 = bndiff²: 2·bndiff, added to bndiff's first gradient.
  d.dbndiff = d.dbndiff + 2.0 * f.bndiff * d.dbndiff2;
  // bndiff = hprebn − bnmeani; bnmeani = 1/n Σ_i hprebn.
  d.dhprebn = d.dbndiff;
  d.dbnmeani = tg::sum(-d.dbndiff, 0, true);
  d.dhprebn = d.dhprebn + 1.0 / m * tg::ones_like(f.hprebn) * d.dbnmeani;
  // hprebn = embcat W1 + b1.
  d.dembcat = tg::matmul(d.dhprebn, tg::transpose(p.W1, 0, 1));
  d.dW1 = tg::matmul(tg::transpose(f.embcat, 0, 1), d.dhprebn);
  d.db1 = tg::sum(d.dhprebn, 0);
  // embcat is emb seen as [32, 30]; emb = C[Xb] sends each row back to the row of C it came from.
  d.demb = tg::reshape(d.dembcat, {n, 3, 10});
  d.dC = tg::zeros_like(p.C);
  for (int64_t k = 0; k < n * 3; ++k) {
    const int64_t row = Xb.data<int64_t>()[k];
    for (int64_t j = 0; j < 10; ++j)
      d.dC.data<float>()[row * 10 + j] += d.demb.data<float>()[k * 10 + j];
  }
  return d;
}

// PyTorch's cmp(): equal bit for bit, allclose, and the largest difference.
struct Comparison {
  bool exact;
  bool approximate;
  double maxdiff;
};

Comparison compare(const tg::Tensor& mine, const tg::Tensor& theirs, double rtol, double atol) {
  const std::vector<double> a = mine.to_vector(), b = theirs.to_vector();
  Comparison c{a.size() == b.size() && mine.shape() == theirs.shape(), true, 0.0};
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double diff = std::abs(a[i] - b[i]);
    c.exact = c.exact && a[i] == b[i];
    c.approximate = c.approximate && diff <= atol + rtol * std::abs(b[i]);
    c.maxdiff = std::max(c.maxdiff, diff);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : TG_FIXTURES_DIR "/makemore_ninja";
  const tg::StateDict params = tg::load(dir + "/params.safetensors");
  const tg::StateDict batch = tg::load(dir + "/batch.safetensors");
  const tg::StateDict torch_grads = tg::load(dir + "/grads.safetensors");
  const tg::StateDict torch_forward = tg::load(dir + "/forward.safetensors");

  Params p{params.at("C"),  params.at("W1"),     params.at("b1"),    params.at("W2"),
           params.at("b2"), params.at("bngain"), params.at("bnbias")};
  for (tg::Tensor* t : {&p.C, &p.W1, &p.b1, &p.W2, &p.b2, &p.bngain, &p.bnbias})
    t->set_requires_grad(true);
  const tg::Tensor Xb = batch.at("Xb"), Yb = batch.at("Yb");

  Forward f = forward(p, Xb, Yb);
  for (auto& [name, t] : f.intermediates()) {
    t->set_name(name);
    t->retain_grad();  // kept after backward, to compare each with its manual gradient
  }
  f.loss.backward();
  const double loss = f.loss.item(), torch_loss = torch_forward.at("loss").item();
  fmt::print("loss {} (f32 {:a}); PyTorch's, from the fixture, {}: {}\n", loss,
             static_cast<float>(loss), torch_loss, loss == torch_loss ? "equal" : "NOT equal");
  int forward_exact = 0;
  for (auto& [name, t] : f.intermediates())
    forward_exact += compare(*t, torch_forward.at(name), 0, 0).exact ? 1 : 0;
  fmt::print("forward: {}/{} intermediates equal PyTorch's bit for bit\n\n", forward_exact,
             f.intermediates().size());

  const Manual d = backward_by_hand(f, p, Xb, Yb);
  // Row name, the manual gradient, the autograd gradient of the same tensor.
  const std::vector<std::tuple<const char*, tg::Tensor, tg::Tensor>> rows = {
      {"logprobs", d.dlogprobs, f.logprobs.grad()},
      {"probs", d.dprobs, f.probs.grad()},
      {"counts_sum_inv", d.dcounts_sum_inv, f.counts_sum_inv.grad()},
      {"counts_sum", d.dcounts_sum, f.counts_sum.grad()},
      {"counts", d.dcounts, f.counts.grad()},
      {"norm_logits", d.dnorm_logits, f.norm_logits.grad()},
      {"logit_maxes", d.dlogit_maxes, f.logit_maxes.grad()},
      {"logits", d.dlogits, f.logits.grad()},
      {"h", d.dh, f.h.grad()},
      {"W2", d.dW2, p.W2.grad()},
      {"b2", d.db2, p.b2.grad()},
      {"hpreact", d.dhpreact, f.hpreact.grad()},
      {"bngain", d.dbngain, p.bngain.grad()},
      {"bnbias", d.dbnbias, p.bnbias.grad()},
      {"bnraw", d.dbnraw, f.bnraw.grad()},
      {"bnvar_inv", d.dbnvar_inv, f.bnvar_inv.grad()},
      {"bnvar", d.dbnvar, f.bnvar.grad()},
      {"bndiff2", d.dbndiff2, f.bndiff2.grad()},
      {"bndiff", d.dbndiff, f.bndiff.grad()},
      {"bnmeani", d.dbnmeani, f.bnmeani.grad()},
      {"hprebn", d.dhprebn, f.hprebn.grad()},
      {"embcat", d.dembcat, f.embcat.grad()},
      {"W1", d.dW1, p.W1.grad()},
      {"b1", d.db1, p.b1.grad()},
      {"emb", d.demb, f.emb.grad()},
      {"C", d.dC, p.C.grad()},
  };
  fmt::print("{:<15} | {:<47} | {}\n", "manual d<name>", "vs tapegrad's autograd (retain_grad)",
             "vs PyTorch's .grad (fixture)");
  int approximate_autograd = 0, approximate_torch = 0, exact_autograd = 0, exact_torch = 0;
  for (const auto& [name, manual, autograd] : rows) {
    // torch.allclose's defaults against autograd; the fixture's suggested tolerance against
    // PyTorch (other summation orders); db1 is rounding noise around 0: absolute only.
    const bool noise = std::string(name) == "b1";
    const Comparison a = compare(manual, autograd, noise ? 0 : 1e-5, 1e-8);
    const Comparison t = compare(manual, torch_grads.at(std::string("d") + name), noise ? 0 : 1e-5,
                                 noise ? 1e-8 : 1e-7);
    approximate_autograd += a.approximate ? 1 : 0;
    approximate_torch += t.approximate ? 1 : 0;
    exact_autograd += a.exact ? 1 : 0;
    exact_torch += t.exact ? 1 : 0;
    auto cell = [](const Comparison& c, bool last) {
      if (last)
        return fmt::format("exact: {:<5} | approximate: {:<5} | maxdiff: {:.3g}", c.exact,
                           c.approximate, c.maxdiff);
      return fmt::format("exact: {:<5} | approximate: {:<5} | maxdiff: {:<8.3g}", c.exact,
                         c.approximate, c.maxdiff);
    };
    fmt::print("{:<15} | {} | {}\n", name, cell(a, false), cell(t, true));
  }
  // Exercises 2 and 3: the same two gradients from one formula each.
  {
    tg::NoGradGuard no_grad;
    // Cross-entropy in one step: dlogits = (softmax(logits) − onehot(y)) / n.
    tg::Tensor dlogits = tg::softmax(f.logits, 1);
    for (int64_t i = 0; i < n; ++i) dlogits.data<float>()[i * 27 + Yb.data<int64_t>()[i]] -= 1.0F;
    dlogits = dlogits / static_cast<double>(n);
    // Batch norm in one step: with r = bnraw and g = dhpreact, summed over the batch,
    // dhprebn = bngain·bnvar_inv/n · (n·g − Σg − n/(n−1)·r·Σ(g·r)).
    const auto m = static_cast<double>(n);
    const tg::Tensor g = f.hpreact.grad();
    const tg::Tensor dhprebn =
        p.bngain * f.bnvar_inv / m *
        (m * g - tg::sum(g, 0) - m / (m - 1) * f.bnraw * tg::sum(g * f.bnraw, 0));
    const Comparison cl = compare(dlogits, f.logits.grad(), 1e-5, 1e-8);
    const Comparison cb = compare(dhprebn, f.hprebn.grad(), 1e-5, 1e-8);
    fmt::print(
        "\nfused cross-entropy backward vs logits.grad: exact: {} | approximate: {} | "
        "maxdiff: {:.3g}\n",
        cl.exact, cl.approximate, cl.maxdiff);
    fmt::print(
        "fused batch-norm backward vs hprebn.grad:    exact: {} | approximate: {} | "
        "maxdiff: {:.3g}\n",
        cb.exact, cb.approximate, cb.maxdiff);
  }
  fmt::print(
      "\n{}/26 approximate and {}/26 exact against autograd; {}/26 approximate and {}/26 "
      "exact against PyTorch\n",
      approximate_autograd, exact_autograd, approximate_torch, exact_torch);
  return loss == torch_loss && approximate_autograd == 26 && approximate_torch == 26 ? 0 : 1;
}
