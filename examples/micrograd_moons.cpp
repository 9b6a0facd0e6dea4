// micrograd's moons demo on tapegrad: a 2-16-16-1 ReLU MLP from micrograd's exact initial
// weights, trained as its demo.ipynb does, curve checked against the fixture, boundary as SVG.
//
// micrograd trains one scalar Value at a time; here the same network is three nn::Linear layers
// and each step is a handful of matrix ops on all 100 points at once. The arithmetic is the same
// up to rounding: every neuron's sum is the same numbers added in another order (BLAS's), so the
// losses agree with micrograd's to about 1e-15 — the fixture's expected.csv, made with
// micrograd's own order, is the yardstick at every one of the 100 steps.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <tapegrad.hpp>
#include <vector>

#ifndef TG_EXAMPLES_DATA_DIR
#define TG_EXAMPLES_DATA_DIR "examples/data"
#endif

namespace {

// The rows of a CSV file as strings, header skipped.
std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw tg::Error(fmt::format("micrograd_moons: cannot open {}", path));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream fields_in(line);
    for (std::string field; std::getline(fields_in, field, ',');) fields.push_back(field);
    rows.push_back(std::move(fields));
  }
  return rows;
}

// One layer of neurons the way micrograd adds: act = ((b + w₀x₀) + w₁x₁) + …, for all points
// and all neurons of the layer at once (x's column i times the weights' column i, an outer
// product). The matrix product computes the same sums in another order, with fused
// multiply-adds: close (the whole curve stays within 6e-15) but not micrograd's last bit.
tg::Tensor neuron_sums(const tg::nn::Linear& layer, const tg::Tensor& x) {
  tg::Tensor act = layer.bias;
  for (int64_t i = 0; i < layer.in_features(); ++i)
    act = act + tg::narrow(x, 1, i, 1) *
                    tg::reshape(tg::narrow(layer.weight, 1, i, 1), {layer.out_features()});
  return act;
}

// micrograd's MLP(2, [16, 16, 1]): ReLU after the two hidden layers, a linear output neuron.
// The layers are nn::Linear, so parameters print as layer0.weight; with `blas` they run as
// nn::Linear does (one matrix product each), else in micrograd's order of additions.
struct MLP : tg::nn::Module {
  tg::nn::Linear& layer0 = register_module("layer0", tg::nn::Linear(2, 16));
  tg::nn::Linear& layer1 = register_module("layer1", tg::nn::Linear(16, 16));
  tg::nn::Linear& layer2 = register_module("layer2", tg::nn::Linear(16, 1));
  bool blas = false;
  tg::Tensor forward(const tg::Tensor& x) override {
    if (blas) return layer2(tg::relu(layer1(tg::relu(layer0(x)))));
    return neuron_sums(layer2, tg::relu(neuron_sums(layer1, tg::relu(neuron_sums(layer0, x)))));
  }
};

// Copies init_params.csv (layer, neuron, kind, index, value) into the layers: neuron j's weight i
// is row j, column i of the layer's weight, its bias entry j of the bias.
void load_initial_parameters(MLP& model, const std::string& path) {
  const std::vector<tg::nn::Linear*> layers = {&model.layer0, &model.layer1, &model.layer2};
  for (const auto& row : read_csv(path)) {
    tg::nn::Linear& layer = *layers.at(std::stoul(row.at(0)));
    const int64_t neuron = std::stol(row.at(1)), index = std::stol(row.at(3));
    const double value = std::stod(row.at(4));
    if (row.at(2) == "w")
      layer.weight.data<double>()[neuron * layer.in_features() + index] = value;
    else
      layer.bias.data<double>()[neuron] = value;
  }
}

// All 337 parameters in micrograd's order, one vector: per layer, per neuron, its weights and
// then its bias — each layer's [W | b] read row by row.
tg::Tensor micrograd_order(const MLP& model) {
  std::vector<tg::Tensor> rows;
  for (const tg::nn::Linear* layer : {&model.layer0, &model.layer1, &model.layer2})
    rows.push_back(tg::reshape(
        tg::cat({layer->weight, tg::reshape(layer->bias, {layer->out_features(), 1})}, 1), {-1}));
  return tg::cat(rows, 0);
}

// micrograd's loss: the SVM max-margin loss mean_i relu(1 − y_i·score_i), summed and multiplied
// by 1/n as micrograd does, plus 1e-4·Σ p². The sums add left to right from 0, as Python's sum();
// the squares in micrograd's parameter order, since a different order rounds differently (one
// sum per layer instead gives a step-0 loss one ulp higher than the one micrograd printed).
tg::Tensor total_loss(const tg::Tensor& scores, const tg::Tensor& y, const MLP& model) {
  const tg::Tensor margins = tg::relu(scores * -y + 1.0);
  const tg::Tensor data_loss = tg::sum(margins) * (1.0 / static_cast<double>(y.numel()));
  const tg::Tensor p = micrograd_order(model);
  return data_loss + tg::sum(p * p) * 1e-4;
}

int64_t correct(const tg::Tensor& scores, const tg::Tensor& y) {
  int64_t count = 0;
  for (int64_t i = 0; i < y.numel(); ++i)
    count += (y.data<double>()[i] > 0) == (scores.data<double>()[i] > 0) ? 1 : 0;
  return count;
}

// The decision boundary as micrograd's demo draws it: the sign of the score on a 0.25 grid over
// the data ± 1, the points on top, one colour per class.
void write_svg(MLP& model, const tg::Tensor& X, const tg::Tensor& y, const std::string& path) {
  const double* x = X.data<double>();
  const int64_t n = X.shape()[0];
  double x0_min = x[0], x0_max = x[0], x1_min = x[1], x1_max = x[1];
  for (int64_t i = 0; i < n; ++i) {
    x0_min = std::min(x0_min, x[2 * i]);
    x0_max = std::max(x0_max, x[2 * i]);
    x1_min = std::min(x1_min, x[2 * i + 1]);
    x1_max = std::max(x1_max, x[2 * i + 1]);
  }
  const double step = 0.02, left = x0_min - 1, right = x0_max + 1, bottom = x1_min - 1,
               top = x1_max + 1, scale = 120;
  const auto columns = static_cast<int64_t>(std::ceil((right - left) / step));
  const auto rows = static_cast<int64_t>(std::ceil((top - bottom) / step));
  std::vector<double> grid;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < columns; ++c) {
      grid.push_back(left + (static_cast<double>(c) + 0.5) * step);
      grid.push_back(bottom + (static_cast<double>(r) + 0.5) * step);
    }
  tg::NoGradGuard no_grad;
  const tg::Tensor scores = model(tg::tensor(grid, {rows * columns, 2}, {.dtype = tg::f64}));
  const double width = (right - left) * scale, height = (top - bottom) * scale;
  auto px = [&](double v) { return (v - left) * scale; };
  auto py = [&](double v) { return (top - v) * scale; };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.1f} {:.1f}\">\n<title>micrograd moons: decision boundary after 100 "
      "steps</title>\n",
      width, height, width, height);
  // One rectangle per run of cells of the same class along a row keeps the file small.
  const double cell = step * scale;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < columns;) {
      const bool positive = scores.data<double>()[r * columns + c] > 0;
      int64_t end = c + 1;
      while (end < columns && (scores.data<double>()[r * columns + end] > 0) == positive) ++end;
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"/>\n",
          static_cast<double>(c) * cell, height - static_cast<double>(r + 1) * cell,
          static_cast<double>(end - c) * cell + 0.3, cell + 0.3, positive ? "#f6c9a8" : "#b7d3ea");
      c = end;
    }
  for (int64_t i = 0; i < n; ++i)
    svg += fmt::format(
        "<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"6\" fill=\"{}\" stroke=\"black\"/>\n",
        px(x[2 * i]), py(x[2 * i + 1]), y.data<double>()[i] > 0 ? "#d9541e" : "#1f5fa8");
  std::ofstream(path) << svg << "</svg>\n";
}

}  // namespace

int main(int argc, char** argv) {
  // micrograd_moons [--blas] [DATA_DIR] [SVG_PATH]
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool blas = !args.empty() && args[0] == "--blas";
  if (blas) args.erase(args.begin());
  const std::string data_dir = args.size() > 0 ? args[0] : TG_EXAMPLES_DATA_DIR "/micrograd_moons";
  const std::string svg_path = args.size() > 1 ? args[1] : "micrograd_moons.svg";

  std::vector<double> points, labels;
  for (const auto& row : read_csv(data_dir + "/data.csv")) {
    points.push_back(std::stod(row.at(0)));
    points.push_back(std::stod(row.at(1)));
    labels.push_back(std::stod(row.at(2)));
  }
  const auto n = static_cast<int64_t>(labels.size());
  const tg::Tensor X = tg::tensor(points, {n, 2}, {.dtype = tg::f64});
  const tg::Tensor y = tg::tensor(labels, {n, 1}, {.dtype = tg::f64});

  MLP model;
  model.blas = blas;
  model.to(tg::f64);
  load_initial_parameters(model, data_dir + "/init_params.csv");
  // micrograd's parameter order: per layer, per neuron, its weights then its bias.
  std::vector<tg::Tensor> parameters;
  int64_t count = 0;
  for (const tg::Tensor& p : model.parameters()) {
    parameters.push_back(p);
    count += p.numel();
  }
  fmt::print("number of parameters {}; layers computed {}\n", count,
             blas ? "as matrix products (BLAS)" : "in micrograd's order of additions");

  const auto expected = read_csv(data_dir + "/expected.csv");
  const auto expected_grads = read_csv(data_dir + "/grads_step0.csv");
  const auto notebook = read_csv(data_dir + "/notebook_printed.csv");
  int identical_expected = 0, identical_notebook = 0;
  double worst_relative = 0;
  int accuracy_equal = 0;
  int64_t gradients_within = 0;
  for (int k = 0; k < 100; ++k) {
    const tg::Tensor scores = model(X);
    const tg::Tensor loss = total_loss(scores, y, model);
    const int64_t right = correct(scores, y);
    model.zero_grad();
    loss.backward();
    fmt::print("step {} loss {}, accuracy {:.1f}%\n", k, loss.item(),
               100.0 * static_cast<double>(right) / static_cast<double>(n));

    const double want = std::stod(expected.at(k).at(1));
    identical_expected += loss.item() == want ? 1 : 0;
    identical_notebook += loss.item() == std::stod(notebook.at(k).at(1)) ? 1 : 0;
    worst_relative = std::max(worst_relative, std::abs(loss.item() - want) / std::abs(want));
    // expected.csv keeps the fraction (0.81); compare counts, which are what is exact.
    if (std::lround(std::stod(expected.at(k).at(2)) * static_cast<double>(n)) == right)
      ++accuracy_equal;
    if (k == 0) {
      const std::vector<tg::nn::Linear*> layers = {&model.layer0, &model.layer1, &model.layer2};
      for (const auto& row : expected_grads) {
        const tg::nn::Linear& layer = *layers.at(std::stoul(row.at(0)));
        const int64_t neuron = std::stol(row.at(1)), index = std::stol(row.at(3));
        const double got =
            row.at(2) == "w"
                ? layer.weight.grad().data<double>()[neuron * layer.in_features() + index]
                : layer.bias.grad().data<double>()[neuron];
        const double grad = std::stod(row.at(4));
        if (std::abs(got - grad) <= 1e-12 * std::abs(grad) || std::abs(got - grad) <= 1e-15)
          ++gradients_within;
      }
    }

    // micrograd's update: p.data -= lr·p.grad, the rate falling linearly from 1.0 to 0.109.
    const double learning_rate = 1.0 - 0.9 * k / 100;
    for (tg::Tensor& p : parameters) {
      double* value = p.data<double>();
      const double* grad = p.grad().data<double>();
      for (int64_t i = 0; i < p.numel(); ++i) value[i] -= learning_rate * grad[i];
      p.mark_modified();
    }
  }

  fmt::print(
      "\nagainst expected.csv: largest relative loss difference {:.1e} over 100 steps "
      "(tolerance 1e-12): {}\n",
      worst_relative, worst_relative <= 1e-12 ? "all within" : "NOT within");
  fmt::print("accuracy equal at {}/100 steps\n", accuracy_equal);
  // Not required: where gradient contributions are added in another order the last bits differ
  // (micrograd's own order depends on Python's set order: the fixture's README).
  fmt::print(
      "losses bit-identical to expected.csv at {}/100 steps, to the notebook's printed "
      "lines at {}/100\n",
      identical_expected, identical_notebook);
  fmt::print(
      "step-0 gradients within 1e-12 relative (or 1e-15 absolute) of grads_step0.csv: "
      "{}/{}\n",
      gradients_within, expected_grads.size());
  write_svg(model, X, y, svg_path);
  fmt::print("decision boundary written to {}\n", svg_path);
  return worst_relative <= 1e-12 && accuracy_equal == 100 &&
                 gradients_within == static_cast<int64_t>(expected_grads.size())
             ? 0
             : 1;
}
