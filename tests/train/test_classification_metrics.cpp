// Classification metrics on predictions whose confusion matrix, precision, recall, F1 and
// top-k accuracy are worked out by hand (scikit-learn's definitions, zero_division=0).
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "edgetrain/classification_metrics.h"
#include "edgetrain/error.h"
#include "edgetrain/model.h"

namespace edgetrain::testing {
namespace {

// One-hot rows of `classes` values for each class in `indices`.
std::vector<float> one_hot_rows(const std::vector<size_t>& indices, size_t classes) {
  std::vector<float> rows(indices.size() * classes, 0.0f);
  for (size_t r = 0; r < indices.size(); ++r) rows[r * classes + indices[r]] = 1.0f;
  return rows;
}

// 9 rows over 4 classes; class 3 is predicted once and never true.
//   true       0 0 0 1 1 2 2 2 2
//   predicted  0 0 1 1 3 2 2 0 0
ClassificationMetrics four_class_example() {
  const std::vector<size_t> truth = {0, 0, 0, 1, 1, 2, 2, 2, 2};
  const std::vector<size_t> predicted = {0, 0, 1, 1, 3, 2, 2, 0, 0};
  std::vector<float> labels = one_hot_rows(truth, 4);
  std::vector<float> predictions = one_hot_rows(predicted, 4);
  ClassificationMetrics metrics(4);
  // Two batches, the second partial: a batch compiled for 5 samples holds the last 4.
  std::vector<float> prediction_batch(5 * 4), label_batch(5 * 4);
  for (size_t first = 0; first < truth.size(); first += 5) {
    const size_t samples = std::min<size_t>(5, truth.size() - first);
    std::copy_n(predictions.begin() + first * 4, samples * 4, prediction_batch.begin());
    std::copy_n(labels.begin() + first * 4, samples * 4, label_batch.begin());
    metrics.add(Tensor(prediction_batch.data(), TensorShape(5, 1, 1, 4)),
                Tensor(label_batch.data(), TensorShape(5, 1, 1, 4)), samples);
  }
  return metrics;
}

TEST(ClassificationMetrics, ConfusionMatrixRowsAreTheTrueClass) {
  const ClassificationReport report = four_class_example().report();
  const std::vector<std::vector<size_t>> expected = {
      {2, 1, 0, 0}, {0, 1, 0, 1}, {2, 0, 2, 0}, {0, 0, 0, 0}};
  EXPECT_EQ(report.confusion_matrix, expected);
  EXPECT_EQ(report.rows, 9u);
}

TEST(ClassificationMetrics, PerClassPrecisionRecallF1AndSupport) {
  const ClassificationReport report = four_class_example().report();
  ASSERT_EQ(report.per_class.size(), 4u);
  // Predicted per class: 4, 2, 2, 1; support: 3, 2, 4, 0.
  const double precision[] = {2.0 / 4, 1.0 / 2, 2.0 / 2, 0.0 / 1};
  const double recall[] = {2.0 / 3, 1.0 / 2, 2.0 / 4, 0.0};  // class 3: 0 / 0 is 0
  const double f1[] = {4.0 / 7, 1.0 / 2, 2.0 / 3, 0.0};      // class 3: 0 / 0 is 0
  const size_t support[] = {3, 2, 4, 0};
  for (size_t c = 0; c < 4; ++c) {
    SCOPED_TRACE(c);
    EXPECT_EQ(report.per_class[c].name, std::to_string(c));
    EXPECT_DOUBLE_EQ(report.per_class[c].precision, precision[c]);
    EXPECT_DOUBLE_EQ(report.per_class[c].recall, recall[c]);
    EXPECT_DOUBLE_EQ(report.per_class[c].f1, f1[c]);
    EXPECT_EQ(report.per_class[c].support, support[c]);
  }
}

TEST(ClassificationMetrics, AccuracyAndMacroAndMicroAverages) {
  const ClassificationReport report = four_class_example().report();
  EXPECT_DOUBLE_EQ(report.accuracy, 5.0 / 9);
  EXPECT_DOUBLE_EQ(report.macro_precision, 2.0 / 4);
  EXPECT_DOUBLE_EQ(report.macro_recall, 5.0 / 12);
  EXPECT_DOUBLE_EQ(report.macro_f1, 73.0 / 168);
  EXPECT_DOUBLE_EQ(report.micro_precision, 5.0 / 9);
  EXPECT_DOUBLE_EQ(report.micro_recall, 5.0 / 9);
  EXPECT_DOUBLE_EQ(report.micro_f1, 5.0 / 9);
}

TEST(ClassificationMetrics, TopKCountsTheTrueClassRankWithArgMaxTies) {
  ClassificationMetrics metrics(3, 2);
  auto add = [&](std::vector<float> prediction, size_t truth) {
    std::vector<float> label(3, 0.0f);
    label[truth] = 1.0f;
    metrics.add_row(prediction.data(), label.data());
  };
  add({0.1f, 0.5f, 0.4f}, 2);  // second: in the top 2
  add({0.5f, 0.3f, 0.2f}, 2);  // third
  add({0.3f, 0.3f, 0.4f}, 1);  // third: class 0 ties it and comes first, as in the arg-max
  add({0.3f, 0.3f, 0.4f}, 0);  // second
  add({0.2f, 0.2f, 0.1f}, 0);  // first: the tie goes to the lower class
  EXPECT_EQ(metrics.top_k_correct(), 3u);
  const ClassificationReport report = metrics.report();
  EXPECT_EQ(report.top_k, 2u);
  EXPECT_DOUBLE_EQ(report.top_k_accuracy, 3.0 / 5);
  EXPECT_DOUBLE_EQ(report.accuracy, 1.0 / 5);
}

TEST(ClassificationMetrics, TopOneIsAccuracyAndTopKIsAtMostTheClasses) {
  ClassificationMetrics top1(3, 1), top5(3);
  const float rows[][3] = {{0.2f, 0.2f, 0.1f}, {0.0f, 1.0f, 2.0f}, {-1.0f, 3.0f, 3.0f}};
  const std::vector<float> labels = one_hot_rows({1, 2, 2}, 3);
  for (size_t r = 0; r < 3; ++r) {
    top1.add_row(rows[r], &labels[r * 3]);
    top5.add_row(rows[r], &labels[r * 3]);
  }
  EXPECT_DOUBLE_EQ(top1.report().top_k_accuracy, top1.report().accuracy);
  EXPECT_DOUBLE_EQ(top1.report().accuracy, 1.0 / 3);
  EXPECT_EQ(top5.top_k(), 3u);
  EXPECT_DOUBLE_EQ(top5.report().top_k_accuracy, 1.0);
}

TEST(ClassificationMetrics, SoftLabelsAndRowsAlongTheWidth) {
  // A batch of 1 sample with 2 rows (1:1:2:3): each row is classified on its own.
  std::vector<float> prediction = {2.0f, 1.0f, 0.0f, 0.0f, 1.0f, 3.0f};
  std::vector<float> label = {0.7f, 0.2f, 0.1f, 0.1f, 0.6f, 0.3f};
  ClassificationMetrics metrics(3);
  metrics.add(Tensor(prediction.data(), TensorShape(1, 1, 2, 3)),
              Tensor(label.data(), TensorShape(1, 1, 2, 3)), 1);
  EXPECT_EQ(metrics.rows(), 2u);
  EXPECT_EQ(metrics.count(0, 0), 1u);
  EXPECT_EQ(metrics.count(1, 2), 1u);
}

TEST(ClassificationMetrics, NoRowsGiveZerosNotNaN) {
  const ClassificationReport report = ClassificationMetrics(2).report({"cat", "dog"});
  EXPECT_EQ(report.accuracy, 0.0);
  EXPECT_EQ(report.top_k_accuracy, 0.0);
  EXPECT_EQ(report.macro_f1, 0.0);
  EXPECT_EQ(report.micro_f1, 0.0);
  EXPECT_EQ(report.per_class[1].name, "dog");
}

TEST(ClassificationMetrics, BadArgumentsAreErrors) {
  EXPECT_THROW(ClassificationMetrics(0), Error);
  EXPECT_THROW(ClassificationMetrics(3, 0), Error);
  ClassificationMetrics metrics(3);
  std::vector<float> values(8, 0.0f);
  EXPECT_THROW(metrics.add(Tensor(values.data(), TensorShape(2, 1, 1, 4)),
                           Tensor(values.data(), TensorShape(2, 1, 1, 4)), 2),
               ShapeError);
  EXPECT_THROW(metrics.add(Tensor(values.data(), TensorShape(2, 1, 1, 3)),
                           Tensor(values.data(), TensorShape(1, 1, 1, 3)), 1),
               ShapeError);
  try {
    metrics.report({"a", "b"});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("2 class names for 3 classes"), std::string::npos)
        << error.what();
  }
}

TEST(ClassificationMetrics, ReportTableListsClassesThenTheAverages) {
  std::ostringstream text;
  print_classification_report(text, four_class_example().report({"ant", "bee", "cat", "dog"}));
  const std::string out = text.str();
  for (const char* part :
       {"Class", "Precision", "Recall", "F1", "Support", "ant", "dog", "0.5000", "0.6667",
        "Accuracy: 0.5556 (9 rows)", "Macro avg: precision 0.5000, recall 0.4167, F1 0.4345",
        "Micro avg: precision 0.5556, recall 0.5556, F1 0.5556"})
    EXPECT_NE(out.find(part), std::string::npos) << part << " in:\n" << out;
  // Top-5 of 4 classes is always 1: not shown.
  EXPECT_EQ(out.find("Top-"), std::string::npos) << out;
}

TEST(ClassificationMetrics, ModelEvaluateFillsThemBatchByBatch) {
  Model model({"batch_size=4", "loss=cross_entropy", "seed=2"});
  model.addLayer(createLayer("input", {"input_shape=1:1:2"}));
  model.addLayer(createLayer("fully_connected", {"unit=3"}));
  model.initialize();
  const std::vector<float> inputs = {0.5f, -1.0f, 2.0f, 0.25f, -0.3f,
                                     0.8f, 1.0f,  1.0f, -2.0f, 0.1f};
  const std::vector<float> labels = one_hot_rows({0, 1, 2, 1, 0}, 3);
  MemoryDataset data(inputs, 2, labels, 3);
  ClassificationMetrics metrics(3);
  const EvaluationResult result = model.evaluate(data, &metrics);
  EXPECT_EQ(metrics.rows(), 5u);
  EXPECT_FLOAT_EQ(static_cast<float>(metrics.report().accuracy), result.accuracy);
  const std::vector<float> logits = model.predict(inputs, 5);
  ClassificationMetrics expected(3);
  for (size_t r = 0; r < 5; ++r) expected.add_row(&logits[r * 3], &labels[r * 3]);
  EXPECT_EQ(metrics.report().confusion_matrix, expected.report().confusion_matrix);
  EXPECT_EQ(metrics.top_k_correct(), expected.top_k_correct());
}

TEST(ClassificationMetrics, ModelEvaluateWithoutALossRefusesThem) {
  // Without a loss there is no label, so no true class.
  Model model({"batch_size=2"});
  model.addLayer(createLayer("input", {"input_shape=1:1:2"}));
  model.addLayer(createLayer("fully_connected", {"unit=2"}));
  model.initialize();
  MemoryDataset data({0.5f, -1.0f}, 2, {}, 0);
  ClassificationMetrics metrics(2);
  EXPECT_THROW(model.evaluate(data, &metrics), StateError);
}

}  // namespace
}  // namespace edgetrain::testing
