// The training loop of a run: epochs over a data loader, validation every epoch,
// a log line per epoch in NNTrainer's shape, a live progress bar on a terminal, a CSV
// metrics log, early stopping, best and last checkpoints, resume, and a clean stop on
// Ctrl-C (the current step, or during validation the epoch, finishes; a checkpoint is
// written).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace edgetrain {

class Model;
class Dataset;
struct TrainingProfile;

struct EarlyStopping {
  size_t patience = 0;               // epochs without improvement before stopping; 0: off
  std::string monitor = "val_loss";  // val_loss, val_accuracy, loss (training), accuracy
  float min_delta = 0.0f;            // smaller improvements do not count
};

struct TrainerOptions {
  std::string save_path;  // final weights; best/last checkpoints are written beside it
  // Per-epoch metrics as CSV; empty: none. A new run rewrites the file, a resumed one
  // appends to it.
  std::string metrics_path;
  bool shuffle = true;
  bool drop_last = false;  // drop a last partial batch (NNTrainer always does)
  EarlyStopping early_stopping;
  // The metric that picks the best checkpoint (val_loss, val_accuracy, loss, accuracy):
  // the epoch where it was lowest (losses) or highest (accuracies). Empty: early
  // stopping's monitor, with its min_delta.
  std::string best_monitor;
  bool progress = true;  // a live progress bar when the log is a terminal

  // Keys: save_path, metrics_path, shuffle, drop_last, patience, monitor, min_delta,
  // best_monitor.
  // Returns false for other keys; throws PropertyError naming `owner` on a bad value.
  bool set_property(const std::string& key, const std::string& value, const std::string& owner);
  static std::string property_keys();

  // Where checkpoints go: "<save_path without extension>.last.ckpt" / ".best.ckpt".
  std::string last_checkpoint_path() const;
  std::string best_checkpoint_path() const;
};

struct EpochMetrics {
  size_t epoch = 0;  // 1-based
  float train_loss = 0.0f;
  bool has_accuracy = true;  // false for a loss without classes (Model::hasAccuracy)
  float train_accuracy = 0.0f;
  bool has_validation = false;
  float val_loss = 0.0f;
  float val_accuracy = 0.0f;
  float learning_rate = 0.0f;  // at the end of the epoch
  double seconds = 0.0;
  double samples_per_second = 0.0;
};

struct TrainResult {
  std::vector<EpochMetrics> history;  // epochs run by this call (after a resume: the rest)
  size_t epochs_completed = 0;        // in total, resumed ones included
  size_t best_epoch = 0;              // of the best checkpoint; 0: no epoch finished
  bool stopped_early = false;
  bool interrupted = false;  // stopped by SIGINT; the last checkpoint holds the state
  std::string weights_path;  // empty when save_path is empty
  std::string last_checkpoint;
  std::string best_checkpoint;
  // Wall time of this call by activity: waiting for the loader's next batch, training
  // steps (Model::trainStep), validation, and writing checkpoints and weights.
  size_t batches = 0;  // training steps run by this call
  double data_seconds = 0.0;
  double step_seconds = 0.0;
  double validation_seconds = 0.0;
  double checkpoint_seconds = 0.0;
};

class Trainer {
 public:
  // `model` must be compiled and initialized with an optimizer and a loss. The log
  // gets one line per epoch (and the progress bar when it is a terminal).
  Trainer(Model& model, TrainerOptions options, std::ostream& log);

  // Trains for the model's epochs. `validation` may be null. With `resume_from`, loads
  // that checkpoint (weights, optimizer state, iteration, random streams, epoch and
  // position within it) and continues exactly where it was written. A learning-rate
  // scheduler that follows a metric (LearningRateScheduler::monitor) gets it after every
  // epoch. Throws Error when early stopping, best_monitor or the scheduler monitors
  // accuracy of a model without one (Model::hasAccuracy); and when best_monitor or the
  // scheduler monitors a validation figure without a validation set (so does early
  // stopping with a patience; with none it follows the training figure instead).
  TrainResult fit(Dataset& train, Dataset* validation, const std::string& resume_from = "");

 private:
  Model& model_;
  TrainerOptions options_;
  std::ostream& log_;
};

// The table `edgetrain train --profile` prints: per layer and phase the mean milliseconds
// of a training step (Model::profile), then clipping, recomputation, swap waits, the rest
// of the step, data loading, validation and checkpoints, each with its share of the run.
void print_training_profile(std::ostream& out, const TrainingProfile& profile,
                            const TrainResult& run);

}  // namespace edgetrain
