// to_html: the page is self-contained, and in a real browser (headless Chromium) each step shows
// format_tape's numbers — values going forward, gradients, local derivatives and products going
// back. Without a browser the browser case says SKIPPED (CTest's SKIP_REGULAR_EXPRESSION).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/testing.hpp"

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// micrograd's lecture graph, L = (a·b + c)·f, recorded for inspection and run backward.
struct Lecture {
  tg::autograd::TapeInspectionGuard inspect;
  tg::Tensor a = value(2.0, "a"), b = value(-3.0, "b"), c = value(10.0, "c"), f = value(-2.0, "f");
  tg::Tensor e, d, L;
  Lecture() {
    e = (a * b).set_name("e");
    d = (e + c).set_name("d");
    L = (d * f).set_name("L");
    L.backward({.retain_graph = true});
  }
  static tg::Tensor value(double v, const char* name) {
    return tg::scalar(v, {.dtype = tg::f64, .requires_grad = true}).set_name(name);
  }
};

fs::path scratch_file(const std::string& name) {
  return fs::temp_directory_path() / fmt::format("tg_tape_html_{}_{}", ::getpid(), name);
}

// format_tape's lines, and the "to ...:" lines under record `number` (trimmed).
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}
std::string tape_line(const std::string& tape, const std::string& start) {
  for (const std::string& line : lines_of(tape))
    if (line.rfind(start, 0) == 0) return line;
  return "(no line starting with " + start + ")";
}
std::vector<std::string> flow_lines(const std::string& tape, int number) {
  std::vector<std::string> flows;
  bool inside = false;
  for (const std::string& line : lines_of(tape)) {
    if (line.rfind("#", 0) == 0) inside = line.rfind(fmt::format("#{}  ", number), 0) == 0;
    if (inside && line.rfind("      to ", 0) == 0) flows.push_back(line.substr(6));
  }
  return flows;
}
// "value 2" from "leaf a  [] f64  value 2  grad 6".
std::string field(const std::string& line, const std::string& name) {
  const size_t at = line.find("  " + name + " ");
  if (at == std::string::npos) return "(no " + name + ")";
  const size_t start = at + 2, end = line.find("  ", start);
  return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string unescape(std::string text) {
  const std::vector<std::pair<std::string, std::string>> entities = {
      {"&lt;", "<"},  {"&gt;", ">"},   {"&quot;", "\""},
      {"&#39;", "'"}, {"&nbsp;", " "}, {"&amp;", "&"}};
  for (const auto& [entity, character] : entities)
    for (size_t at = text.find(entity); at != std::string::npos;
         at = text.find(entity, at + character.size()))
      text.replace(at, entity.size(), character);
  return text;
}

// The text of the element with id `id` in a serialized DOM (its first text run).
std::string text_of(const std::string& dom, const std::string& id) {
  const size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "(no element " + id + ")";
  const size_t start = dom.find('>', at) + 1;
  return unescape(dom.substr(start, dom.find('<', start) - start));
}

std::vector<std::string> list_items(const std::string& dom, const std::string& id) {
  std::vector<std::string> items;
  const size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) return items;
  const size_t end = dom.find("</ul>", at);
  for (size_t li = dom.find("<li>", at); li != std::string::npos && li < end;
       li = dom.find("<li>", li + 4)) {
    const size_t start = li + 4;
    items.push_back(unescape(dom.substr(start, dom.find("</li>", start) - start)));
  }
  return items;
}

// The first browser found on PATH, or "".
std::string find_browser() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (std::system(fmt::format("command -v {} > /dev/null 2>&1", name).c_str()) == 0) return name;
  return "";
}

// Runs the headless browser on the page at step `step` with `mode` (--dump-dom or
// --screenshot=...), bounded in time; returns its standard output.
std::string run_browser(const std::string& browser, const fs::path& page, int step,
                        const std::string& mode) {
  const fs::path out = scratch_file(fmt::format("dom_{}.html", step));
  const fs::path profile = scratch_file("profile");
  // --no-sandbox: Chromium's sandbox refuses to run as root (CI containers).
  const std::string command = fmt::format(
      "timeout 90 {} --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
      "--no-first-run --user-data-dir='{}' --window-size=1280,600 --hide-scrollbars {} "
      "'file://{}#step={}' > '{}' 2> /dev/null",
      browser, profile.string(), mode, page.string(), step, out.string());
  const int status = std::system(command.c_str());
  INFO("command: " << command);
  CHECK(status == 0);
  std::string dom = read_file(out);
  fs::remove(out);
  fs::remove_all(profile);
  return dom;
}

}  // namespace

TEST_CASE("to_html writes one self-contained page with the tape's numbers") {
  Lecture lecture;
  const fs::path page = scratch_file("page.html");
  tg::autograd::to_html(lecture.L, page.string(), {.title = "micrograd <lecture>"});
  const std::string html = read_file(page);
  fs::remove(page);
  CHECK(tg::testing::contains(html, "<title>micrograd &lt;lecture&gt;</title>"));
  // Nothing fetched: no external scripts, styles, images or requests.
  for (const char* fetch :
       {"src=", "href=", "<link", "@import", "fetch(", "XMLHttpRequest", "url(http"})
    CHECK_FALSE(tg::testing::contains(html, fetch));
  // The data carries format_tape's lines: the forward line of #2 and a product passed back.
  const std::string tape = tg::autograd::format_tape(lecture.L, {.local_derivatives = true});
  CHECK(tg::testing::contains(html, tape_line(tape, "#2  ")));
  CHECK(tg::testing::contains(html, "to leaf a: local derivative -3, passes -2 · -3 = 6"));
}

TEST_CASE("to_html shows large tensors by shape and summary, and reports what it cannot do") {
  tg::autograd::TapeInspectionGuard inspect;
  const tg::Tensor w = tg::ones({3, 4}, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor loss = tg::sum(w * 2.0);
  loss.backward({.retain_graph = true});
  const fs::path page = scratch_file("large.html");
  tg::autograd::to_html(loss, page.string(), {.max_elements = 4});
  const std::string html = read_file(page);
  fs::remove(page);
  CHECK(tg::testing::contains(html, "12 values: min 2, mean 2, max 2"));  // w·2, 12 elements
  CHECK_FALSE(tg::testing::contains(html, "[[2, 2, 2, 2]"));
  CHECK_THROWS_AS(tg::autograd::to_html(loss, "/nonexistent-dir/page.html"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::autograd::to_html(loss, "/nonexistent-dir/page.html"),
                       doctest::Contains("to_html"), tg::Error);
  CHECK_THROWS_AS(tg::autograd::to_html(tg::Tensor(), page.string()), tg::Error);
  tg::autograd::to_html(w, page.string());  // a leaf: a page with nothing to step through
  CHECK(tg::testing::contains(read_file(page), "\"records\":[]"));
  fs::remove(page);
}

TEST_CASE("to_html shows a leaf's gradient once its last consumer has run backward") {
  // x feeds #1 (x·x) and #2 (#1 + x): backward runs #2 (step 3) then #1 (step 4).
  tg::autograd::TapeInspectionGuard inspect;
  const tg::Tensor x = tg::scalar(3.0, {.dtype = tg::f64, .requires_grad = true}).set_name("x");
  const tg::Tensor y = x * x + x;
  y.backward({.retain_graph = true});
  const fs::path page = scratch_file("two_uses.html");
  tg::autograd::to_html(y, page.string());
  const std::string html = read_file(page);
  fs::remove(page);
  CHECK(tg::testing::contains(html, "\"grad\":\"7\",\"grad_step\":4"));  // dy/dx = 2x + 1
}

TEST_CASE("to_html's page in a real browser: each step shows format_tape's numbers") {
  const std::string browser = find_browser();
  if (browser.empty()) {
    std::printf("tape_html_test SKIPPED: no chromium on PATH (scripts/setup installs it)\n");
    return;
  }
  Lecture lecture;
  const fs::path page = scratch_file("browser.html");
  tg::autograd::to_html(lecture.L, page.string(), {.title = "micrograd lecture: L = (a·b + c)·f"});
  const std::string tape = tg::autograd::format_tape(lecture.L, {.local_derivatives = true});
  const std::string forward_tape = tg::autograd::format_tape(lecture.L, {.gradients = false});
  CAPTURE(tape);
  // Three records: steps 0 (start), 1–3 forward, 4–6 backward (#3, #2, #1), 7 done.

  SUBCASE("start: the leaves hold their values, nothing is computed yet") {
    const std::string dom = run_browser(browser, page, 0, "--dump-dom");
    CHECK(text_of(dom, "value-l0") == field(tape_line(tape, "leaf a "), "value"));
    CHECK(text_of(dom, "value-l0") == "value 2");
    CHECK(text_of(dom, "value-r1").empty());
    CHECK(text_of(dom, "grad-l0").empty());
    CHECK(text_of(dom, "step-counter") == "step 0 / 7");
  }
  SUBCASE("forward, record 2: d's value, and #3 not yet computed") {
    const std::string dom = run_browser(browser, page, 2, "--dump-dom");
    CHECK(text_of(dom, "record-line") == tape_line(forward_tape, "#2  "));
    CHECK(text_of(dom, "value-r1") == field(tape_line(tape, "#1  "), "value"));
    CHECK(text_of(dom, "value-r2") == "value 4");  // d = a·b + c = −6 + 10
    CHECK(text_of(dom, "value-r3").empty());
    CHECK(text_of(dom, "grad-r2").empty());
  }
  SUBCASE("backward, record 3 first: L's gradient 1 arrives and goes to #2 and leaf f") {
    const std::string dom = run_browser(browser, page, 4, "--dump-dom");
    CHECK(text_of(dom, "record-line") == tape_line(tape, "#3  "));
    CHECK(text_of(dom, "arriving") == "gradient arriving: 1");
    CHECK(list_items(dom, "flows") == flow_lines(tape, 3));
    CHECK(list_items(dom, "flows").size() == 2);
    CHECK(text_of(dom, "grad-r3") == "grad 1");
    CHECK(text_of(dom, "grad-r2").empty());                                       // not reached yet
    CHECK(text_of(dom, "grad-l3") == field(tape_line(tape, "leaf f "), "grad"));  // final: 4
    CHECK(text_of(dom, "grad-l3") == "grad 4");
    CHECK(text_of(dom, "grad-l0").empty());
  }
  SUBCASE("backward, record 1: e passes −2 · −3 = 6 to a and −2 · 2 = −4 to b") {
    const std::string dom = run_browser(browser, page, 6, "--dump-dom");
    CHECK(text_of(dom, "record-line") == tape_line(tape, "#1  "));
    const std::vector<std::string> flows = list_items(dom, "flows");
    CHECK(flows == flow_lines(tape, 1));
    REQUIRE(flows.size() == 2);
    CHECK(flows[0] == "to leaf a: local derivative -3, passes -2 · -3 = 6");
  }
  SUBCASE("done: every leaf's gradient, as the lecture has them") {
    const std::string dom = run_browser(browser, page, 7, "--dump-dom");
    const std::vector<std::pair<std::string, std::string>> leaves = {
        {"l0", "leaf a "}, {"l1", "leaf b "}, {"l2", "leaf c "}, {"l3", "leaf f "}};
    for (const auto& [id, start] : leaves)
      CHECK(text_of(dom, "grad-" + id) == field(tape_line(tape, start), "grad"));
    CHECK(text_of(dom, "grad-l0") == "grad 6");
    CHECK(text_of(dom, "grad-l1") == "grad -4");
  }
  SUBCASE("a screenshot of the backward pass") {
    const fs::path png = fs::current_path() / "tape_html_step5.png";
    fs::remove(png);
    run_browser(browser, page, 5, fmt::format("--screenshot='{}'", png.string()));
    REQUIRE(fs::exists(png));
    CHECK(read_file(png).substr(1, 3) == "PNG");
  }
  fs::remove(page);
}
