// The state dict entries of optimizers and schedulers: one encoding per value type, and a
// reader that checks every entry's dtype and shape and reports missing and unexpected ones.
#include "tapegrad/optim/state_io.hpp"

#include <fmt/format.h>

#include <cmath>

#include "tapegrad/autograd/error.hpp"

namespace tg::optim::detail {

namespace {

Tensor integers(const std::vector<int64_t>& values, Shape shape) {
  Tensor t = tg::zeros(std::move(shape), {.dtype = DType::i64});
  int64_t* data = t.data<int64_t>();
  for (size_t i = 0; i < values.size(); ++i) data[i] = values[i];
  return t;
}

std::string describe(DType dtype, const Shape& shape) {
  return fmt::format("{} {}", dtype_name(dtype), format_shape(shape));
}

}  // namespace

void write(StateDict& dict, const std::string& key, double value) {
  dict[key] = tg::scalar(value, {.dtype = DType::f64});
}

void write(StateDict& dict, const std::string& key, int64_t value) {
  dict[key] = integers({value}, {});
}

void write(StateDict& dict, const std::string& key, bool value) {
  write(dict, key, value ? 1.0 : 0.0);
}

void write(StateDict& dict, const std::string& key, const std::pair<double, double>& value) {
  dict[key] = tg::tensor({value.first, value.second}, {.dtype = DType::f64});
}

void write(StateDict& dict, const std::string& key, const std::string& value) {
  std::vector<int64_t> codes(value.begin(), value.end());
  dict[key] = integers(codes, {static_cast<int64_t>(codes.size())});
}

void write(StateDict& dict, const std::string& key, const std::optional<int64_t>& value) {
  if (value) write(dict, key, *value);
}

void write(StateDict& dict, const std::string& key, const Tensor& value) {
  if (value.defined()) dict[key] = value.detach().clone();
}

void write(StateDict& dict, const std::string& key, const std::vector<double>& value) {
  if (!value.empty())
    dict[key] = tg::tensor(value, {static_cast<int64_t>(value.size())}, {.dtype = DType::f64});
}

void write(StateDict& dict, const std::string& key, const std::deque<double>& value) {
  for (size_t k = 0; k < value.size(); ++k) write(dict, fmt::format("{}.{}", key, k), value[k]);
}

void write(StateDict& dict, const std::string& key, const std::deque<std::vector<double>>& value) {
  for (size_t k = 0; k < value.size(); ++k) write(dict, fmt::format("{}.{}", key, k), value[k]);
}

bool Reader::has_prefix(const std::string& prefix) const {
  auto it = dict_.lower_bound(prefix);
  return it != dict_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

void Reader::fail(const std::string& message) const {
  throw Error(fmt::format("{}: load_state_dict: {}", owner_, message));
}

void Reader::check_all_read() const {
  for (const auto& [key, value] : dict_)
    if (!read_.contains(key)) fail(fmt::format("unexpected entry {}", key));
}

const Tensor* Reader::find(const std::string& key) {
  auto it = dict_.find(key);
  if (it == dict_.end()) return nullptr;
  if (!it->second.defined()) fail(fmt::format("entry {} is an undefined tensor", key));
  read_.insert(key);
  return &it->second;
}

const Tensor& Reader::require(const std::string& key) {
  const Tensor* t = find(key);
  if (t == nullptr) fail(fmt::format("missing entry {}", key));
  return *t;
}

void Reader::check(const std::string& key, const Tensor& t, DType dtype, const Shape& shape) const {
  if (t.dtype() != dtype || t.shape() != shape)
    fail(fmt::format("entry {} is {}, expected {}", key, describe(t.dtype(), t.shape()),
                     describe(dtype, shape)));
}

void Reader::expect_string(const std::string& key, const std::string& expected) {
  std::string value;
  read(key, value, {});
  if (value != expected)
    fail(fmt::format("entry {} is \"{}\", expected \"{}\"", key, value, expected));
}

void Reader::read(const std::string& key, double& out, const Expected&) {
  const Tensor& t = require(key);
  check(key, t, DType::f64, {});
  out = t.data<double>()[0];
}

void Reader::read(const std::string& key, int64_t& out, const Expected&) {
  const Tensor& t = require(key);
  check(key, t, DType::i64, {});
  out = t.data<int64_t>()[0];
}

void Reader::read(const std::string& key, bool& out, const Expected&) {
  const Tensor& t = require(key);
  check(key, t, DType::f64, {});
  const double value = t.data<double>()[0];
  if (value != 0 && value != 1) fail(fmt::format("entry {} is {}, expected 0 or 1", key, value));
  out = value == 1;
}

void Reader::read(const std::string& key, std::pair<double, double>& out, const Expected&) {
  const Tensor& t = require(key);
  check(key, t, DType::f64, {2});
  out = {t.data<double>()[0], t.data<double>()[1]};
}

void Reader::read(const std::string& key, std::string& out, const Expected&) {
  const Tensor& t = require(key);
  if (t.dtype() != DType::i64 || t.dim() != 1)
    fail(fmt::format("entry {} is {}, expected i64 [n] character codes", key,
                     describe(t.dtype(), t.shape())));
  std::string value;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t code = t.data<int64_t>()[i];
    if (code <= 0 || code > 127) fail(fmt::format("entry {} holds a non-ASCII code {}", key, code));
    value.push_back(static_cast<char>(code));
  }
  out = std::move(value);
}

void Reader::read(const std::string& key, std::optional<int64_t>& out, const Expected&) {
  out.reset();
  if (const Tensor* t = find(key)) {
    check(key, *t, DType::i64, {});
    out = t->data<int64_t>()[0];
  }
}

void Reader::read(const std::string& key, Tensor& out, const Expected& expected) {
  out = Tensor();
  if (const Tensor* t = find(key)) {
    check(key, *t, expected.like.dtype(), expected.like.shape());
    out = t->detach().clone();
  }
}

void Reader::read(const std::string& key, std::vector<double>& out, const Expected& expected) {
  out.clear();
  if (const Tensor* t = find(key)) {
    check(key, *t, DType::f64, {expected.flat_size});
    out.assign(t->data<double>(), t->data<double>() + t->numel());
  }
}

void Reader::read(const std::string& key, std::deque<double>& out, const Expected& expected) {
  out.clear();
  for (size_t k = 0; dict_.contains(fmt::format("{}.{}", key, k)); ++k)
    read(fmt::format("{}.{}", key, k), out.emplace_back(), expected);
}

void Reader::read(const std::string& key, std::deque<std::vector<double>>& out,
                  const Expected& expected) {
  out.clear();
  for (size_t k = 0; dict_.contains(fmt::format("{}.{}", key, k)); ++k)
    read(fmt::format("{}.{}", key, k), out.emplace_back(), expected);
}

}  // namespace tg::optim::detail
