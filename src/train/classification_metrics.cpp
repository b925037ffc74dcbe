#include "edgetrain/classification_metrics.h"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "edgetrain/error.h"
#include "train/metrics.h"
#include "train/text_table.h"

namespace edgetrain {
namespace {

double ratio(size_t numerator, size_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / denominator;
}

double f1_score(double precision, double recall) {
  return precision + recall == 0.0 ? 0.0 : 2.0 * precision * recall / (precision + recall);
}

std::string fixed(double value, int digits = 4) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(digits) << value;
  return text.str();
}

}  // namespace

ClassificationMetrics::ClassificationMetrics(size_t classes, size_t top_k)
    : classes_(classes), top_k_(std::min(top_k, classes)), confusion_(classes * classes, 0) {
  if (classes == 0) throw Error("classification metrics need at least one class");
  if (top_k == 0) throw Error("classification metrics: top_k must be at least 1");
}

void ClassificationMetrics::add(const Tensor& prediction, const Tensor& label, size_t samples) {
  if (!(prediction.shape() == label.shape()))
    throw ShapeError("classification metrics: the prediction's shape " + prediction.shape().str() +
                     " differs from the label's " + label.shape().str());
  if (prediction.shape().width != classes_)
    throw ShapeError("classification metrics count " + std::to_string(classes_) +
                     " classes, but the prediction's shape " + prediction.shape().str() + " has " +
                     std::to_string(prediction.shape().width) + " along the width");
  const size_t rows = samples * prediction.shape().feature_size() / classes_;
  for (size_t row = 0; row < rows; ++row)
    add_row(prediction.data() + row * classes_, label.data() + row * classes_);
}

void ClassificationMetrics::add_row(const float* prediction, const float* label) {
  const size_t truth = arg_max(label, classes_);
  const size_t predicted = arg_max(prediction, classes_);
  ++confusion_[truth * classes_ + predicted];
  ++rows_;
  // The true class's rank: classes predicted higher, and equal ones the arg-max would pick
  // first.
  const float score = prediction[truth];
  size_t ahead = 0;
  for (size_t c = 0; c < classes_; ++c)
    ahead += prediction[c] > score || (prediction[c] == score && c < truth);
  top_k_correct_ += ahead < top_k_;
}

ClassificationReport ClassificationMetrics::report(
    const std::vector<std::string>& class_names) const {
  if (!class_names.empty() && class_names.size() != classes_)
    throw Error("classification report: " + std::to_string(class_names.size()) +
                " class names for " + std::to_string(classes_) + " classes");
  ClassificationReport report;
  report.rows = rows_;
  report.top_k = top_k_;
  report.top_k_accuracy = ratio(top_k_correct_, rows_);
  report.confusion_matrix.assign(classes_, std::vector<size_t>(classes_));
  size_t true_positives = 0;
  for (size_t c = 0; c < classes_; ++c) {
    size_t support = 0, predicted = 0;
    for (size_t other = 0; other < classes_; ++other) {
      report.confusion_matrix[c][other] = count(c, other);
      support += count(c, other);
      predicted += count(other, c);
    }
    true_positives += count(c, c);
    ClassMetrics metrics;
    metrics.name = class_names.empty() ? std::to_string(c) : class_names[c];
    metrics.precision = ratio(count(c, c), predicted);
    metrics.recall = ratio(count(c, c), support);
    metrics.f1 = f1_score(metrics.precision, metrics.recall);
    metrics.support = support;
    report.macro_precision += metrics.precision / classes_;
    report.macro_recall += metrics.recall / classes_;
    report.macro_f1 += metrics.f1 / classes_;
    report.per_class.push_back(std::move(metrics));
  }
  report.accuracy = ratio(true_positives, rows_);
  // Summed over classes, false positives and false negatives both count the wrong rows.
  report.micro_precision = ratio(true_positives, rows_);
  report.micro_recall = ratio(true_positives, rows_);
  report.micro_f1 = f1_score(report.micro_precision, report.micro_recall);
  return report;
}

void print_classification_report(std::ostream& out, const ClassificationReport& report) {
  std::vector<std::vector<std::string>> rows = {{"Class", "Precision", "Recall", "F1", "Support"}};
  for (const ClassMetrics& metrics : report.per_class)
    rows.push_back({metrics.name, fixed(metrics.precision), fixed(metrics.recall),
                    fixed(metrics.f1), std::to_string(metrics.support)});
  print_table(out, rows);
  const std::string total = " (" + std::to_string(report.rows) + " rows)";
  out << "Accuracy: " << fixed(report.accuracy) << total << "\n";
  if (report.top_k < report.per_class.size())
    out << "Top-" << report.top_k << " accuracy: " << fixed(report.top_k_accuracy) << "\n";
  out << "Macro avg: precision " << fixed(report.macro_precision) << ", recall "
      << fixed(report.macro_recall) << ", F1 " << fixed(report.macro_f1) << "\n";
  out << "Micro avg: precision " << fixed(report.micro_precision) << ", recall "
      << fixed(report.micro_recall) << ", F1 " << fixed(report.micro_f1) << "\n";
}

}  // namespace edgetrain
