// Logistic regression: the one-step worked example of the classic texts, then a classifier for the
// Wisconsin breast-cancer data with standardised features, L2, and early stopping on validation.
//
//   logistic_regression [DATA_DIR]   DATA_DIR holds breast_cancer.csv (default: examples/data)
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <tapegrad.hpp>
#include <vector>

#ifndef TG_EXAMPLES_DATA_DIR
#define TG_EXAMPLES_DATA_DIR "examples/data"
#endif

namespace {

namespace F = tg::nn::functional;

// Part 1. One example x = [3, 2] with label y = 1, w = b = 0, one SGD step with lr 0.1:
//   z = w·x + b = 0,  p = σ(z) = 0.5,  loss = −[y log p + (1 − y) log(1 − p)] = log 2
//   ∂loss/∂z = p − y = −0.5  ⇒  ∂loss/∂w = (p − y)·x = [−1.5, −1],  ∂loss/∂b = p − y = −0.5
//   w ← w − 0.1·[−1.5, −1] = [0.15, 0.10],  b ← 0 − 0.1·(−0.5) = 0.05
void one_step_worked_example() {
  tg::nn::Linear model(2, 1);  // z = x·Wᵀ + b, W [1, 2], b [1]
  model.to(tg::f64);
  tg::nn::init::zeros_(model.weight);
  tg::nn::init::zeros_(model.bias);
  tg::optim::SGD optimizer(model.parameters(), {.lr = 0.1});

  const tg::Tensor x = tg::tensor({3.0, 2.0}, {1, 2}, {.dtype = tg::f64});
  const tg::Tensor y = tg::tensor({1.0}, {1, 1}, {.dtype = tg::f64});
  // BCE on the logit z rather than on p = σ(z): log σ(z) is computed without ever forming p, so
  // it stays finite for any z; its gradient is exactly p − y.
  const tg::Tensor loss = F::binary_cross_entropy_with_logits(model(x), y);
  optimizer.zero_grad();
  loss.backward();
  const std::vector<double> dw = model.weight.grad().to_vector();
  fmt::print("Part 1. One SGD step at w = b = 0, x = [3, 2], y = 1, lr 0.1\n");
  fmt::print(
      "  loss = log 2 = {:.4f}, ∂loss/∂w = [{:.4f}, {:.4f}], ∂loss/∂b = {:.4f}  (p − y = −0.5)\n",
      loss.item(), dw[0], dw[1], model.bias.grad().item());
  optimizer.step();
  const std::vector<double> w = model.weight.to_vector();
  fmt::print("  after one step: w = [{:.4f}, {:.4f}], b = {:.4f}\n\n", w[0], w[1],
             model.bias.item());
}

struct Evaluation {
  double loss;
  int64_t correct;
  int64_t total;
  double accuracy() const { return static_cast<double>(correct) / static_cast<double>(total); }
};

// Data loss (no penalty) and accuracy; p > 0.5 exactly when the logit z > 0.
Evaluation evaluate(tg::nn::Linear& model, const tg::Tensor& X, const tg::Tensor& y) {
  tg::NoGradGuard no_grad;  // evaluation builds no tape
  const tg::Tensor logits = model(X).reshape({-1});
  const double loss = F::binary_cross_entropy_with_logits(logits, y).item();
  const tg::Tensor predicted = tg::gt(logits, tg::zeros_like(logits));
  const auto correct = static_cast<int64_t>(tg::eq(predicted, y).sum().item());
  return {loss, correct, y.numel()};
}

// Part 2. The Wisconsin Diagnostic Breast Cancer data: 569 tumours, 30 measurements of their cell
// nuclei, label 1 = benign, 0 = malignant (scikit-learn's coding; see examples/data/README.md).
void breast_cancer(const std::string& data_dir) {
  const std::string path = (std::filesystem::path(data_dir) / "breast_cancer.csv").string();
  // read_csv gives f32 by default; this model is f64 (as in part 1), so ask for f64 features and
  // labels: the loss mixes the labels with the f64 logits.
  const tg::data::CsvData data = tg::data::read_csv(
      path, {.label_column = "target", .dtype = tg::f64, .label_dtype = tg::f64});
  fmt::print("Part 2. Wisconsin breast cancer: {} rows, {} features, from {}\n",
             data.features.shape()[0], data.features.shape()[1], path);

  // 60% train, 20% validation (for early stopping), 20% test (looked at once, at the end).
  const tg::data::TrainTestSplit outer =
      tg::data::train_test_split(data.features, data.labels, 0.2, /*seed=*/7);
  const tg::data::TrainTestSplit inner =
      tg::data::train_test_split(outer.x_train, outer.y_train, 0.25, /*seed=*/7);
  // The features span 0.001 (fractal dimension) to 4000 (worst area): standardise each column with
  // the mean and std of the training rows only, so nothing about validation or test leaks in.
  tg::data::StandardScaler scaler;
  const tg::Tensor x_train = scaler.fit_transform(inner.x_train);
  const tg::Tensor x_val = scaler.transform(inner.x_test);
  const tg::Tensor x_test = scaler.transform(outer.x_test);
  const tg::Tensor &y_train = inner.y_train, &y_val = inner.y_test, &y_test = outer.y_test;
  fmt::print("  split: {} train, {} validation, {} test; features standardised on train\n",
             x_train.shape()[0], x_val.shape()[0], x_test.shape()[0]);

  // p(benign | x) = σ(x·w + b), trained on BCE + λ‖w‖² (l2_penalty is Σw², no ½; the bias is not
  // penalised: shrinking it would only bias the base rate). Mini-batches of 32, reshuffled each
  // epoch.
  tg::manual_seed(7);
  tg::nn::Linear model(30, 1);
  model.to(tg::f64);
  const double lambda = 3e-3;
  tg::optim::SGD optimizer(model.parameters(), {.lr = 0.1});
  tg::data::DataLoader loader(tg::data::TensorDataset(x_train, y_train),
                              {.batch_size = 32, .shuffle = true, .seed = 7});

  // Early stopping: keep the parameters of the best validation loss, stop after `patience` epochs
  // without a new best (better by at least min_delta), and restore the best. Validation loss stops
  // falling, then rises, once the model starts to fit the training rows' noise.
  const int max_epochs = 500, patience = 20;
  const double min_delta = 1e-4;
  tg::Tensor best_weight = model.weight.clone(), best_bias = model.bias.clone();
  double best_val_loss = evaluate(model, x_val, y_val).loss;
  int best_epoch = 0, epoch = 1;
  fmt::print("  {:>5}  {:>10}  {:>8}  {:>8}\n", "epoch", "train loss", "val loss", "val acc");
  for (; epoch <= max_epochs; ++epoch) {
    for (auto [x, y] : loader) {
      const tg::Tensor logits = model(x).reshape({-1});
      const tg::Tensor loss =
          F::binary_cross_entropy_with_logits(logits, y) + lambda * F::l2_penalty({model.weight});
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
    }
    const Evaluation train = evaluate(model, x_train, y_train);
    const Evaluation val = evaluate(model, x_val, y_val);
    if (epoch <= 3 || epoch % 25 == 0)
      fmt::print("  {:>5}  {:>10.4f}  {:>8.4f}  {:>8.4f}\n", epoch, train.loss, val.loss,
                 val.accuracy());
    if (val.loss < best_val_loss - min_delta) {
      best_val_loss = val.loss;
      best_epoch = epoch;
      best_weight = model.weight.clone();
      best_bias = model.bias.clone();
    } else if (epoch - best_epoch >= patience) {
      break;
    }
  }
  fmt::print(
      "  stopped at epoch {}: no better validation loss for {} epochs; best {:.4f} at epoch {}\n",
      epoch, patience, best_val_loss, best_epoch);
  model.weight.copy_(best_weight);
  model.bias.copy_(best_bias);

  const Evaluation test = evaluate(model, x_test, y_test);
  fmt::print("  held-out test: loss {:.4f}, test accuracy {:.4f} ({}/{} correct)\n", test.loss,
             test.accuracy(), test.correct, test.total);
  // The baseline any classifier must beat: always answer the more common class.
  const double benign_share = y_test.mean().item();
  fmt::print("  (always answering the more common class would score {:.4f})\n",
             std::max(benign_share, 1 - benign_share));
}

}  // namespace

int main(int argc, char** argv) {
  one_step_worked_example();
  breast_cancer(argc > 1 ? argv[1] : TG_EXAMPLES_DATA_DIR);
}
