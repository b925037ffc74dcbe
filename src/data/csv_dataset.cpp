#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string_view>

#include "data/view_checks.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits a line at commas into trimmed cells, reusing `cells`.
void split_cells(std::string_view line, std::vector<std::string_view>& cells) {
  cells.clear();
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
}

// A number filling the whole cell ("nan" and "inf" included).
bool parse_number(std::string_view cell, float& value) {
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return !cell.empty() && error == std::errc() && end == cell.data() + cell.size();
}

// "1 class", "10 classes", "3 features".
std::string plural(size_t count, std::string_view noun) {
  const char* ending = count == 1 ? "" : noun.ends_with('s') ? "es" : "s";
  return std::to_string(count) + " " + std::string(noun) + ending;
}

}  // namespace

CsvDataset::CsvDataset(std::string path, size_t input_size, size_t label_size, Options options)
    : path_(std::move(path)),
      input_size_(input_size),
      label_size_(label_size),
      one_hot_(options.one_hot) {
  std::ifstream in(path_);
  if (!in) throw DataError(path_ + ": cannot open: " + std::strerror(errno));
  if (one_hot_ && label_size_ == 0)
    throw DataError(path_ + ": one-hot labels need a model whose loss takes at least one class");

  // The row layout: label columns [label_first, label_first + label_columns), features the
  // rest in order.
  const size_t label_columns = one_hot_ ? 1 : label_size_;
  const size_t columns = input_size_ + label_columns;
  const std::string layout =
      plural(input_size_, "feature") + " and " +
      (one_hot_ ? std::string("a class index") : plural(label_size_, "label"));
  if (options.label_column < -1 ||
      (options.label_column >= 0 &&
       static_cast<size_t>(options.label_column) + label_columns > columns))
    throw DataError(path_ + ": label_column " + std::to_string(options.label_column) +
                    " does not fit rows of " + plural(columns, "column") + " (" + layout + ")");
  const size_t label_first = options.label_column < 0 ? columns - label_columns
                                                      : static_cast<size_t>(options.label_column);

  std::string line;
  std::vector<std::string_view> cells;
  size_t row = 0;
  bool first_row = true;
  while (std::getline(in, line)) {
    ++row;
    std::string_view text = line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (trim(text).empty()) continue;
    split_cells(text, cells);
    auto where = [&] { return path_ + ":" + std::to_string(row); };
    if (first_row) {
      first_row = false;
      float unused = 0.0f;
      const bool header = options.has_header.has_value()
                              ? *options.has_header
                              : std::any_of(cells.begin(), cells.end(), [&](std::string_view cell) {
                                  return !parse_number(cell, unused);
                                });
      if (header) continue;
    }
    if (cells.size() != columns)
      throw DataError(where() + ": " + plural(cells.size(), "column") + ", expected " +
                      std::to_string(columns) + " (" + layout + ")");
    for (size_t column = 0; column < columns; ++column) {
      float value = 0.0f;
      // NaN and infinities are refused here: in the data they would surface much later as
      // a diverging loss.
      if (!parse_number(cells[column], value) || !std::isfinite(value))
        throw DataError(where() + ":" + std::to_string(column + 1) + ": '" +
                        std::string(cells[column]) + "' is not a finite number");
      const bool is_label = column >= label_first && column < label_first + label_columns;
      if (!is_label) {
        features_.push_back(value);
      } else if (!one_hot_) {
        label_values_.push_back(value);
      } else if (value < 0.0f || value != std::floor(value) ||
                 value >= static_cast<float>(label_size_)) {
        throw DataError(where() + ":" + std::to_string(column + 1) + ": '" +
                        std::string(cells[column]) + "' is not a class index of the model's " +
                        plural(label_size_, "class") + " (0 to " + std::to_string(label_size_ - 1) +
                        ")");
      } else {
        label_values_.push_back(value);
      }
    }
    ++samples_;
  }
  if (in.bad()) throw DataError(path_ + ": read error: " + std::strerror(errno));
  if (first_row) throw DataError(path_ + ": the file is empty");
  if (samples_ == 0) throw DataError(path_ + ": no samples after the header row");
}

void CsvDataset::read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
  ET_ASSERT(index < samples_, "sample index out of range");
  if (!data::is_one_view_of(inputs, input_size_))
    data::throw_input_mismatch(path_, plural(input_size_, "feature value"), inputs);
  std::copy_n(features_.begin() + index * input_size_, input_size_, inputs[0].data());
  if (labels.empty()) return;  // a model without a loss
  if (!data::is_one_view_of(labels, label_size_))
    data::throw_label_mismatch(
        path_,
        one_hot_ ? "one-hot over " + plural(label_size_, "class") : plural(label_size_, "value"),
        labels);
  if (one_hot_) {
    labels[0].fill(0.0f);
    labels[0][static_cast<size_t>(label_values_[index])] = 1.0f;
  } else {
    std::copy_n(label_values_.begin() + index * label_size_, label_size_, labels[0].data());
  }
}

std::vector<size_t> CsvDataset::class_labels() const {
  if (!one_hot_)
    throw DataError(path_ + ": class labels need a file of class indices (one_hot = true)");
  std::vector<size_t> classes;
  classes.reserve(label_values_.size());
  for (float value : label_values_) classes.push_back(static_cast<size_t>(value));
  return classes;
}

}  // namespace edgetrain
