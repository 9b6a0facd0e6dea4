// gradcheck and gradgradcheck: the points to check (the given one, random ones), f32 inputs
// taken through f64, and one report; each point's check lives in gradcheck_reverse.cpp,
// gradcheck_forward.cpp and gradcheck_upcast.cpp.
#include "tapegrad/autograd/gradcheck.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "gradcheck_detail.hpp"
#include "tapegrad/autograd/backward.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg {
namespace {

using detail::gradcheck::derive_seed;
using detail::gradcheck::Function;
using detail::gradcheck::PointCheck;
using detail::gradcheck::SeededGenerator;

void check_dtypes(const char* op, const std::vector<Tensor>& inputs, bool upcast) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& input = inputs[i];
    if (!input.requires_grad() || input.dtype() == DType::f64) continue;
    if (upcast && input.dtype() == DType::f32) continue;
    throw Error(fmt::format(
        "{}: input {} is {} (shape {}); finite differences need f64 inputs — create them with "
        "{{.dtype = tg::f64}}, convert with .to(tg::f64), or let {} convert f32 inputs with "
        "{{.upcast = true}}",
        op, i, dtype_name(input.dtype()), format_shape(input.shape()), op));
  }
}

// Writes each random point into the inputs that require grad (in place, so that a function
// which reads them from elsewhere, as a module's loss does, sees it too) and puts the given
// values back when the check ends, by return or by exception.
class PointWriter {
 public:
  explicit PointWriter(const std::vector<Tensor>& inputs) : inputs_(inputs) {
    for (const Tensor& input : inputs_)
      saved_.push_back(input.requires_grad() ? input.detach().clone() : Tensor());
  }
  ~PointWriter() {
    if (!drawn_) return;
    NoGradGuard no_grad;
    for (size_t i = 0; i < inputs_.size(); ++i)
      if (saved_[i].defined()) inputs_[i].copy_(saved_[i]);
  }
  PointWriter(const PointWriter&) = delete;
  PointWriter& operator=(const PointWriter&) = delete;

  void draw(const GradcheckOptions& options, int point) {
    drawn_ = true;
    std::vector<Tensor> values;
    {
      const SeededGenerator generator(
          derive_seed(options.seed, detail::gradcheck::kPointStream, point));
      for (size_t i = 0; i < inputs_.size(); ++i) {
        const Tensor& input = inputs_[i];
        if (!input.requires_grad()) {
          values.emplace_back();
          continue;
        }
        Tensor value = options.sampler ? options.sampler(input.shape(), input.dtype())
                                       : randn(input.shape(), {.dtype = input.dtype()});
        if (!value.defined() || value.shape() != input.shape())
          throw Error(fmt::format(
              "gradcheck: the sampler returned {} for input {} of shape {}",
              value.defined() ? "shape " + format_shape(value.shape()) : "an undefined tensor", i,
              format_shape(input.shape())));
        values.push_back(value.detach());
      }
    }
    NoGradGuard no_grad;
    for (size_t i = 0; i < inputs_.size(); ++i)
      if (values[i].defined()) inputs_[i].copy_(values[i].to(inputs_[i].dtype()));
  }

 private:
  std::vector<Tensor> inputs_;
  std::vector<Tensor> saved_;
  bool drawn_ = false;
};

// f64 copies of the f32 inputs (leaves that require grad where the originals do); the rest as
// they are. Every f32 value is an f64, so both runs see the same point.
std::vector<Tensor> upcast_inputs(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> converted;
  for (const Tensor& input : inputs) {
    if (!input.defined() || input.dtype() != DType::f32) {
      converted.push_back(input);
      continue;
    }
    Tensor copy = input.detach().to(DType::f64).clone();
    if (input.requires_grad()) copy.set_requires_grad();
    converted.push_back(copy);
  }
  return converted;
}

// Converts the f32 tensors to f64 in place (set_data, as Module::to: every handle follows) for
// the guard's lifetime, for functions that read their tensors from elsewhere (a module's loss).
class InPlaceF64 {
 public:
  explicit InPlaceF64(const std::vector<Tensor>& tensors) {
    NoGradGuard no_grad;
    for (const Tensor& t : tensors)
      if (t.defined() && t.dtype() == DType::f32) {
        converted_.push_back(t);
        converted_.back().set_data(t.to(DType::f64));
      }
  }
  ~InPlaceF64() {
    NoGradGuard no_grad;
    for (Tensor& t : converted_) t.set_data(t.to(DType::f32));  // exact: the values were f32
  }
  InPlaceF64(const InPlaceF64&) = delete;
  InPlaceF64& operator=(const InPlaceF64&) = delete;

 private:
  std::vector<Tensor> converted_;
};

bool has_f32(const std::vector<Tensor>& inputs) {
  return std::any_of(inputs.begin(), inputs.end(), [](const Tensor& t) {
    return t.defined() && t.requires_grad() && t.dtype() == DType::f32;
  });
}

// "[0.5, -1, 2]" (the first 16 values) for a failing random point's report.
std::string values_text(const Tensor& t) {
  const std::vector<double> values = t.to_vector();
  std::string text = "[";
  for (size_t i = 0; i < values.size() && i < 16; ++i)
    text += fmt::format("{}{:.10g}", i ? ", " : "", values[i]);
  if (values.size() > 16) text += fmt::format(", ... ({} values)", values.size());
  return text + "]";
}

// How upcast reaches the function: fresh f64 copies passed as its argument, or (for a function
// that reads the tensors from elsewhere) the tensors themselves converted in place.
enum class Upcast { copies, in_place };

GradcheckResult check_points(const Function& fn, const std::vector<Tensor>& inputs,
                             const GradcheckOptions& options, const char* op,
                             Upcast upcast = Upcast::copies) {
  if (options.samples < 1)
    throw Error(fmt::format("{}: samples must be at least 1 (the given inputs), got {}", op,
                            options.samples));
  check_dtypes(op, inputs, options.upcast);
  detail::gradcheck::checked_inputs(op, inputs);
  const bool forward = options.mode == GradcheckMode::forward;
  const char* mode_name = forward ? "gradcheck (forward mode)" : "gradcheck";
  const bool through_f64 = options.upcast && has_f32(inputs);
  auto check_at = [&](const std::vector<Tensor>& point_inputs, int point) {
    return forward ? detail::gradcheck::check_forward(
                         fn, point_inputs, options,
                         derive_seed(options.seed, detail::gradcheck::kTangentStream, point))
                   : detail::gradcheck::check_reverse(fn, point_inputs, options);
  };

  GradcheckResult result;
  std::string failing_reports, kink_reports;
  int failed_points = 0;
  PointWriter writer(inputs);
  for (int point = 0; point < options.samples; ++point) {
    if (point > 0) writer.draw(options, point);
    PointCheck check;
    PointCheck low;
    if (!through_f64) {
      check = check_at(inputs, point);
    } else {
      using detail::gradcheck::analytical_jacobian;
      const detail::gradcheck::Checked checked = detail::gradcheck::checked_inputs(op, inputs);
      Shape output_shape;
      const detail::gradcheck::Jacobian f32_jacobian =
          analytical_jacobian(fn, inputs, checked, nullptr, nullptr);
      detail::gradcheck::Jacobian f64_jacobian;
      if (upcast == Upcast::copies) {
        const std::vector<Tensor> converted = upcast_inputs(inputs);
        check = check_at(converted, point);
        f64_jacobian =
            analytical_jacobian(fn, converted, detail::gradcheck::checked_inputs(op, converted),
                                &output_shape, nullptr);
      } else {
        const InPlaceF64 in_f64(inputs);
        check = check_at(inputs, point);
        f64_jacobian = analytical_jacobian(fn, inputs, checked, &output_shape, nullptr);
      }
      low = detail::gradcheck::compare_f32(f32_jacobian, f64_jacobian, checked, output_shape,
                                           options);
    }
    std::string report = check.report(mode_name);
    bool point_ok = check.ok;
    if (through_f64) {
      if (low.ok) {
        report +=
            fmt::format("; f32 run agrees with f64 (max |difference| {:.3g})", low.max_abs_error);
      } else {
        point_ok = false;
        if (check.ok) report += "\n";
        report += fmt::format(
            "f32 run failed ({} entries differ from f64 beyond f32's "
            "tolerance):\n{}",
            low.failures, low.failure_lines);
        if (low.failures > 10) report += fmt::format("... and {} more\n", low.failures - 10);
      }
    }
    result.max_abs_error = std::max(result.max_abs_error, check.max_abs_error);
    result.kinks += check.kinks;
    if (options.samples == 1) {
      result.ok = point_ok;
      result.report = report;
      if (!point_ok) result.failed_point = 0;
      return result;
    }
    const std::string label = point == 0
                                  ? std::string("point 0 (the given inputs)")
                                  : fmt::format("point {} (random, seed {})", point, options.seed);
    if (point_ok) {
      if (check.kinks > 0) kink_reports += label + ": " + report + "\n";
      continue;
    }
    result.ok = false;
    if (result.failed_point < 0) result.failed_point = point;
    ++failed_points;
    std::string values;
    if (point > 0)
      for (size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i].requires_grad())
          values += fmt::format(
              "  {} = {}\n",
              i < options.input_names.size() ? options.input_names[i] : fmt::format("input {}", i),
              values_text(inputs[i]));
    failing_reports += label + (values.empty() ? "" : ", at\n" + values) + ": " + report + "\n";
  }
  if (result.ok)
    result.report = fmt::format(
        "{} passed at {} points (the given inputs and {} random, seed {}), max |error| {:.3g}{}",
        mode_name, options.samples, options.samples - 1, options.seed, result.max_abs_error,
        kink_reports.empty() ? "" : "\n" + kink_reports);
  else
    result.report = fmt::format("{} failed at {} of {} points (seed {}):\n{}", mode_name,
                                failed_points, options.samples, options.seed, failing_reports);
  return result;
}

}  // namespace

GradcheckResult gradcheck_in_place(Function fn, std::vector<Tensor> tensors,
                                   GradcheckOptions options) {
  return check_points(fn, tensors, options, "gradcheck", Upcast::in_place);
}

GradcheckResult gradcheck(Function fn, std::vector<Tensor> inputs, GradcheckOptions options) {
  return check_points(fn, inputs, options, "gradcheck");
}

GradcheckResult gradgradcheck(Function fn, std::vector<Tensor> inputs, GradcheckOptions options) {
  check_dtypes("gradgradcheck", inputs, options.upcast);
  Tensor probe;
  {
    EnableGradGuard grad_mode;
    probe = fn(inputs);
  }
  // Fixed random weights for the outputs make the first derivative a function worth checking.
  Tensor weights;
  {
    const SeededGenerator generator(derive_seed(options.seed, detail::gradcheck::kWeightStream, 0));
    weights = randn(probe.shape(), {.dtype = DType::f64});
  }
  std::vector<size_t> differentiable;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) differentiable.push_back(i);
  auto first_derivative = [fn, weights, differentiable](const std::vector<Tensor>& in) {
    EnableGradGuard grad_mode;
    const Tensor out = fn(in);
    std::vector<Tensor> wrt;
    for (size_t i : differentiable) wrt.push_back(in[i]);
    std::vector<Tensor> grads = grad({out}, wrt, {weights.to(out.dtype())}, /*create_graph=*/true);
    std::vector<Tensor> flat;
    for (size_t k = 0; k < grads.size(); ++k)
      flat.push_back(grads[k].defined() ? reshape(grads[k], {-1})
                                        : zeros({wrt[k].numel()}, {.dtype = wrt[k].dtype()}));
    return cat(flat, 0);
  };
  return check_points(first_derivative, inputs, options, "gradgradcheck");
}

}  // namespace tg
