// tg::optim::detail: reading and writing state dict entries, for optimizers and schedulers.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/autograd/state_dict.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::optim::detail {

/// What a tensor entry must look like: `like`'s shape and dtype for a per-parameter buffer,
/// `flat_size` doubles for LBFGS's flat vectors.
struct Expected {
  Tensor like;
  int64_t flat_size = 0;
};

/// Writes one value under `key` (or several under `key.<k>` for lists); integers as 0-D i64,
/// doubles and booleans as 0-D f64, pairs as [2] f64, strings as i64 character codes,
/// buffers as copies. Undefined tensors, empty vectors and unset optionals write nothing.
void write(StateDict& dict, const std::string& key, double value);
void write(StateDict& dict, const std::string& key, int64_t value);
void write(StateDict& dict, const std::string& key, bool value);
void write(StateDict& dict, const std::string& key, const std::pair<double, double>& value);
void write(StateDict& dict, const std::string& key, const std::string& value);
void write(StateDict& dict, const std::string& key, const std::optional<int64_t>& value);
void write(StateDict& dict, const std::string& key, const Tensor& value);
void write(StateDict& dict, const std::string& key, const std::vector<double>& value);
void write(StateDict& dict, const std::string& key, const std::deque<double>& value);
void write(StateDict& dict, const std::string& key, const std::deque<std::vector<double>>& value);

/// True when a per-parameter state holds something worth writing: a defined buffer, a non-zero
/// count or a non-empty list.
inline bool is_set(double) { return false; }
inline bool is_set(int64_t value) { return value != 0; }
inline bool is_set(bool) { return false; }
inline bool is_set(const std::pair<double, double>&) { return false; }
inline bool is_set(const std::string&) { return false; }
inline bool is_set(const std::optional<int64_t>&) { return false; }
inline bool is_set(const Tensor& value) { return value.defined(); }
inline bool is_set(const std::vector<double>& value) { return !value.empty(); }
inline bool is_set(const std::deque<double>& value) { return !value.empty(); }
inline bool is_set(const std::deque<std::vector<double>>& value) { return !value.empty(); }

/// Reads a dict's entries, checking each and remembering which were read, so that entries
/// nobody read can be reported. Every error names `owner` and the entry.
class Reader {
 public:
  Reader(const StateDict& dict, std::string owner) : dict_(dict), owner_(std::move(owner)) {}

  /// True when some entry starts with `prefix`.
  bool has_prefix(const std::string& prefix) const;
  /// Throws "<owner>: load_state_dict: <message>".
  [[noreturn]] void fail(const std::string& message) const;
  /// Throws for the first entry no read() asked for.
  void check_all_read() const;
  /// Throws unless the string entry `key` equals `expected`.
  void expect_string(const std::string& key, const std::string& expected);

  /// Reads `key` into `out`; scalars, pairs and strings must be present, the rest may be
  /// absent (then `out` is left undefined, empty or unset).
  void read(const std::string& key, double& out, const Expected& expected);
  void read(const std::string& key, int64_t& out, const Expected& expected);
  void read(const std::string& key, bool& out, const Expected& expected);
  void read(const std::string& key, std::pair<double, double>& out, const Expected& expected);
  void read(const std::string& key, std::string& out, const Expected& expected);
  void read(const std::string& key, std::optional<int64_t>& out, const Expected& expected);
  void read(const std::string& key, Tensor& out, const Expected& expected);
  void read(const std::string& key, std::vector<double>& out, const Expected& expected);
  void read(const std::string& key, std::deque<double>& out, const Expected& expected);
  void read(const std::string& key, std::deque<std::vector<double>>& out, const Expected& expected);

 private:
  const Tensor* find(const std::string& key);
  const Tensor& require(const std::string& key);
  void check(const std::string& key, const Tensor& t, DType dtype, const Shape& shape) const;

  const StateDict& dict_;
  std::string owner_;
  std::set<std::string> read_;
};

}  // namespace tg::optim::detail
