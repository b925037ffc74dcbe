// Classification metrics over a data set: a confusion matrix and top-k counts accumulated
// batch by batch, and the report computed from them (accuracy, top-k accuracy, per-class
// precision, recall, F1 and support, macro and micro averages).
//
//   ClassificationMetrics metrics(model.outputs()[0].shape().width);
//   model.evaluate(test_set, &metrics);
//   print_classification_report(std::cout, metrics.report());
//
// Classes lie along the width, as for cross_entropy's softmax: every row of W values of a
// sample is one classified row. A row's true class is the arg-max of its label (one-hot or
// soft), its predicted class the arg-max of the prediction (logits or probabilities
// alike); ties go to the lowest class, as in count_correct_rows and Model::evaluate's
// accuracy. Definitions follow scikit-learn's classification_report with
// labels = 0..classes-1 and zero_division=0: a ratio with a zero denominator is 0.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "edgetrain/tensor.h"

namespace edgetrain {

struct ClassMetrics {
  std::string name;
  double precision = 0.0;  // true positives / rows predicted as this class
  double recall = 0.0;     // true positives / rows of this class (support)
  double f1 = 0.0;         // 2 * precision * recall / (precision + recall)
  size_t support = 0;      // rows whose true class this is
};

struct ClassificationReport {
  size_t rows = 0;
  double accuracy = 0.0;  // rows predicted right / rows
  // Rows whose true class is among the top_k highest predictions / rows. top_k is at
  // most the number of classes; a prediction equal to the true class's counts above it
  // when its class is lower (the tie rule of the arg-max), so top-1 accuracy is accuracy.
  size_t top_k = 0;
  double top_k_accuracy = 0.0;
  std::vector<ClassMetrics> per_class;
  // Unweighted means over all classes, those without support included (scikit-learn's
  // "macro avg" with labels = every class).
  double macro_precision = 0.0, macro_recall = 0.0, macro_f1 = 0.0;
  // From the true positives, false positives and false negatives summed over classes. With
  // one class per row every wrong row is one false positive and one false negative, so
  // all three equal the accuracy.
  double micro_precision = 0.0, micro_recall = 0.0, micro_f1 = 0.0;
  // confusion_matrix[true class][predicted class]: rows counted.
  std::vector<std::vector<size_t>> confusion_matrix;
};

class ClassificationMetrics {
 public:
  // Throws Error when `classes` or `top_k` is 0. top_k above `classes` counts as `classes`.
  explicit ClassificationMetrics(size_t classes, size_t top_k = 5);

  // Adds every row of the first `samples` samples of a batch: `prediction` and `label`
  // of the same shape with the classes along the width. Throws ShapeError when the
  // shapes differ or the width is not the number of classes. Allocates nothing.
  void add(const Tensor& prediction, const Tensor& label, size_t samples);
  // One row of `classes()` predictions and label values.
  void add_row(const float* prediction, const float* label);

  size_t classes() const { return classes_; }
  size_t top_k() const { return top_k_; }
  size_t rows() const { return rows_; }
  size_t count(size_t true_class, size_t predicted_class) const {
    return confusion_[true_class * classes_ + predicted_class];
  }
  size_t top_k_correct() const { return top_k_correct_; }

  // The report; class names default to "0", "1", ... A non-empty `class_names` must
  // have one name per class (else Error).
  ClassificationReport report(const std::vector<std::string>& class_names = {}) const;

 private:
  size_t classes_;
  size_t top_k_;
  std::vector<size_t> confusion_;  // classes_ x classes_, row = true class
  size_t rows_ = 0;
  size_t top_k_correct_ = 0;
};

// The report as text: one row per class (name, precision, recall, f1, support), then
// accuracy, top-k accuracy (when top_k is below the number of classes, so that it says
// something), and the macro and micro averages.
void print_classification_report(std::ostream& out, const ClassificationReport& report);

}  // namespace edgetrain
