// tg::nn::summary: walks the modules, optionally runs one observed forward, and formats the table.
#include "tapegrad/nn/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <typeinfo>
#include <vector>

#include "module_observer.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/type_name.hpp"

namespace tg::nn {
namespace {

// The type's own name: "tg::nn::Linear" and "(anonymous namespace)::Net" become "Linear", "Net".
std::string short_type_name(const Module& module) {
  const std::string full = tg::type_name(typeid(module));
  const size_t template_start = full.find('<');
  const size_t last_scope = full.rfind("::", template_start);
  return last_scope == std::string::npos ? full : full.substr(last_scope + 2);
}

// 1234567 as "1,234,567".
std::string grouped(int64_t value) {
  const std::string digits = std::to_string(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string human_bytes(int64_t bytes) {
  const auto value = static_cast<double>(bytes);
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", value / 1024);
  if (bytes < int64_t{1024} * 1024 * 1024) return fmt::format("{:.1f} MiB", value / (1024 * 1024));
  return fmt::format("{:.1f} GiB", value / (1024.0 * 1024 * 1024));
}

// Parameters registered by `module` itself: the named ones without a dot.
int64_t own_parameter_count(const Module& module) {
  int64_t count = 0;
  for (const auto& [name, tensor] : module.named_parameters())
    if (name.find('.') == std::string::npos) count += tensor.numel();
  return count;
}

// Puts back each module's training flag and the previous observer, even when forward throws.
class ForwardRun {
 public:
  explicit ForwardRun(Module& model) {
    auto modules = model.named_modules();
    for (auto& [name, module] : modules) modes_.emplace_back(module, module->is_training());
  }
  ~ForwardRun() {
    detail::exchange_forward_observer(previous_);
    // Parents first (named_modules' order): train(on) of a parent sets its children, which then
    // get their own flags back.
    for (auto& [module, training] : modes_) module->train(training);
  }
  ForwardRun(const ForwardRun&) = delete;
  ForwardRun& operator=(const ForwardRun&) = delete;

  void observe(detail::ForwardObserver* observer) {
    previous_ = detail::exchange_forward_observer(observer);
  }

 private:
  std::vector<std::pair<Module*, bool>> modes_;
  detail::ForwardObserver* previous_ = nullptr;
};

std::map<const Module*, Shape> output_shapes(Module& model, const Shape& input_shape) {
  std::map<const Module*, Shape> shapes;
  const std::vector<Tensor> parameters = model.parameters();
  const DType dtype = parameters.empty() ? DType::f32 : parameters.front().dtype();
  ForwardRun run(model);
  detail::ForwardObserver observer = [&](Module& module, const Tensor& output) {
    shapes.emplace(&module, output.shape());  // a module called twice keeps its first shape
  };
  run.observe(&observer);
  NoGradGuard no_grad;
  model.eval();
  model(zeros(input_shape, {.dtype = dtype}));
  return shapes;
}

std::string table(const Module& const_model, const std::optional<Shape>& input_shape) {
  // The modules are only read, except that the forward of a summary with shapes runs (in
  // evaluation mode, unrecorded, with every training flag restored).
  Module& model = const_cast<Module&>(const_model);
  std::map<const Module*, Shape> shapes;
  if (input_shape) shapes = output_shapes(model, *input_shape);

  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"Layer", "Type"};
  if (input_shape) header.emplace_back("Output shape");
  header.emplace_back("Params");
  auto add_row = [&](const std::string& name, const Module& module, int64_t count) {
    std::vector<std::string> row = {name, short_type_name(module)};
    if (input_shape) {
      auto found = shapes.find(&module);
      row.push_back(found == shapes.end() ? "-" : format_shape(found->second));
    }
    row.push_back(grouped(count));
    rows.push_back(std::move(row));
  };
  for (const auto& [name, module] : model.named_modules())
    if (!name.empty()) add_row(name, *module, own_parameter_count(*module));
  if (const int64_t own = own_parameter_count(model); own > 0) add_row("(own)", model, own);

  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();  // the counts, right-aligned
      text += last ? fmt::format("{:>{}}", cells[c], width[c])
                   : fmt::format("{:<{}}  ", cells[c], width[c]);
    }
    return text + "\n";
  };
  size_t total_width = 0;
  for (size_t w : width) total_width += w + 2;
  const std::string rule = std::string(total_width - 2, '-') + "\n";

  int64_t bytes = 0;
  for (const Tensor& parameter : model.parameters())
    bytes += parameter.numel() * (parameter.dtype() == DType::f32 ? 4 : 8);
  std::string out = line(header) + rule;
  for (const auto& row : rows) out += line(row);
  out += rule;
  out += fmt::format("Total params: {}\n", grouped(model.num_parameters()));
  out += fmt::format("Trainable params: {}\n", grouped(model.num_parameters(true)));
  out += fmt::format("Parameter memory: {} ({} bytes)\n", human_bytes(bytes), grouped(bytes));
  return out;
}

}  // namespace

std::string summary(const Module& model) { return table(model, std::nullopt); }

std::string summary(const Module& model, const Shape& input_shape) {
  return table(model, input_shape);
}

}  // namespace tg::nn
