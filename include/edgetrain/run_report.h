// A run folder (`edgetrain train --run-dir DIR`) and its report: one self-contained HTML
// file (`edgetrain report DIR`) with the loss, accuracy and learning-rate curves, the
// test set's confusion matrix as a heat map and per-class metrics, test images with
// their true and predicted classes, the planned memory per layer and the run's settings.
//
//   edgetrain::write_run_report("runs/mnist-20260101-120000", "report.html");
//
// Only the metrics CSV is needed: every other file adds its section when it is there, so
// a VAE's run (losses only) or a folder of an older run gets a report too. The charts
// are drawn by uPlot, which the library embeds: the page needs no network.
#pragma once

#include <span>
#include <string>

namespace edgetrain {

// The files of a run folder, by the name they have in it.
namespace run_files {
inline constexpr const char* kSettings = "settings.ini";         // model file + overrides
inline constexpr const char* kMetrics = "metrics.csv";           // the trainer's metrics_path
inline constexpr const char* kTrainSummary = "train.json";       // train --json's figures
inline constexpr const char* kEvaluation = "eval.json";          // eval --json on the test set
inline constexpr const char* kMemory = "memory.csv";             // Model::memoryBreakdown()
inline constexpr const char* kPredictions = "predictions.json";  // a sample of test predictions
inline constexpr const char* kPredictionImages = "predictions";  // their images, <index>.png
inline constexpr const char* kSplit = "split.txt";               // an image folder's split file
}  // namespace run_files

// The report of the run in `run_dir` as HTML text. Throws Error naming the path when
// `run_dir` is not a folder, has no metrics.csv, or a CSV file of it is malformed (file
// and line).
std::string render_run_report(const std::string& run_dir);

// Writes render_run_report(run_dir) to `html_path`; throws Error naming a file it cannot
// write.
void write_run_report(const std::string& run_dir, const std::string& html_path);

// RFC 4648 base64 of `bytes` (with '=' padding), for data: URIs.
std::string base64_encode(std::span<const unsigned char> bytes);

}  // namespace edgetrain
