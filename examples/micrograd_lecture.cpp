// Karpathy's micrograd lecture, on tapegrad: L = (a·b + c)·f at a = 2, b = −3, c = 10, f = −2 —
// forward values, every gradient read off the tape and checked by finite differences, the graph
// (Graphviz) and the tape as a web page to step through.
#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <string>
#include <tapegrad.hpp>

namespace {

tg::Tensor value(double v, const char* name) {
  tg::Tensor t = tg::scalar(v, {.dtype = tg::f64, .requires_grad = true});
  t.set_name(name);
  return t;
}

// L with each variable nudged by its entry of `nudge` (a, b, c, f, e, d), as the lecture does by
// hand, evaluated without recording anything.
double nudged_loss(const std::array<double, 6>& nudge) {
  tg::NoGradGuard no_grad;
  const tg::Tensor a = tg::scalar(2.0 + nudge[0], {.dtype = tg::f64});
  const tg::Tensor b = tg::scalar(-3.0 + nudge[1], {.dtype = tg::f64});
  const tg::Tensor c = tg::scalar(10.0 + nudge[2], {.dtype = tg::f64});
  const tg::Tensor f = tg::scalar(-2.0 + nudge[3], {.dtype = tg::f64});
  const tg::Tensor e = a * b + nudge[4];
  const tg::Tensor d = e + c + nudge[5];
  return (d * f).item();
}

}  // namespace

int main(int argc, char** argv) {
  tg::autograd::TapeInspectionGuard inspect;  // records keep values and incoming gradients
  const tg::Tensor a = value(2.0, "a"), b = value(-3.0, "b"), c = value(10.0, "c"),
                   f = value(-2.0, "f");
  tg::Tensor e = a * b;
  e.set_name("e");
  tg::Tensor d = e + c;
  d.set_name("d");
  tg::Tensor L = d * f;
  L.set_name("L");

  fmt::print("forward pass:\n  a = {}, b = {}, c = {}, f = {}\n", a.item(), b.item(), c.item(),
             f.item());
  fmt::print("  e = a·b = {}\n  d = e + c = {}\n  L = d·f = {}\n\n", e.item(), d.item(), L.item());

  L.backward({.retain_graph = true});
  fmt::print("the tape after L.backward(), with each record's local derivatives:\n{}\n",
             tg::autograd::format_tape(L, {.local_derivatives = true}));

  // The two intermediate values are not leaves, so their gradients come from tg::grad.
  const std::vector<tg::Tensor> inner = tg::grad({L}, {e, d}, {}, false, /*retain_graph=*/true);
  const std::array<std::pair<const char*, double>, 6> gradients = {{
      {"a", a.grad().item()},
      {"b", b.grad().item()},
      {"c", c.grad().item()},
      {"f", f.grad().item()},
      {"e", inner[0].item()},
      {"d", inner[1].item()},
  }};
  fmt::print("gradients, each beside the lecture's check (L(x + h) − L(x − h)) / 2h, h = 1e-4:\n");
  const double h = 1e-4;
  for (size_t i = 0; i < gradients.size(); ++i) {
    std::array<double, 6> up{}, down{};
    up[i] = h;
    down[i] = -h;
    const double numerical = (nudged_loss(up) - nudged_loss(down)) / (2 * h);
    fmt::print("  dL/d{} = {:>2}   finite difference {:.6f}\n", gradients[i].first,
               gradients[i].second, numerical);
  }

  const std::string dot_path = argc > 1 ? argv[1] : "micrograd_lecture.dot";
  std::ofstream(dot_path) << tg::autograd::to_dot(L, {.style = tg::autograd::DotStyle::micrograd});
  fmt::print("\ngraph written to {}", dot_path);
  // Graphviz renders it when installed; without it the .dot file is the result.
  if (std::system("command -v dot > /dev/null 2>&1") == 0) {
    const std::string svg_path = dot_path.substr(0, dot_path.rfind('.')) + ".svg";
    const std::string command = fmt::format("dot -Tsvg '{}' -o '{}'", dot_path, svg_path);
    if (std::system(command.c_str()) == 0)
      fmt::print(" and rendered to {}\n", svg_path);
    else
      fmt::print(" (dot failed on {})\n", svg_path);
  } else {
    fmt::print(" (install Graphviz and run: dot -Tsvg {} -o graph.svg)\n", dot_path);
  }

  // The same graph as a page to step through: forward record by record, then backward with each
  // local derivative and product; open it in a browser and press →.
  const std::string html_path = dot_path.substr(0, dot_path.rfind('.')) + ".html";
  tg::autograd::to_html(L, html_path, {.title = "micrograd lecture: L = (a·b + c)·f"});
  fmt::print("web page written to {} (open it and step with the arrow keys)\n", html_path);
}
