// tg::data::read_csv: numeric CSV files into a feature matrix and an optional label vector.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::data {

/// How read_csv splits and types a file.
struct CsvOptions {
  /// Name (from the header) of the column that holds the labels; "" for none.
  std::string label_column = "";
  /// Or its position, 0-based, negative counting from the end (-1: the last column).
  std::optional<int64_t> label_index = std::nullopt;
  bool header = true;    ///< the first non-blank line names the columns
  char delimiter = ',';  ///< field separator
  /// dtype of the features: f32 (as nn's modules), f64 on request; i64 requires integers.
  DType dtype = DType::f32;
  /// dtype of the labels: f32 (as a regression or BCE target beside f32 outputs), i64 for
  /// cross_entropy's class indices (integers required), or f64. Text labels are always i64.
  DType label_dtype = DType::f32;
  /// Text labels: the class names in index order, e.g. {"setosa", "versicolor", "virginica"}
  /// for 0, 1, 2. The label column then holds these names and the labels come back as i64
  /// class indices; a name not in the list throws tg::Error naming the line, the data row and
  /// the value. Needs a label column; the names must be distinct and not empty.
  std::vector<std::string> label_classes = {};
  /// Text labels whose classes are found in the file: the distinct names, sorted (as
  /// scikit-learn's LabelEncoder), are classes 0, 1, ...; CsvData::label_classes lists them.
  bool text_labels = false;
};

/// A CSV file's numbers: features [rows, columns] and, if a label column was named, labels [rows].
struct CsvData {
  Tensor features;                         ///< every column but the label, in file order
  Tensor labels;                           ///< undefined unless a label column was chosen
  std::vector<std::string> feature_names;  ///< header names, or "0", "1", ... without a header
  std::string label_name;                  ///< header name of the label column, if any
  /// With text labels, the class names in index order: labels[i] names label_classes[labels[i]].
  std::vector<std::string> label_classes;
};

/// Reads a CSV file of numbers, and text labels if asked. Fields may be quoted ("x" with "" for
/// a quote) and padded with spaces; blank lines are skipped; line ends may be \n or \r\n. A
/// cell that is not a number (nan and inf count as numbers), a row with the wrong number of
/// fields, an empty file or a header without rows throws tg::Error naming the file, the line
/// and the column.
///
///     auto data = tg::data::read_csv("iris.csv", {.label_column = "species",
///         .label_classes = {"setosa", "versicolor", "virginica"}});     // features f32, labels
///         i64
///     auto found = tg::data::read_csv("iris.csv", {.label_column = "species", .text_labels =
///     true});
///     // found.label_classes == {"setosa", "versicolor", "virginica"}
///     auto exact = tg::data::read_csv("breast_cancer.csv", {.dtype = tg::f64});   // f64
CsvData read_csv(const std::string& path, const CsvOptions& options = {});

}  // namespace tg::data
