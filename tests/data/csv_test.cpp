// read_csv: headers, label columns, delimiters and quoting, and errors that name line and column.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/testing.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

using tg::data::CsvData;
using tg::data::CsvOptions;
using tg::data::read_csv;
using tg::testing::contains;
using tg::testing::error_message;
using tg::testing::TempDir;

namespace {

// Writes `text` to `name` in `dir` and reads it back with `options`.
CsvData read_text(const TempDir& dir, const std::string& name, const std::string& text,
                  const CsvOptions& options = {}) {
  tg::testing::write_text(dir.file(name), text);
  return read_csv(dir.file(name), options);
}

// The message of reading `text` with `options`, which must name the file.
std::string csv_error(const TempDir& dir, const std::string& text, const CsvOptions& options = {}) {
  const std::string path = dir.file("bad.csv");
  tg::testing::write_text(path, text);
  const std::string message = error_message([&] { read_csv(path, options); });
  CAPTURE(message);
  CHECK(contains(message, path));
  return message;
}

}  // namespace

TEST_CASE("read_csv splits a header, features and a named label column") {
  const TempDir dir;
  const CsvData data =
      read_text(dir, "a.csv", "a,label,b\n1,0,2\n3.5,1,-4e2\n", {.label_column = "label"});
  CHECK(data.features.dtype() == tg::f32);
  CHECK(data.features.shape() == tg::Shape{2, 2});
  CHECK(data.features.to_vector() == std::vector<double>{1, 2, 3.5, -400});
  CHECK(data.labels.shape() == tg::Shape{2});
  CHECK(data.labels.to_vector() == std::vector<double>{0, 1});
  CHECK(data.feature_names == std::vector<std::string>{"a", "b"});
  CHECK(data.label_name == "label");
}

TEST_CASE("read_csv picks the label column by position") {
  const TempDir dir;
  const std::string text = "x,y,z\n1,2,3\n4,5,6\n";
  SUBCASE("last") {
    const CsvData data = read_text(dir, "p.csv", text, {.label_index = -1});
    CHECK(data.features.to_vector() == std::vector<double>{1, 2, 4, 5});
    CHECK(data.labels.to_vector() == std::vector<double>{3, 6});
    CHECK(data.label_name == "z");
  }
  SUBCASE("first") {
    const CsvData data = read_text(dir, "p.csv", text, {.label_index = 0});
    CHECK(data.features.to_vector() == std::vector<double>{2, 3, 5, 6});
    CHECK(data.labels.to_vector() == std::vector<double>{1, 4});
    CHECK(data.feature_names == std::vector<std::string>{"y", "z"});
  }
  SUBCASE("out of range") {
    CHECK(contains(csv_error(dir, text, {.label_index = 3}),
                   "label_index 3 is out of range for 3 columns"));
    CHECK_THROWS_AS(read_text(dir, "p.csv", text, {.label_index = -4}), tg::Error);
  }
}

TEST_CASE("read_csv without a label or a header") {
  const TempDir dir;
  SUBCASE("no label: every column is a feature") {
    const CsvData data = read_text(dir, "n.csv", "x,y\n1,2\n");
    CHECK(data.features.shape() == tg::Shape{1, 2});
    CHECK_FALSE(data.labels.defined());
    CHECK(data.label_name.empty());
  }
  SUBCASE("no header: columns are named by position") {
    const CsvData data =
        read_text(dir, "n.csv", "1,2,3\n4,5,6\n", {.label_index = 1, .header = false});
    CHECK(data.features.to_vector() == std::vector<double>{1, 3, 4, 6});
    CHECK(data.labels.to_vector() == std::vector<double>{2, 5});
    CHECK(data.feature_names == std::vector<std::string>{"0", "2"});
    CHECK(data.label_name == "1");
  }
}

TEST_CASE("read_csv handles delimiters, quotes, padding, CRLF and blank lines") {
  const TempDir dir;
  SUBCASE("semicolons") {
    const CsvData data = read_text(dir, "s.csv", "a;b\n1;2\n", {.delimiter = ';'});
    CHECK(data.features.to_vector() == std::vector<double>{1, 2});
  }
  SUBCASE("tabs, with spaces as padding") {
    const CsvData data = read_text(dir, "t.tsv", "a\tb\n 1 \t  2\n", {.delimiter = '\t'});
    CHECK(data.features.to_vector() == std::vector<double>{1, 2});
  }
  SUBCASE("quoted names and numbers, with a doubled quote") {
    const CsvData data =
        read_text(dir, "q.csv", "\"sepal, length\",\"say \"\"hi\"\"\"\n\"1.5\", 2\n");
    CHECK(data.feature_names == std::vector<std::string>{"sepal, length", "say \"hi\""});
    CHECK(data.features.to_vector() == std::vector<double>{1.5, 2});
  }
  SUBCASE("CRLF line ends, blank lines, no final newline") {
    const CsvData data = read_text(dir, "w.csv", "\r\na,b\r\n1,2\r\n\r\n   \n3,4");
    CHECK(data.features.to_vector() == std::vector<double>{1, 2, 3, 4});
  }
  SUBCASE("signs, exponents, nan and inf are numbers") {
    const CsvData data = read_text(dir, "n.csv", "a,b,c,d\n+3,-.5e1,nan,-inf\n");
    const std::vector<double> values = data.features.to_vector();
    CHECK(values[0] == 3);
    CHECK(values[1] == -5);
    CHECK(std::isnan(values[2]));
    CHECK(values[3] == -INFINITY);
  }
}

TEST_CASE(
    "read_csv gives f32 features and labels by default, as nn's modules, and f64 on request") {
  const TempDir dir;
  // 0.1 is not a float: as f32 it is the float nearest 0.1, as f64 the double nearest.
  const std::string text = "a,b,y\n0.1,2,1\n-3,0.25,0\n";
  const auto as_float = [](double value) { return static_cast<double>(static_cast<float>(value)); };
  SUBCASE("default: f32") {
    const CsvData data = read_text(dir, "f.csv", text, {.label_column = "y"});
    CHECK(data.features.dtype() == tg::f32);
    CHECK(data.labels.dtype() == tg::f32);
    CHECK(data.features.to_vector() == std::vector<double>{as_float(0.1), 2, -3, 0.25});
    CHECK(data.labels.to_vector() == std::vector<double>{1, 0});
    // The point of the default: the features go straight into an f32 layer.
    const tg::Tensor weight = tg::ones({1, 2});
    CHECK(tg::linear(data.features, weight).to_vector() ==
          std::vector<double>{as_float(as_float(0.1) + 2), -2.75});
  }
  SUBCASE("f64 when asked") {
    const CsvData data = read_text(dir, "d.csv", text,
                                   {.label_column = "y", .dtype = tg::f64, .label_dtype = tg::f64});
    CHECK(data.features.dtype() == tg::f64);
    CHECK(data.labels.dtype() == tg::f64);
    CHECK(data.features.to_vector() == std::vector<double>{0.1, 2, -3, 0.25});
    CHECK(data.labels.to_vector() == std::vector<double>{1, 0});
  }
  SUBCASE("f32 labels beyond float's range become infinite, as features do") {
    const CsvData data = read_text(dir, "big.csv", "a,y\n1,-1e300\n", {.label_column = "y"});
    CHECK(data.labels.to_vector()[0] == -INFINITY);
  }
}

TEST_CASE("read_csv's dtypes") {
  const TempDir dir;
  const std::string text = "a,y\n0.5,2\n1.25,7\n";
  const CsvData data = read_text(dir, "d.csv", text,
                                 {.label_column = "y", .dtype = tg::f32, .label_dtype = tg::i64});
  CHECK(data.features.dtype() == tg::f32);
  CHECK(data.features.to_vector() == std::vector<double>{0.5, 1.25});
  CHECK(data.labels.dtype() == tg::i64);
  CHECK(data.labels.to_vector() == std::vector<double>{2, 7});

  SUBCASE("an i64 label must be an integer") {
    const std::string message =
        csv_error(dir, "a,y\n1,2\n3,2.5\n", {.label_column = "y", .label_dtype = tg::i64});
    CHECK(contains(message, "line 3: column 2 ('y'): label '2.5' is not an integer"));
  }
  SUBCASE("i64 features must be integers too") {
    const CsvData integers = read_text(dir, "i.csv", "a,b\n-3,4\n", {.dtype = tg::i64});
    CHECK(integers.features.dtype() == tg::i64);
    CHECK(integers.features.to_vector() == std::vector<double>{-3, 4});
    CHECK(contains(csv_error(dir, "a,b\n1,nan\n", {.dtype = tg::i64}),
                   "line 2: column 2 ('b'): value 'nan' is not an integer (dtype i64)"));
    CHECK(contains(csv_error(dir, "a\n1e19\n", {.dtype = tg::i64}), "'1e19' is not an integer"));
  }
  SUBCASE("f32 features beyond float's range become infinite") {
    const CsvData big = read_text(dir, "big.csv", "a\n1e300\n", {.dtype = tg::f32});
    CHECK(big.features.to_vector()[0] == INFINITY);
  }
}

TEST_CASE("read_csv names the file, line and column of a bad cell") {
  const TempDir dir;
  SUBCASE("not a number") {
    const std::string message = csv_error(dir, "a,b\n1,2\n3,abc\n");
    CHECK(contains(message, "line 3: column 2 ('b'): 'abc' is not a number"));
  }
  SUBCASE("not a number, without a header") {
    const std::string message = csv_error(dir, "1,2\n3,4x\n", {.header = false});
    CHECK(contains(message, "line 2: column 2: '4x' is not a number"));
  }
  SUBCASE("hexadecimal and doubled signs are not numbers") {
    CHECK(contains(csv_error(dir, "a\n0x10\n"), "line 2: column 1 ('a'): '0x10'"));
    CHECK(contains(csv_error(dir, "a\n++1\n"), "'++1' is not a number"));
  }
  SUBCASE("empty cell") {
    CHECK(contains(csv_error(dir, "a,b,c\n1,,3\n"), "line 2: column 2 ('b'): empty cell"));
  }
  SUBCASE("out of range") {
    CHECK(contains(csv_error(dir, "a\n1e999\n"), "'1e999' is out of the range of a double"));
  }
  SUBCASE("a ragged row") {
    const std::string message = csv_error(dir, "a,b,c\n1,2,3\n\n4,5\n");
    CHECK(contains(message, "line 4: 2 fields where line 1 has 3"));
    CHECK(contains(csv_error(dir, "1,2\n3,4,5\n", {.header = false}),
                   "line 2: 3 fields where line 1 has 2"));
  }
  SUBCASE("an unterminated quote") {
    CHECK(contains(csv_error(dir, "a,b\n1,\"2\n"), "line 2: column 2: unterminated quoted field"));
  }
  SUBCASE("text after a closing quote") {
    CHECK(contains(csv_error(dir, "a,b\n\"1\"x,2\n"), "line 2: column 1: unexpected 'x'"));
  }
}

TEST_CASE("read_csv explains empty files and bad options") {
  const TempDir dir;
  CHECK(contains(csv_error(dir, ""), "the file is empty"));
  CHECK(contains(csv_error(dir, "\n  \n\r\n"), "the file is empty"));
  CHECK(contains(csv_error(dir, "a,b\n"), "has a header (line 1) but no data rows"));
  CHECK(contains(csv_error(dir, "a,b\n1,2\n", {.label_column = "c"}),
                 "no column named 'c' in the header (columns: 'a', 'b')"));
  CHECK(contains(csv_error(dir, "1,2\n", {.label_column = "a", .header = false}),
                 "needs header = true"));
  CHECK(
      contains(csv_error(dir, "a,b\n1,2\n", {.label_column = "a", .label_index = 0}), "not both"));
  const std::string missing = dir.file("missing.csv");
  CHECK(contains(error_message([&] { read_csv(missing); }), "cannot open '" + missing + "'"));
}

TEST_CASE("read_csv maps text labels to class indices, in the given order or sorted") {
  TempDir dir;
  const std::string text =
      "length,width,species\n"
      "1.5,0.2,setosa\n"
      "4.7,1.4,versicolor\n"
      "\"6.0\",2.5,\"virginica\"\n"
      "1.4,0.3,setosa\n";
  SUBCASE("label_classes: index = position in the list") {
    const CsvData data = read_text(
        dir, "a.csv", text,
        {.label_column = "species", .label_classes = {"virginica", "setosa", "versicolor"}});
    CHECK(data.labels.dtype() == tg::i64);
    CHECK(data.labels.to_vector() == std::vector<double>{1, 2, 0, 1});
    CHECK(data.label_classes == std::vector<std::string>{"virginica", "setosa", "versicolor"});
    CHECK(data.features.shape() == tg::Shape{4, 2});
    CHECK(data.features.to_vector()[4] == doctest::Approx(6.0));
    CHECK(data.label_name == "species");
  }
  SUBCASE("text_labels: the distinct names, sorted, whatever the row order") {
    const CsvData data = read_text(dir, "b.csv", text, {.label_index = -1, .text_labels = true});
    CHECK(data.labels.dtype() == tg::i64);
    CHECK(data.label_classes == std::vector<std::string>{"setosa", "versicolor", "virginica"});
    CHECK(data.labels.to_vector() == std::vector<double>{0, 1, 2, 0});
  }
  SUBCASE("a class not in label_classes names the line, the data row and the value") {
    const std::string message = csv_error(
        dir, text + "5.9,2.1,virginca\n",
        {.label_column = "species", .label_classes = {"setosa", "versicolor", "virginica"}});
    CHECK(contains(message, "read_csv"));
    CHECK(contains(message, "line 6"));
    CHECK(contains(message, "data row 5"));
    CHECK(contains(message, "'virginca'"));
    CHECK(contains(message, "column 3 ('species')"));
    CHECK(contains(message, "'setosa', 'versicolor', 'virginica'"));
  }
  SUBCASE("an empty label") {
    CHECK(contains(csv_error(dir, "x,y\n1,a\n2,\n", {.label_column = "y", .text_labels = true}),
                   "line 3: data row 2: column 2 ('y'): empty label"));
  }
}

TEST_CASE("read_csv refuses text-label options that cannot work") {
  TempDir dir;
  const std::string text = "x,y\n1,a\n";
  CHECK(contains(csv_error(dir, text, {.label_classes = {"a"}}),
                 "label_classes needs a label column"));
  CHECK(contains(csv_error(dir, text, {.text_labels = true}), "text_labels needs a label column"));
  CHECK(contains(csv_error(dir, text, {.label_column = "y", .label_classes = {"a", "b", "a"}}),
                 "label_classes names 'a' twice"));
  CHECK(contains(csv_error(dir, text, {.label_column = "y", .label_classes = {"a", ""}}),
                 "label_classes[1] is empty"));
  CHECK(contains(
      csv_error(dir, text, {.label_column = "y", .label_classes = {"a"}, .text_labels = true}),
      "not both"));
  // Without text labels a text label is still an error, as before.
  CHECK(contains(csv_error(dir, text, {.label_column = "y"}), "'a' is not a number"));
}
