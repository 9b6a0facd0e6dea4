// read_csv: numeric CSV parsing (text labels mapped to class indices) with errors that point at
// the file, line and column.
#include "tapegrad/data/csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string_view>
#include <system_error>

#include "tapegrad/autograd/error.hpp"

namespace tg::data {
namespace {

struct CloseFile {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string read_file(const std::string& path) {
  std::unique_ptr<std::FILE, CloseFile> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw Error(fmt::format("read_csv: cannot open '{}': {}", path, std::strerror(errno)));
  std::string text;
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, got);
  if (std::ferror(file.get()))
    throw Error(fmt::format("read_csv: {}: read error: {}", path, std::strerror(errno)));
  return text;
}

// Splits lines into fields and reports problems with their position.
class Parser {
 public:
  Parser(const std::string& path, char delimiter) : path_(path), delimiter_(delimiter) {}

  [[noreturn]] void fail(int64_t line, std::string_view what) const {
    throw Error(fmt::format("read_csv: {}: line {}: {}", path_, line, what));
  }

  bool is_padding(char c) const { return (c == ' ' || c == '\t') && c != delimiter_; }

  // The fields of one line (without its line end), unquoted and trimmed.
  std::vector<std::string> split(std::string_view line, int64_t line_number) const {
    std::vector<std::string> fields;
    size_t i = 0;
    for (;;) {
      while (i < line.size() && is_padding(line[i])) ++i;
      std::string field;
      if (i < line.size() && line[i] == '"') {
        ++i;
        for (;;) {
          if (i >= line.size())
            fail(line_number,
                 fmt::format("column {}: unterminated quoted field", fields.size() + 1));
          if (line[i] == '"') {
            if (i + 1 < line.size() && line[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          field += line[i++];
        }
        while (i < line.size() && is_padding(line[i])) ++i;
        if (i < line.size() && line[i] != delimiter_)
          fail(line_number, fmt::format("column {}: unexpected '{}' after a quoted field",
                                        fields.size() + 1, line[i]));
      } else {
        const size_t start = i;
        while (i < line.size() && line[i] != delimiter_) ++i;
        size_t end = i;
        while (end > start && is_padding(line[end - 1])) --end;
        field.assign(line.substr(start, end - start));
      }
      fields.push_back(std::move(field));
      if (i >= line.size()) return fields;
      ++i;  // the delimiter
    }
  }

 private:
  const std::string& path_;
  char delimiter_;
};

bool is_blank(std::string_view line) {
  for (const char c : line)
    if (c != ' ' && c != '\t') return false;
  return true;
}

// The number in `text`, or nullopt; accepts what strtod does in the C locale except hex.
std::optional<double> parse_number(std::string_view text, bool& out_of_range) {
  out_of_range = false;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range && end == text.data() + text.size()) {
    out_of_range = true;
    return std::nullopt;
  }
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

CsvData read_csv(const std::string& path, const CsvOptions& options) {
  if (!options.label_column.empty() && options.label_index)
    throw Error(fmt::format("read_csv: {}: set label_column ('{}') or label_index ({}), not both",
                            path, options.label_column, *options.label_index));
  if (!options.label_column.empty() && !options.header)
    throw Error(fmt::format("read_csv: {}: label_column '{}' needs header = true; use label_index",
                            path, options.label_column));
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r')
    throw Error(fmt::format("read_csv: {}: the delimiter cannot be a quote or a line end", path));
  const bool text_labels = options.text_labels || !options.label_classes.empty();
  if (options.text_labels && !options.label_classes.empty())
    throw Error(fmt::format(
        "read_csv: {}: set label_classes (the classes in index order) or text_labels (find "
        "them in the file), not both",
        path));
  if (text_labels && options.label_column.empty() && !options.label_index)
    throw Error(fmt::format("read_csv: {}: {} needs a label column (label_column or label_index)",
                            path, options.text_labels ? "text_labels" : "label_classes"));
  // Class name -> index, from the given list (checked here) or, with text_labels, the file.
  std::map<std::string, int64_t, std::less<>> class_index;
  for (size_t k = 0; k < options.label_classes.size(); ++k) {
    const std::string& name = options.label_classes[k];
    if (name.empty()) throw Error(fmt::format("read_csv: {}: label_classes[{}] is empty", path, k));
    if (!class_index.emplace(name, static_cast<int64_t>(k)).second)
      throw Error(fmt::format("read_csv: {}: label_classes names '{}' twice", path, name));
  }

  const std::string text = read_file(path);
  const Parser parser(path, options.delimiter);

  CsvData result;
  std::vector<std::string> names;
  int64_t columns = -1;      // fields per row, from the header or the first row
  int64_t columns_line = 0;  // the line that set it
  int64_t label = -1;        // 0-based label column, or -1
  int64_t rows = 0;
  std::vector<double> features;
  std::vector<double> labels;
  std::vector<std::string> label_names;  // text labels found in the file (text_labels)

  auto column_label = [&](int64_t column) {
    return names.empty() || !options.header
               ? fmt::format("column {}", column + 1)
               : fmt::format("column {} ('{}')", column + 1, names[static_cast<size_t>(column)]);
  };
  auto choose_label = [&](int64_t line_number) {
    if (!options.label_column.empty()) {
      for (size_t k = 0; k < names.size(); ++k)
        if (names[k] == options.label_column) {
          label = static_cast<int64_t>(k);
          break;
        }
      if (label < 0) {
        std::string known;
        for (const std::string& name : names) known += (known.empty() ? "'" : ", '") + name + "'";
        parser.fail(line_number, fmt::format("no column named '{}' in the header (columns: {})",
                                             options.label_column, known));
      }
    } else if (options.label_index) {
      const int64_t index =
          *options.label_index < 0 ? *options.label_index + columns : *options.label_index;
      if (index < 0 || index >= columns)
        parser.fail(line_number, fmt::format("label_index {} is out of range for {} columns",
                                             *options.label_index, columns));
      label = index;
    }
  };

  int64_t line_number = 0;
  size_t position = 0;
  while (position < text.size()) {
    size_t end = text.find('\n', position);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + position, end - position);
    position = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_blank(line)) continue;

    std::vector<std::string> fields = parser.split(line, line_number);
    const int64_t count = static_cast<int64_t>(fields.size());
    if (columns < 0) {
      columns = count;
      columns_line = line_number;
      if (options.header) {
        names = std::move(fields);
        choose_label(line_number);
        continue;
      }
      for (int64_t k = 0; k < columns; ++k) names.push_back(std::to_string(k));
      choose_label(line_number);
    }
    if (count != columns)
      parser.fail(line_number,
                  fmt::format("{} fields where line {} has {}", count, columns_line, columns));

    for (int64_t k = 0; k < columns; ++k) {
      const std::string& field = fields[static_cast<size_t>(k)];
      if (k == label && text_labels) {
        if (field.empty())
          parser.fail(line_number,
                      fmt::format("data row {}: {}: empty label", rows + 1, column_label(k)));
        if (options.text_labels) {
          label_names.push_back(field);
          continue;
        }
        const auto found = class_index.find(field);
        if (found == class_index.end()) {
          std::string known;
          for (const std::string& name : options.label_classes)
            known += (known.empty() ? "'" : ", '") + name + "'";
          parser.fail(line_number,
                      fmt::format("data row {}: {}: '{}' is not one of the label_classes ({})",
                                  rows + 1, column_label(k), field, known));
        }
        labels.push_back(static_cast<double>(found->second));
        continue;
      }
      bool out_of_range = false;
      const std::optional<double> value = parse_number(field, out_of_range);
      if (!value) {
        if (field.empty()) parser.fail(line_number, fmt::format("{}: empty cell", column_label(k)));
        parser.fail(line_number,
                    fmt::format("{}: '{}' is {}", column_label(k), field,
                                out_of_range ? "out of the range of a double" : "not a number"));
      }
      // A value headed for an i64 tensor must convert exactly (static_cast would be undefined
      // for NaN or out-of-range values and would silently truncate 2.5).
      const DType target = k == label ? options.label_dtype : options.dtype;
      if (target == DType::i64 &&
          !(std::isfinite(*value) && std::trunc(*value) == *value && std::abs(*value) < 0x1p53))
        parser.fail(line_number, fmt::format("{}: {} '{}' is not an integer ({} i64)",
                                             column_label(k), k == label ? "label" : "value", field,
                                             k == label ? "label_dtype" : "dtype"));
      (k == label ? labels : features).push_back(*value);
    }
    ++rows;
  }

  if (columns < 0) throw Error(fmt::format("read_csv: {}: the file is empty", path));
  if (rows == 0)
    throw Error(fmt::format("read_csv: {}: the file has a header (line {}) but no data rows", path,
                            columns_line));

  // tg::tensor narrows with static_cast, which is undefined for doubles beyond float's range.
  auto saturate_for = [](DType dtype, std::vector<double>& values) {
    if (dtype != DType::f32) return;
    for (double& value : values)
      if (std::isfinite(value) && std::abs(value) > std::numeric_limits<float>::max())
        value = std::copysign(std::numeric_limits<double>::infinity(), value);
  };
  saturate_for(options.dtype, features);
  DType label_dtype = options.label_dtype;
  if (text_labels) {
    label_dtype = DType::i64;
    if (options.text_labels) {
      // The distinct names, sorted, are the classes: the indices do not depend on row order.
      std::vector<std::string> sorted = label_names;
      std::sort(sorted.begin(), sorted.end());
      sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
      for (size_t k = 0; k < sorted.size(); ++k)
        class_index.emplace(sorted[k], static_cast<int64_t>(k));
      for (const std::string& name : label_names)
        labels.push_back(static_cast<double>(class_index.find(name)->second));
      result.label_classes = std::move(sorted);
    } else {
      result.label_classes = options.label_classes;
    }
  } else {
    saturate_for(options.label_dtype, labels);
  }
  const int64_t feature_count = label >= 0 ? columns - 1 : columns;
  result.features = tensor(std::move(features), {rows, feature_count}, {.dtype = options.dtype});
  if (label >= 0) {
    result.labels = tensor(std::move(labels), {rows}, {.dtype = label_dtype});
    result.label_name = names[static_cast<size_t>(label)];
  }
  for (int64_t k = 0; k < columns; ++k)
    if (k != label) result.feature_names.push_back(names[static_cast<size_t>(k)]);
  return result;
}

}  // namespace tg::data
