#include "edgetrain/trainer.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <ostream>
#include <sstream>

#include "edgetrain/checkpoint.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/rng.h"
#include "train/metrics.h"

namespace edgetrain {
namespace {

using Clock = std::chrono::steady_clock;

// Set by SIGINT; the loop checks it between steps.
std::atomic<bool> interrupt_requested{false};

void on_interrupt(int) { interrupt_requested = true; }

// Installs the SIGINT handler for the lifetime of a fit() and restores the old one.
class InterruptGuard {
 public:
  InterruptGuard() {
    interrupt_requested = false;
    struct sigaction action = {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptGuard() { sigaction(SIGINT, &previous_, nullptr); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction previous_ = {};
};

// Checkpoint keys of a scheduler's state start with this.
const std::string kSchedulerPrefix = "scheduler.";

// What a checkpoint must hold besides the model to continue a run exactly.
struct RunState {
  size_t epochs_completed = 0;
  size_t batches_done = 0;  // within the epoch in progress
  // The loader RNG before the epoch in progress (or, between epochs, the next) shuffled.
  std::string epoch_start_rng;
  double loss_sum = 0.0;  // of the epoch in progress
  size_t correct = 0, rows = 0, samples = 0;
  // Early stopping's monitor, and the best checkpoint's when best_monitor is not set.
  double best_metric = std::numeric_limits<double>::quiet_NaN();
  size_t best_epoch = 0;
  size_t epochs_without_improvement = 0;
  // The best checkpoint's, with best_monitor.
  double best_checkpoint_metric = std::numeric_limits<double>::quiet_NaN();
  size_t best_checkpoint_epoch = 0;
  // A scheduler that follows a metric: LearningRateScheduler::state(), "key=value".
  std::vector<std::string> scheduler_state;

  void finish_epoch(size_t epoch, const Rng& loader_rng) {
    epochs_completed = epoch;
    batches_done = correct = rows = samples = 0;
    epoch_start_rng = loader_rng.state();
    loss_sum = 0.0;
  }

  CheckpointMetadata to_metadata() const {
    CheckpointMetadata metadata;
    auto& v = metadata.values;
    v["epochs_completed"] = std::to_string(epochs_completed);
    v["batches_done"] = std::to_string(batches_done);
    v["epoch_start_rng"] = epoch_start_rng;
    std::ostringstream number;
    number << std::hexfloat << loss_sum;
    v["loss_sum"] = number.str();
    v["correct"] = std::to_string(correct);
    v["rows"] = std::to_string(rows);
    v["samples"] = std::to_string(samples);
    number.str("");
    number << std::hexfloat << best_metric;
    v["best_metric"] = number.str();
    v["best_epoch"] = std::to_string(best_epoch);
    v["epochs_without_improvement"] = std::to_string(epochs_without_improvement);
    number.str("");
    number << std::hexfloat << best_checkpoint_metric;
    v["best_checkpoint_metric"] = number.str();
    v["best_checkpoint_epoch"] = std::to_string(best_checkpoint_epoch);
    for (const std::string& entry : scheduler_state) {
      const size_t equals = entry.find('=');
      v[kSchedulerPrefix + entry.substr(0, equals)] = entry.substr(equals + 1);
    }
    return metadata;
  }

  static RunState from_metadata(const CheckpointMetadata& metadata, const std::string& path) {
    auto get = [&](const char* key) -> const std::string& {
      auto found = metadata.values.find(key);
      if (found == metadata.values.end())
        throw Error(path + ": not a training checkpoint of this trainer (no '" + key + "')");
      return found->second;
    };
    auto count = [&](const char* key) -> size_t {
      const std::string& text = get(key);
      size_t value = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || error != std::errc() || end != text.data() + text.size())
        throw Error(path + ": checkpoint value '" + key + "' is '" + text + "', not a count");
      return value;
    };
    auto number = [&](const char* key) -> double {
      const std::string& text = get(key);
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size())
        throw Error(path + ": checkpoint value '" + key + "' is '" + text + "', not a number");
      return value;
    };
    RunState state;
    state.epochs_completed = count("epochs_completed");
    state.batches_done = count("batches_done");
    state.epoch_start_rng = get("epoch_start_rng");
    state.loss_sum = number("loss_sum");
    state.correct = count("correct");
    state.rows = count("rows");
    state.samples = count("samples");
    state.best_metric = number("best_metric");
    state.best_epoch = count("best_epoch");
    state.epochs_without_improvement = count("epochs_without_improvement");
    // Checkpoints written before best_monitor existed have no figures of their own.
    if (metadata.values.count("best_checkpoint_epoch")) {
      state.best_checkpoint_metric = number("best_checkpoint_metric");
      state.best_checkpoint_epoch = count("best_checkpoint_epoch");
    }
    for (const auto& [key, value] : metadata.values)
      if (key.starts_with(kSchedulerPrefix))
        state.scheduler_state.push_back(key.substr(kSchedulerPrefix.size()) + "=" + value);
    return state;
  }
};

bool minimized(const std::string& monitor) { return monitor == "val_loss" || monitor == "loss"; }

// Whether `value` improves on `best` (NaN: nothing yet) by more than `min_delta`.
bool improves(double value, double best, const std::string& monitor, double min_delta) {
  const double sign = minimized(monitor) ? 1.0 : -1.0;
  return std::isnan(best) || sign * (best - value) > min_delta;
}

// Throws Error when `monitor`, which `what` follows, needs a figure the run has not.
void check_monitor(const std::string& monitor, const std::string& what, bool has_validation,
                   bool has_accuracy) {
  if (!has_validation && monitor.starts_with("val_"))
    throw Error(what + " monitors '" + monitor + "' but there is no validation set");
  if (!has_accuracy && !minimized(monitor))
    throw Error(what + " monitors '" + monitor +
                "' but the model's loss has no classes, so no accuracy: monitor val_loss or loss");
}

double monitored_value(const EpochMetrics& metrics, const std::string& monitor) {
  if (monitor == "val_loss") return metrics.val_loss;
  if (monitor == "val_accuracy") return metrics.val_accuracy;
  if (monitor == "accuracy") return metrics.train_accuracy;
  return metrics.train_loss;
}

std::string format_duration(double seconds) {
  const long total = std::lround(seconds);
  std::ostringstream text;
  text << total / 60 << ":" << std::setw(2) << std::setfill('0') << total % 60;
  return text.str();
}

// A one-line progress bar redrawn in place, at most ten times a second.
class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool enabled) : out_(out), enabled_(enabled) {}
  // An error mid-epoch (a NaN loss) leaves no half-drawn bar in front of its message.
  ~ProgressBar() { clear(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(size_t epoch, size_t epochs, size_t batch, size_t batches, double samples_per_second,
              double seconds_left, float loss) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (batch < batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr size_t kWidth = 30;
    const size_t filled = batches == 0 ? kWidth : kWidth * batch / batches;
    std::ostringstream line;
    line << "\r#" << epoch << "/" << epochs << " [" << std::string(filled, '=')
         << (filled < kWidth ? ">" : "") << std::string(kWidth - std::min(kWidth, filled + 1), ' ')
         << "] " << batch << "/" << batches << "  " << std::lround(samples_per_second)
         << " samples/s  ETA " << format_duration(seconds_left) << "  loss " << std::setprecision(4)
         << loss << "   ";
    out_ << line.str() << std::flush;
    drawn_ = true;
  }

  void clear() {
    if (!drawn_) return;
    out_ << "\r" << std::string(100, ' ') << "\r" << std::flush;
    drawn_ = false;
  }

 private:
  std::ostream& out_;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point last_draw_{};
};

// One CSV row per epoch. Like Keras' CSVLogger, a new run starts the file afresh and a
// resumed run appends to it; the header goes at the top of an empty file.
class MetricsLog {
 public:
  MetricsLog(const std::string& path, bool resuming) : path_(path) {
    if (path.empty()) return;
    out_.open(path, resuming ? std::ios::app : std::ios::trunc);
    if (!out_) throw Error("cannot write the metrics log " + path);
    if (out_.tellp() == 0)
      out_ << "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds,"
              "samples_per_second\n";
  }

  void write(const EpochMetrics& m) {
    if (path_.empty()) return;
    // Cells without a figure stay empty.
    out_ << m.epoch << "," << m.train_loss << ",";
    if (m.has_accuracy) out_ << m.train_accuracy;
    out_ << ",";
    if (m.has_validation) out_ << m.val_loss;
    out_ << ",";
    if (m.has_validation && m.has_accuracy) out_ << m.val_accuracy;
    out_ << "," << m.learning_rate << "," << m.seconds << "," << m.samples_per_second << "\n";
    out_.flush();
  }

 private:
  std::string path_;
  std::ofstream out_;
};

std::string epoch_line(const EpochMetrics& m, size_t epochs) {
  std::ostringstream line;
  line << "#" << m.epoch << "/" << epochs << " - Training Loss: " << m.train_loss;
  if (m.has_validation && m.has_accuracy)
    line << " >> [ Accuracy: " << m.val_accuracy * 100.0f << "% - Validation Loss : " << m.val_loss
         << " ]";
  else if (m.has_validation)
    line << " >> [ Validation Loss : " << m.val_loss << " ]";
  else if (m.has_accuracy)
    line << " >> [ Training Accuracy: " << m.train_accuracy * 100.0f << "% ]";
  line << "  (" << std::fixed << std::setprecision(1) << m.seconds << " s, " << std::setprecision(0)
       << m.samples_per_second << " samples/s)";
  return line.str();
}

bool is_terminal(const std::ostream& out) {
  return (&out == &std::cout && isatty(STDOUT_FILENO)) ||
         (&out == &std::cerr && isatty(STDERR_FILENO));
}

}  // namespace

Trainer::Trainer(Model& model, TrainerOptions options, std::ostream& log)
    : model_(model), options_(std::move(options)), log_(log) {}

TrainResult Trainer::fit(Dataset& train, Dataset* validation, const std::string& resume_from) {
  const std::string& monitor = options_.early_stopping.monitor;
  if (!validation && monitor.rfind("val_", 0) == 0 && options_.early_stopping.patience > 0)
    throw Error("early stopping monitors '" + monitor + "' but there is no validation set");
  const bool has_accuracy = model_.hasAccuracy();
  if (!has_accuracy && !minimized(monitor) && options_.early_stopping.patience > 0)
    throw Error("early stopping monitors '" + monitor +
                "' but the model's loss has no classes, so no accuracy: monitor val_loss or loss");
  const std::string monitored = validation || monitor.rfind("val_", 0) != 0 ? monitor
                                : monitor == "val_loss"                     ? "loss"
                                                                            : "accuracy";
  const std::string& best_monitor = options_.best_monitor;
  if (!best_monitor.empty())
    check_monitor(best_monitor, "best_monitor", validation != nullptr, has_accuracy);
  // A scheduler that follows a metric is stepped after every epoch.
  LearningRateScheduler* scheduler = model_.learningRateScheduler();
  const std::string scheduler_monitor = scheduler ? scheduler->monitor() : "";
  if (!scheduler_monitor.empty())
    check_monitor(scheduler_monitor, "learning rate scheduler '" + scheduler->type() + "'",
                  validation != nullptr, has_accuracy);
  DataLoader loader(train,
                    {model_.batchSize(), options_.shuffle, options_.drop_last, model_.seed()});
  if (loader.num_batches() == 0)
    throw Error("the training set has " + std::to_string(train.size()) +
                " samples, fewer than one batch of " + std::to_string(model_.batchSize()) +
                " with drop_last");

  RunState state;
  if (!resume_from.empty())
    state = RunState::from_metadata(load_checkpoint(model_, resume_from), resume_from);
  // A checkpoint from before the first epoch ended has no scheduler state yet.
  if (!scheduler_monitor.empty() && !state.scheduler_state.empty())
    scheduler->set_state(state.scheduler_state, resume_from);

  TrainResult result;
  result.weights_path = options_.save_path;
  result.last_checkpoint = options_.last_checkpoint_path();
  result.best_checkpoint = options_.best_checkpoint_path();
  result.best_epoch = best_monitor.empty() ? state.best_epoch : state.best_checkpoint_epoch;
  MetricsLog metrics_log(options_.metrics_path, !resume_from.empty());
  ProgressBar progress(log_, options_.progress && is_terminal(log_));
  InterruptGuard interrupt_guard;
  std::vector<Tensor> inputs = model_.inputs(), labels = model_.labels();
  const Tensor prediction = model_.outputs()[0];
  const size_t epochs = model_.epochs();

  auto seconds_since = [](Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  auto save_last = [&] {
    if (result.last_checkpoint.empty()) return;
    const auto saving = Clock::now();
    save_checkpoint(model_, state.to_metadata(), result.last_checkpoint);
    result.checkpoint_seconds += seconds_since(saving);
  };
  // After SIGINT, once the last checkpoint holds the state.
  auto stop_interrupted = [&](const std::string& where) {
    result.interrupted = true;
    result.epochs_completed = state.epochs_completed;
    log_ << "Interrupted " << where;
    if (!result.last_checkpoint.empty())
      log_ << "; resume with --resume " << result.last_checkpoint;
    log_ << std::endl;
    return result;
  };

  // A resumed run continues the shuffles of the run it resumes.
  if (!state.epoch_start_rng.empty()) loader.rng().set_state(state.epoch_start_rng);
  for (size_t epoch = state.epochs_completed + 1; epoch <= epochs; ++epoch) {
    state.epoch_start_rng = loader.rng().state();
    loader.start_epoch();
    // After a resume inside an epoch, skip the samples already trained on.
    loader.set_position(state.samples);

    const auto start = Clock::now();
    size_t epoch_samples = 0;
    for (auto loading = Clock::now();; loading = Clock::now()) {
      const size_t samples = loader.next_batch(inputs, labels);
      const auto stepping = Clock::now();
      result.data_seconds += std::chrono::duration<double>(stepping - loading).count();
      if (samples == 0) break;
      const float loss = model_.trainStep(samples);
      result.step_seconds += seconds_since(stepping);
      ++result.batches;
      if (has_accuracy) {
        const RowCounts counts = count_correct_rows(prediction, labels[0], samples);
        state.correct += counts.correct;
        state.rows += counts.rows;
      }
      state.loss_sum += loss;
      state.samples += samples;
      epoch_samples += samples;
      ++state.batches_done;
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      const double rate = elapsed > 0 ? epoch_samples / elapsed : 0.0;
      const size_t left = loader.num_batches() - state.batches_done;
      progress.update(epoch, epochs, state.batches_done, loader.num_batches(), rate,
                      rate > 0 ? left * model_.batchSize() / rate : 0.0, loss);
      if (interrupt_requested) {
        progress.clear();
        save_last();
        return stop_interrupted("in epoch " + std::to_string(epoch) + " after " +
                                std::to_string(state.batches_done) + " batches");
      }
    }
    progress.clear();

    EpochMetrics metrics;
    metrics.epoch = epoch;
    metrics.train_loss =
        static_cast<float>(state.loss_sum / std::max<size_t>(1, state.batches_done));
    metrics.has_accuracy = has_accuracy;
    metrics.train_accuracy = state.rows ? static_cast<float>(state.correct) / state.rows : 0.0f;
    metrics.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    metrics.samples_per_second = metrics.seconds > 0 ? epoch_samples / metrics.seconds : 0.0;
    metrics.learning_rate = model_.learningRate();
    if (validation) {
      const auto validating = Clock::now();
      const EvaluationResult evaluation = model_.evaluate(*validation);
      result.validation_seconds += seconds_since(validating);
      metrics.has_validation = true;
      metrics.val_loss = evaluation.loss;
      metrics.val_accuracy = evaluation.accuracy;
    }
    state.finish_epoch(epoch, loader.rng());
    if (!scheduler_monitor.empty()) {
      scheduler->epoch_end(monitored_value(metrics, scheduler_monitor),
                           model_.optimizer()->base_learning_rate());
      state.scheduler_state = scheduler->state();
    }

    const double value = monitored_value(metrics, monitored);
    const bool improved =
        improves(value, state.best_metric, monitored, options_.early_stopping.min_delta);
    if (improved) {
      state.best_metric = value;
      state.best_epoch = epoch;
      state.epochs_without_improvement = 0;
    } else {
      ++state.epochs_without_improvement;
    }
    bool best = improved;
    if (!best_monitor.empty()) {
      const double best_value = monitored_value(metrics, best_monitor);
      best = improves(best_value, state.best_checkpoint_metric, best_monitor, 0.0);
      if (best) {
        state.best_checkpoint_metric = best_value;
        state.best_checkpoint_epoch = epoch;
      }
    }
    result.best_epoch = best_monitor.empty() ? state.best_epoch : state.best_checkpoint_epoch;
    save_last();
    if (best && !result.best_checkpoint.empty()) {
      const auto saving = Clock::now();
      save_checkpoint(model_, state.to_metadata(), result.best_checkpoint);
      result.checkpoint_seconds += seconds_since(saving);
    }

    log_ << epoch_line(metrics, epochs) << std::endl;
    metrics_log.write(metrics);
    result.history.push_back(metrics);
    result.epochs_completed = epoch;

    // Stopping at the last epoch is no early stop.
    if (epoch < epochs && options_.early_stopping.patience > 0 &&
        state.epochs_without_improvement >= options_.early_stopping.patience) {
      result.stopped_early = true;
      log_ << "Early stopping: " << monitored << " has not improved for "
           << state.epochs_without_improvement << " epochs (best: epoch " << state.best_epoch << ")"
           << std::endl;
      break;
    }
    // A SIGINT during validation: the epoch's checkpoint is written, stop before the next.
    if (interrupt_requested && epoch < epochs)
      return stop_interrupted("after epoch " + std::to_string(epoch));
  }
  if (!result.weights_path.empty()) {
    const auto saving = Clock::now();
    save_weights(model_, result.weights_path);
    result.checkpoint_seconds += seconds_since(saving);
  }
  return result;
}

}  // namespace edgetrain
