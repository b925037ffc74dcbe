// Trainer::fit on a tiny classifier: learning, NNTrainer-shaped log lines, the CSV metrics
// log, early stopping, best and last checkpoints, exact resume (at an epoch boundary and
// mid-epoch after SIGINT), and a NaN loss.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "edgetrain/checkpoint.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/rng.h"
#include "edgetrain/trainer.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

constexpr size_t kFeatures = 4, kClasses = 3;
// 60 samples in batches of 8: seven full batches and a partial one of 4.
constexpr size_t kTrainSamples = 60, kBatch = 8, kBatches = 8;

// A learnable problem: the class is whichever of the first three features is largest.
void write_sample(size_t index, float* features, float* one_hot) {
  Rng rng(1000 + index);
  for (size_t f = 0; f < kFeatures; ++f) features[f] = rng.uniform(-1.0f, 1.0f);
  const size_t label =
      static_cast<size_t>(std::max_element(features, features + kClasses) - features);
  for (size_t c = 0; c < kClasses; ++c) one_hot[c] = c == label ? 1.0f : 0.0f;
}

MemoryDataset make_dataset(size_t samples, size_t first_index) {
  std::vector<float> inputs(samples * kFeatures), labels(samples * kClasses);
  for (size_t i = 0; i < samples; ++i)
    write_sample(first_index + i, &inputs[i * kFeatures], &labels[i * kClasses]);
  return MemoryDataset(std::move(inputs), kFeatures, std::move(labels), kClasses);
}

// fc 16 relu -> dropout -> fc 3, softmax cross-entropy, Adam. The dropout makes the layer
// random stream part of what a resume has to restore.
std::unique_ptr<Model> make_model(size_t epochs, const std::string& learning_rate = "0.05",
                                  std::unique_ptr<LearningRateScheduler> scheduler = nullptr) {
  auto model = std::make_unique<Model>(
      std::vector<std::string>{"batch_size=" + std::to_string(kBatch),
                               "epochs=" + std::to_string(epochs), "loss=cross_entropy", "seed=3"});
  model->addLayer(createLayer("input", {"name=input", "input_shape=1:1:4"}));
  model->addLayer(createLayer("fully_connected", {"name=fc1", "unit=16", "activation=relu"}));
  model->addLayer(createLayer("dropout", {"name=drop", "dropout_rate=0.25"}));
  model->addLayer(createLayer("fully_connected", {"name=fc2", "unit=3"}));
  model->setOptimizer(createOptimizer("adam", {"learning_rate=" + learning_rate}));
  if (scheduler) model->setLearningRateScheduler(std::move(scheduler));
  model->compile();
  model->initialize();
  return model;
}

// The bits of every weight, layer state and optimizer state tensor, for exact comparison.
std::vector<std::vector<uint32_t>> state_bits(Model& model) {
  std::vector<std::vector<uint32_t>> bits;
  for (const Model::NamedTensor& named : model.persistentTensors(true)) {
    bits.emplace_back();
    for (float value : named.tensor) bits.back().push_back(std::bit_cast<uint32_t>(value));
  }
  return bits;
}

std::vector<std::vector<uint32_t>> weight_bits(Model& model) {
  std::vector<std::vector<uint32_t>> bits;
  for (const Model::NamedTensor& named : model.persistentTensors(false)) {
    bits.emplace_back();
    for (float value : named.tensor) bits.back().push_back(std::bit_cast<uint32_t>(value));
  }
  return bits;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The lines of a log that start with '#': the per-epoch lines.
std::vector<std::string> epoch_lines(const std::string& log) {
  std::istringstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("#")) lines.push_back(line);
  return lines;
}

TrainerOptions options_in(const std::string& dir) {
  TrainerOptions options;
  options.save_path = dir + "model.bin";
  return options;
}

// Installs a SIGINT handler of the test's own for its scope, so the tests can check that
// fit() puts it back, and restores what was there before.
class SigintHandlerScope {
 public:
  SigintHandlerScope() {
    struct sigaction action = {};
    action.sa_handler = count;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
    calls = 0;
  }
  ~SigintHandlerScope() { sigaction(SIGINT, &previous_, nullptr); }
  SigintHandlerScope(const SigintHandlerScope&) = delete;
  SigintHandlerScope& operator=(const SigintHandlerScope&) = delete;

  static bool installed() {
    struct sigaction current = {};
    sigaction(SIGINT, nullptr, &current);
    return current.sa_handler == count;
  }
  static inline volatile sig_atomic_t calls = 0;

 private:
  static void count(int) { calls = calls + 1; }
  struct sigaction previous_ = {};
};

TEST(Trainer, LossFallsOverEpochsWithOneHistoryEntryPerEpoch) {
  const std::string dir = fresh_temp_dir();
  auto model = make_model(8);
  MemoryDataset train = make_dataset(kTrainSamples, 0), validation = make_dataset(30, 500);
  std::ostringstream log;
  const TrainResult result = Trainer(*model, options_in(dir), log).fit(train, &validation);

  ASSERT_EQ(result.history.size(), 8u);
  for (size_t i = 0; i < result.history.size(); ++i) {
    EXPECT_EQ(result.history[i].epoch, i + 1);
    EXPECT_TRUE(result.history[i].has_validation);
    EXPECT_GT(result.history[i].samples_per_second, 0.0);
  }
  EXPECT_EQ(result.epochs_completed, 8u);
  EXPECT_FALSE(result.stopped_early);
  EXPECT_FALSE(result.interrupted);
  EXPECT_LT(result.history.back().train_loss, 0.6f * result.history.front().train_loss);
  EXPECT_LT(result.history.back().val_loss, result.history.front().val_loss);
  EXPECT_GT(result.history.back().val_accuracy, 0.8f);
  EXPECT_FLOAT_EQ(result.history.back().learning_rate, 0.05f);
}

TEST(Trainer, ProfilingTimesEveryPhaseOfEveryTrainingStepAndNotEvaluation) {
  auto model = make_model(2);
  MemoryDataset train = make_dataset(kTrainSamples, 0), validation = make_dataset(20, 500);
  std::ostringstream log;
  model->setProfiling(true);
  const TrainResult result = Trainer(*model, TrainerOptions(), log).fit(train, &validation);
  const TrainingProfile profile = model->profile();

  EXPECT_EQ(profile.iterations, 2 * kBatches);  // validation forwards are not counted
  EXPECT_EQ(result.batches, 2 * kBatches);
  ASSERT_EQ(profile.layers.size(), model->layerNames().size());
  auto layer = [&](const std::string& name) {
    for (const LayerTime& time : profile.layers)
      if (time.layer == name) return time;
    ADD_FAILURE() << "no layer " << name;
    return LayerTime();
  };
  const LayerTime fc1 = layer("fc1"), fc2 = layer("fc2");
  EXPECT_GT(fc1.forward, 0.0);
  EXPECT_GT(fc1.calc_gradient, 0.0);
  EXPECT_GT(fc1.optimizer, 0.0);
  EXPECT_EQ(fc1.calc_derivative, 0.0);  // the first layer passes no gradient on
  EXPECT_GT(fc2.calc_derivative, 0.0);
  EXPECT_EQ(layer("drop").optimizer, 0.0);  // no weights
  // The layers' time is part of the steps' time, which the trainer measures around them.
  EXPECT_LE(profile.total(), result.step_seconds);
  EXPECT_GT(result.data_seconds, 0.0);
  EXPECT_GT(result.validation_seconds, 0.0);

  std::ostringstream table;
  print_training_profile(table, profile, result);
  EXPECT_NE(table.str().find("mean over 16 steps"), std::string::npos) << table.str();
  EXPECT_NE(table.str().find("fc1"), std::string::npos);
  EXPECT_NE(table.str().find("(data loading)"), std::string::npos);
  EXPECT_NE(table.str().find("(validation)"), std::string::npos);

  // Turning profiling on again starts from zero; off, nothing more is added.
  model->setProfiling(true);
  EXPECT_EQ(model->profile().iterations, 0u);
  EXPECT_EQ(model->profile().total(), 0.0);
  model->setProfiling(false);
  Trainer(*model, TrainerOptions(), log).fit(train, nullptr);
  EXPECT_EQ(model->profile().iterations, 0u);
}

TEST(Trainer, LogLinesHaveNNTrainerShapeWithValidation) {
  auto model = make_model(3);
  MemoryDataset train = make_dataset(kTrainSamples, 0), validation = make_dataset(20, 500);
  std::ostringstream log;
  const TrainResult result = Trainer(*model, TrainerOptions(), log).fit(train, &validation);

  const std::regex shape(R"(#(\d+)/3 - Training Loss: ([0-9.e+-]+) >> )"
                         R"(\[ Accuracy: ([0-9.]+)% - Validation Loss : ([0-9.e+-]+) \].*)");
  const std::vector<std::string> lines = epoch_lines(log.str());
  ASSERT_EQ(lines.size(), 3u) << log.str();
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(lines[i], match, shape)) << lines[i];
    EXPECT_EQ(std::stoul(match[1]), i + 1);
    EXPECT_NEAR(std::stof(match[2]), result.history[i].train_loss, 1e-4f);
    EXPECT_NEAR(std::stof(match[3]), 100.0f * result.history[i].val_accuracy, 1e-3f);
    EXPECT_NEAR(std::stof(match[4]), result.history[i].val_loss, 1e-4f);
  }
}

TEST(Trainer, LogLinesHaveNNTrainerShapeWithoutValidation) {
  auto model = make_model(2);
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  std::ostringstream log;
  Trainer(*model, TrainerOptions(), log).fit(train, nullptr);

  const std::vector<std::string> lines = epoch_lines(log.str());
  ASSERT_EQ(lines.size(), 2u) << log.str();
  const std::regex shape(R"(#[12]/2 - Training Loss: [0-9.e+-]+( .*)?)");
  for (const std::string& line : lines) {
    EXPECT_TRUE(std::regex_match(line, shape)) << line;
    EXPECT_EQ(line.find("Validation"), std::string::npos) << line;
  }
}

TEST(Trainer, NoProgressBarWhenTheLogIsNotATerminal) {
  auto model = make_model(2);
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  std::ostringstream log;
  TrainerOptions options;
  options.progress = true;
  Trainer(*model, options, log).fit(train, nullptr);
  EXPECT_EQ(log.str().find('\r'), std::string::npos) << log.str();
}

TEST(Trainer, MetricsCsvHasAHeaderAndOneRowPerEpoch) {
  const std::string dir = fresh_temp_dir();
  MemoryDataset train = make_dataset(kTrainSamples, 0), validation = make_dataset(20, 500);
  TrainerOptions options;
  options.metrics_path = dir + "metrics.csv";
  std::ostringstream log;
  auto model = make_model(3);
  const TrainResult result = Trainer(*model, options, log).fit(train, &validation);

  const std::vector<std::string> lines = read_lines(options.metrics_path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0],
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds,"
            "samples_per_second");
  for (size_t epoch = 1; epoch <= 3; ++epoch) {
    std::vector<std::string> cells;
    std::istringstream row(lines[epoch]);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 8u) << lines[epoch];
    EXPECT_EQ(cells[0], std::to_string(epoch));
    EXPECT_NEAR(std::stof(cells[1]), result.history[epoch - 1].train_loss, 1e-5f);
    EXPECT_NEAR(std::stof(cells[3]), result.history[epoch - 1].val_loss, 1e-5f);
    EXPECT_NEAR(std::stof(cells[4]), result.history[epoch - 1].val_accuracy, 1e-5f);
  }

  // Without a validation set the validation cells are empty.
  TrainerOptions no_validation;
  no_validation.metrics_path = dir + "train_only.csv";
  auto other = make_model(1);
  Trainer(*other, no_validation, log).fit(train, nullptr);
  const std::vector<std::string> train_only = read_lines(no_validation.metrics_path);
  ASSERT_EQ(train_only.size(), 2u);
  EXPECT_TRUE(std::regex_match(train_only[1], std::regex(R"(1,[^,]+,[^,]+,,,[^,]+,[^,]+,[^,]+)")))
      << train_only[1];
}

// Like Keras' CSVLogger: a new run starts the file afresh; a resumed run continues it.
TEST(Trainer, MetricsCsvIsRewrittenByANewRunAndAppendedOnResume) {
  const std::string dir = fresh_temp_dir();
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  TrainerOptions options = options_in(dir);
  options.metrics_path = dir + "metrics.csv";
  std::ostringstream log;
  for (int run = 0; run < 2; ++run) {
    auto model = make_model(2);
    Trainer(*model, options, log).fit(train, nullptr);
    EXPECT_EQ(read_lines(options.metrics_path).size(), 3u) << "run " << run;
  }
  auto model = make_model(4);
  Trainer(*model, options, log).fit(train, nullptr, options.last_checkpoint_path());
  const std::vector<std::string> lines = read_lines(options.metrics_path);
  ASSERT_EQ(lines.size(), 5u);
  for (size_t epoch = 1; epoch <= 4; ++epoch)
    EXPECT_TRUE(lines[epoch].starts_with(std::to_string(epoch) + ",")) << lines[epoch];
}

TEST(Trainer, EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement) {
  auto model = make_model(10, "0");  // nothing can improve
  MemoryDataset train = make_dataset(kTrainSamples, 0), validation = make_dataset(20, 500);
  TrainerOptions options;
  options.early_stopping.patience = 2;
  std::ostringstream log;
  const TrainResult result = Trainer(*model, options, log).fit(train, &validation);

  EXPECT_TRUE(result.stopped_early);
  EXPECT_EQ(result.epochs_completed, 3u);
  EXPECT_EQ(result.history.size(), 3u);
  EXPECT_EQ(result.best_epoch, 1u);
  EXPECT_NE(log.str().find("Early stopping"), std::string::npos) << log.str();
}

TEST(Trainer, RunningOutOfPatienceAtTheLastEpochIsNoEarlyStop) {
  auto model = make_model(3, "0");  // nothing can improve; patience runs out at epoch 3 of 3
  MemoryDataset train = make_dataset(kTrainSamples, 0), validation = make_dataset(20, 500);
  TrainerOptions options;
  options.early_stopping.patience = 2;
  std::ostringstream log;
  const TrainResult result = Trainer(*model, options, log).fit(train, &validation);
  EXPECT_FALSE(result.stopped_early);
  EXPECT_EQ(result.epochs_completed, 3u);
  EXPECT_EQ(log.str().find("Early stopping"), std::string::npos) << log.str();
}

// A validation set whose labels follow a script. In epoch e the first correct[e] of its
// samples are labelled with the class the model predicts for them and the others with
// another class. With learning_rate=0 the predictions never change, so the script sets the
// validation accuracy exactly, and the loss moves the other way. Evaluation reads every
// sample once, in order, so the reads count the epochs.
class ScriptedValidation {
 public:
  static constexpr size_t kSamples = 4;

  ScriptedValidation(Model& model, std::vector<size_t> correct)
      : correct_(std::move(correct)),
        dataset_(kSamples, [this](size_t index, std::span<Tensor> in, std::span<Tensor> out) {
          read(index, in, out);
        }) {
    for (size_t i = 0; i < kSamples; ++i) {
      float label[kClasses];
      write_sample(700 + i, &inputs_[i * kFeatures], label);
    }
    const std::vector<float> logits = model.predict(inputs_, kSamples);
    for (size_t i = 0; i < kSamples; ++i)
      predicted_[i] = static_cast<size_t>(
          std::max_element(&logits[i * kClasses], &logits[i * kClasses] + kClasses) -
          &logits[i * kClasses]);
  }
  Dataset& dataset() { return dataset_; }

 private:
  void read(size_t index, std::span<Tensor> in, std::span<Tensor> out) {
    const size_t epoch = std::min(reads_++ / kSamples, correct_.size() - 1);
    std::copy_n(&inputs_[index * kFeatures], kFeatures, in[0].data());
    const size_t label =
        index < correct_[epoch] ? predicted_[index] : (predicted_[index] + 1) % kClasses;
    for (size_t c = 0; c < kClasses; ++c) out[0][c] = c == label ? 1.0f : 0.0f;
  }

  std::vector<size_t> correct_;
  float inputs_[kSamples * kFeatures];
  size_t predicted_[kSamples];
  size_t reads_ = 0;
  GeneratorDataset dataset_;
};

struct EarlyStop {
  size_t epochs_completed;
  size_t best_epoch;
  std::vector<float> val_accuracy;
};

EarlyStop run_scripted(const std::vector<size_t>& correct, const std::string& monitor,
                       float min_delta) {
  auto model = make_model(8, "0");
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  ScriptedValidation validation(*model, correct);
  TrainerOptions options;
  options.early_stopping = {.patience = 2, .monitor = monitor, .min_delta = min_delta};
  std::ostringstream log;
  const TrainResult result = Trainer(*model, options, log).fit(train, &validation.dataset());
  EXPECT_TRUE(result.stopped_early) << log.str();
  EarlyStop stop{result.epochs_completed, result.best_epoch, {}};
  for (const EpochMetrics& epoch : result.history) stop.val_accuracy.push_back(epoch.val_accuracy);
  return stop;
}

// Validation is bad, good, then bad again: epoch 2 is the best whether the monitor is the
// accuracy (maximized) or the loss (minimized), and two epochs later training stops. With
// the wrong direction epoch 1 would be the best and training would stop an epoch earlier.
TEST(Trainer, EarlyStoppingMaximizesValAccuracyAndMinimizesValLoss) {
  for (const std::string monitor : {"val_accuracy", "val_loss"}) {
    SCOPED_TRACE(monitor);
    const EarlyStop stop = run_scripted({1, 4, 1}, monitor, 0.0f);
    EXPECT_EQ(stop.val_accuracy, (std::vector<float>{0.25f, 1.0f, 0.25f, 0.25f}));
    EXPECT_EQ(stop.best_epoch, 2u);
    EXPECT_EQ(stop.epochs_completed, 4u);
  }
}

// Accuracy climbs by 0.25 an epoch to 1. With min_delta 0.3 only the jump from 0.25 (epoch
// 1) to 0.75 (epoch 3) counts; without it every epoch up to 4 improves.
TEST(Trainer, EarlyStoppingIgnoresImprovementsNotAboveMinDelta) {
  const EarlyStop with_delta = run_scripted({1, 2, 3, 4}, "val_accuracy", 0.3f);
  EXPECT_EQ(with_delta.best_epoch, 3u);
  EXPECT_EQ(with_delta.epochs_completed, 5u);
  const EarlyStop without = run_scripted({1, 2, 3, 4}, "val_accuracy", 0.0f);
  EXPECT_EQ(without.best_epoch, 4u);
  EXPECT_EQ(without.epochs_completed, 6u);
}

// Validation accuracy 0.25, 1, 0.5, 0.75. Early stopping's monitor (val_loss) counts only
// epoch 1 as an improvement with min_delta 100, which the best checkpoint follows by
// default; best_monitor = val_accuracy picks epoch 2 instead.
TEST(Trainer, BestMonitorPicksTheBestCheckpointByItsOwnMetric) {
  const std::string dir = fresh_temp_dir();
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  TrainerOptions options = options_in(dir);
  options.early_stopping.min_delta = 100.0f;
  std::ostringstream log;
  auto by_loss = make_model(4, "0");
  ScriptedValidation validation(*by_loss, {1, 4, 2, 3});
  EXPECT_EQ(Trainer(*by_loss, options, log).fit(train, &validation.dataset()).best_epoch, 1u);

  options.best_monitor = "val_accuracy";
  auto model = make_model(4, "0");
  ScriptedValidation same(*model, {1, 4, 2, 3});
  const TrainResult result = Trainer(*model, options, log).fit(train, &same.dataset());
  EXPECT_EQ(result.best_epoch, 2u);
  auto best = make_model(4, "0");
  EXPECT_EQ(load_checkpoint(*best, result.best_checkpoint).values.at("epochs_completed"), "2");
}

TEST(Trainer, BestMonitorAndPlateauSchedulerCheckTheirMetrics) {
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  std::ostringstream log;
  auto expect_fit_error = [&](Model& model, const TrainerOptions& options,
                              const std::vector<std::string>& parts) {
    try {
      Trainer(model, options, log).fit(train, nullptr);
      ADD_FAILURE() << "no error";
    } catch (const Error& error) {
      for (const std::string& part : parts)
        EXPECT_NE(std::string(error.what()).find(part), std::string::npos) << error.what();
    }
  };
  TrainerOptions options;
  options.best_monitor = "val_accuracy";
  auto model = make_model(1);
  expect_fit_error(*model, options, {"best_monitor", "val_accuracy", "no validation set"});
  auto plateau = make_model(1, "0.05", createLearningRateScheduler("reduce_on_plateau"));
  expect_fit_error(
      *plateau, TrainerOptions(),
      {"learning rate scheduler 'reduce_on_plateau'", "val_loss", "no validation set"});
}

// threshold=0.9 asks the loss to fall below a tenth of its best: after epoch 1 no epoch
// does, so with patience 0 every epoch from the second halves the rate for the next.
std::unique_ptr<LearningRateScheduler> halving_plateau() {
  return createLearningRateScheduler("reduce_on_plateau",
                                     {"monitor=loss", "patience=0", "factor=0.5", "threshold=0.9"});
}

TEST(Trainer, StepsAPlateauSchedulerWithItsMetricEveryEpoch) {
  auto model = make_model(4, "0.04", halving_plateau());
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  std::ostringstream log;
  const TrainResult result = Trainer(*model, TrainerOptions(), log).fit(train, nullptr);
  ASSERT_EQ(result.history.size(), 4u);
  const float expected[] = {0.04f, 0.04f, 0.02f, 0.01f};
  for (size_t i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(result.history[i].learning_rate, expected[i]);
  EXPECT_FLOAT_EQ(model->learningRate(), 0.005f);
}

// The scheduler's state goes into the checkpoint: resuming gives the rates of one run.
TEST(Trainer, ResumingKeepsThePlateauSchedulersState) {
  const std::string dir = fresh_temp_dir();
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  std::ostringstream log;
  auto whole = make_model(5, "0.04", halving_plateau());
  const TrainResult straight = Trainer(*whole, TrainerOptions(), log).fit(train, nullptr);
  TrainerOptions options = options_in(dir);
  auto first = make_model(3, "0.04", halving_plateau());
  Trainer(*first, options, log).fit(train, nullptr);
  auto resumed = make_model(5, "0.04", halving_plateau());
  const TrainResult rest =
      Trainer(*resumed, options, log).fit(train, nullptr, options.last_checkpoint_path());
  ASSERT_EQ(rest.history.size(), 2u);
  EXPECT_EQ(rest.history[0].learning_rate, straight.history[3].learning_rate);
  EXPECT_EQ(rest.history[1].learning_rate, straight.history[4].learning_rate);
  EXPECT_EQ(resumed->learningRate(), whole->learningRate());
  EXPECT_EQ(state_bits(*resumed), state_bits(*whole));
}

TEST(Trainer, MonitoringValidationWithoutAValidationSetIsAnError) {
  auto model = make_model(2);
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  for (const std::string monitor : {"val_loss", "val_accuracy"}) {
    TrainerOptions options;
    options.early_stopping = {.patience = 1, .monitor = monitor};
    std::ostringstream log;
    try {
      Trainer(*model, options, log).fit(train, nullptr);
      ADD_FAILURE() << "no error for monitor=" << monitor;
    } catch (const Error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(monitor), std::string::npos) << message;
      EXPECT_NE(message.find("no validation set"), std::string::npos) << message;
    }
  }
}

TEST(Trainer, WritesBestAndLastCheckpointsAndFinalWeightsBesideSavePath) {
  const std::string dir = fresh_temp_dir();
  MemoryDataset train = make_dataset(kTrainSamples, 0), validation = make_dataset(20, 500);
  TrainerOptions options = options_in(dir);
  EXPECT_EQ(options.last_checkpoint_path(), dir + "model.last.ckpt");
  EXPECT_EQ(options.best_checkpoint_path(), dir + "model.best.ckpt");
  // Only the first epoch's loss counts as an improvement, so the best epoch is 1.
  options.early_stopping.min_delta = 100.0f;
  auto model = make_model(3);
  std::ostringstream log;
  const TrainResult result = Trainer(*model, options, log).fit(train, &validation);
  EXPECT_EQ(result.weights_path, dir + "model.bin");
  EXPECT_EQ(result.last_checkpoint, dir + "model.last.ckpt");
  EXPECT_EQ(result.best_checkpoint, dir + "model.best.ckpt");
  EXPECT_EQ(result.best_epoch, 1u);

  auto weights = make_model(3);
  load_weights(*weights, result.weights_path);
  EXPECT_EQ(weight_bits(*weights), weight_bits(*model));

  auto last = make_model(3);
  const CheckpointMetadata last_metadata = load_checkpoint(*last, result.last_checkpoint);
  EXPECT_EQ(last_metadata.values.at("epochs_completed"), "3");
  EXPECT_EQ(state_bits(*last), state_bits(*model));
  EXPECT_EQ(last->iteration(), model->iteration());

  auto best = make_model(3);
  const CheckpointMetadata best_metadata = load_checkpoint(*best, result.best_checkpoint);
  EXPECT_EQ(best_metadata.values.at("epochs_completed"), std::to_string(result.best_epoch));
  auto one_epoch = make_model(1);
  Trainer(*one_epoch, TrainerOptions(), log).fit(train, &validation);
  EXPECT_EQ(state_bits(*best), state_bits(*one_epoch));
}

TEST(Trainer, WithoutSavePathNothingIsWritten) {
  const std::string dir = fresh_temp_dir();
  auto model = make_model(1);
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  std::ostringstream log;
  const TrainResult result = Trainer(*model, TrainerOptions(), log).fit(train, nullptr);
  EXPECT_TRUE(result.weights_path.empty());
  EXPECT_TRUE(result.last_checkpoint.empty());
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

// Stopping after 2 epochs and resuming from the last checkpoint to 5 gives the weights,
// optimizer state and per-epoch figures of 5 epochs in one go, with shuffling and dropout.
TEST(Trainer, ResumingFromAnEpochBoundaryIsExact) {
  const std::string dir = fresh_temp_dir();
  MemoryDataset train = make_dataset(kTrainSamples, 0), validation = make_dataset(20, 500);
  std::ostringstream log;
  auto whole = make_model(5);
  const TrainResult straight = Trainer(*whole, TrainerOptions(), log).fit(train, &validation);

  TrainerOptions options = options_in(dir);
  auto first = make_model(2);
  EXPECT_EQ(Trainer(*first, options, log).fit(train, &validation).epochs_completed, 2u);
  auto resumed = make_model(5);
  const TrainResult rest =
      Trainer(*resumed, options, log).fit(train, &validation, options.last_checkpoint_path());

  EXPECT_EQ(state_bits(*resumed), state_bits(*whole));
  EXPECT_EQ(resumed->iteration(), whole->iteration());
  EXPECT_EQ(rest.epochs_completed, 5u);
  ASSERT_EQ(rest.history.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rest.history[i].epoch, i + 3);
    EXPECT_EQ(rest.history[i].train_loss, straight.history[i + 2].train_loss);
    EXPECT_EQ(rest.history[i].train_accuracy, straight.history[i + 2].train_accuracy);
    EXPECT_EQ(rest.history[i].val_loss, straight.history[i + 2].val_loss);
  }
  EXPECT_EQ(rest.best_epoch, straight.best_epoch);
}

// The training set as a generator that raises SIGINT (or writes a NaN label) on one read,
// counted over the whole run; trigger 0 means never.
struct TrainingGenerator {
  size_t sigint_at = 0;
  size_t nan_at = 0;
  size_t reads = 0;

  GeneratorDataset dataset() {
    return GeneratorDataset(kTrainSamples,
                            [this](size_t index, std::span<Tensor> in, std::span<Tensor> out) {
                              write_sample(index, in[0].data(), out[0].data());
                              ++reads;
                              if (reads == nan_at)
                                out[0][0] = std::numeric_limits<float>::quiet_NaN();
                              if (reads == sigint_at) raise(SIGINT);
                            });
  }
};

// SIGINT during a step's data: the step finishes, the last checkpoint holds the position
// within the epoch, and resuming from it ends exactly where an uninterrupted run does. The
// cases stop in epoch 2 mid-way, in epoch 2's partial last batch, and in epoch 1's first
// batch. The test's own SIGINT handler is back in place after each fit().
TEST(Trainer, SigintStopsAfterTheStepAndResumingIsExact) {
  const SigintHandlerScope handler;
  MemoryDataset validation = make_dataset(20, 500);
  std::ostringstream log;
  auto whole = make_model(3);
  TrainingGenerator plain;
  GeneratorDataset plain_data = plain.dataset();
  const TrainResult straight = Trainer(*whole, TrainerOptions(), log).fit(plain_data, &validation);

  struct Case {
    size_t read;          // the read that raises SIGINT
    size_t epoch;         // the epoch it falls in
    size_t batches_done;  // steps of that epoch finished when fit() returns
  };
  for (const Case& c :
       {Case{kTrainSamples + 20, 2, 3}, Case{2 * kTrainSamples - 1, 2, kBatches}, Case{3, 1, 1}}) {
    SCOPED_TRACE("SIGINT on read " + std::to_string(c.read));
    const std::string dir = fresh_temp_dir();
    TrainerOptions options = options_in(dir);
    TrainingGenerator interrupting{.sigint_at = c.read};
    GeneratorDataset data = interrupting.dataset();
    auto model = make_model(3);
    std::ostringstream interrupted_log;
    const TrainResult stopped = Trainer(*model, options, interrupted_log).fit(data, &validation);
    EXPECT_TRUE(stopped.interrupted);
    EXPECT_EQ(stopped.epochs_completed, c.epoch - 1);
    EXPECT_EQ(stopped.history.size(), c.epoch - 1);
    EXPECT_EQ(SigintHandlerScope::calls, 0);
    EXPECT_TRUE(SigintHandlerScope::installed());
    // The step that was running finished: it read its whole batch.
    EXPECT_EQ(interrupting.reads,
              (c.epoch - 1) * kTrainSamples + std::min(c.batches_done * kBatch, kTrainSamples));
    EXPECT_NE(interrupted_log.str().find("Interrupted in epoch " + std::to_string(c.epoch) +
                                         " after " + std::to_string(c.batches_done) + " batches"),
              std::string::npos)
        << interrupted_log.str();
    EXPECT_FALSE(std::filesystem::exists(options.save_path));

    auto probe = make_model(3);
    const CheckpointMetadata metadata = load_checkpoint(*probe, stopped.last_checkpoint);
    EXPECT_EQ(metadata.values.at("batches_done"), std::to_string(c.batches_done));
    EXPECT_EQ(state_bits(*probe), state_bits(*model));

    auto resumed = make_model(3);
    const TrainResult rest =
        Trainer(*resumed, options, log).fit(data, &validation, stopped.last_checkpoint);
    EXPECT_FALSE(rest.interrupted);
    EXPECT_EQ(rest.epochs_completed, 3u);
    EXPECT_EQ(state_bits(*resumed), state_bits(*whole));
    ASSERT_EQ(rest.history.size(), 3 - (c.epoch - 1));
    // The epoch that was cut in two reports the figures of the uninterrupted epoch.
    EXPECT_EQ(rest.history[0].train_loss, straight.history[c.epoch - 1].train_loss);
    EXPECT_EQ(rest.history[0].train_accuracy, straight.history[c.epoch - 1].train_accuracy);
  }
  raise(SIGINT);
  EXPECT_EQ(SigintHandlerScope::calls, 1);
}

// A SIGINT while validation runs is not lost: the epoch ends, its checkpoint is written and
// fit() returns interrupted rather than starting another epoch.
TEST(Trainer, SigintDuringValidationStopsAtTheEndOfTheEpoch) {
  const SigintHandlerScope handler;
  const std::string dir = fresh_temp_dir();
  TrainerOptions options = options_in(dir);
  MemoryDataset train = make_dataset(kTrainSamples, 0);
  bool raised = false;
  GeneratorDataset validation(4, [&](size_t index, std::span<Tensor> in, std::span<Tensor> out) {
    write_sample(500 + index, in[0].data(), out[0].data());
    if (!raised) raise(SIGINT);
    raised = true;
  });
  auto model = make_model(3);
  std::ostringstream log;
  const TrainResult result = Trainer(*model, options, log).fit(train, &validation);
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.epochs_completed, 1u);
  EXPECT_EQ(result.history.size(), 1u);
  EXPECT_NE(log.str().find("Interrupted after epoch 1"), std::string::npos) << log.str();
  auto probe = make_model(3);
  const CheckpointMetadata metadata = load_checkpoint(*probe, result.last_checkpoint);
  EXPECT_EQ(metadata.values.at("epochs_completed"), "1");
  EXPECT_EQ(metadata.values.at("batches_done"), "0");
  EXPECT_EQ(state_bits(*probe), state_bits(*model));
  EXPECT_TRUE(SigintHandlerScope::installed());
}

// A NaN label in epoch 2 makes the loss NaN: NumericError, and the last checkpoint, from
// epoch 1, is intact.
TEST(Trainer, NanLossIsANumericErrorAndTheLastCheckpointSurvives) {
  const SigintHandlerScope handler;
  const std::string dir = fresh_temp_dir();
  TrainerOptions options = options_in(dir);
  TrainingGenerator poisoned{.nan_at = kTrainSamples + 10};
  GeneratorDataset data = poisoned.dataset();
  auto model = make_model(3);
  std::ostringstream log;
  try {
    Trainer(*model, options, log).fit(data, nullptr);
    ADD_FAILURE() << "no NumericError";
  } catch (const NumericError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("nan"), std::string::npos) << message;
  }
  EXPECT_TRUE(SigintHandlerScope::installed());
  EXPECT_FALSE(std::filesystem::exists(options.save_path));

  auto probe = make_model(3);
  const CheckpointMetadata metadata = load_checkpoint(*probe, options.last_checkpoint_path());
  EXPECT_EQ(metadata.values.at("epochs_completed"), "1");
  EXPECT_EQ(metadata.values.at("batches_done"), "0");
  auto one_epoch = make_model(1);
  TrainingGenerator clean;
  GeneratorDataset clean_data = clean.dataset();
  Trainer(*one_epoch, TrainerOptions(), log).fit(clean_data, nullptr);
  EXPECT_EQ(state_bits(*probe), state_bits(*one_epoch));
}

TEST(Trainer, TooFewSamplesForOneBatchWithDropLastIsAnError) {
  auto model = make_model(1);
  MemoryDataset train = make_dataset(kBatch - 1, 0);
  TrainerOptions options;
  options.drop_last = true;
  std::ostringstream log;
  EXPECT_THROW(Trainer(*model, options, log).fit(train, nullptr), Error);
}

// A tiny VAE on 4-pixel images: vae_loss's label is the image, not classes.
std::unique_ptr<Model> make_vae(size_t epochs) {
  auto model = std::make_unique<Model>(std::vector<std::string>{
      "batch_size=" + std::to_string(kBatch), "epochs=" + std::to_string(epochs), "seed=3"});
  model->addLayer(createLayer("input", {"name=image", "input_shape=1:1:4"}));
  model->addLayer(createLayer("fully_connected", {"name=mu", "unit=2"}));
  model->addLayer(createLayer("fully_connected", {"name=logvar", "unit=2", "input_layers=image"}));
  model->addLayer(createLayer("reparametrize", {"name=z", "input_layers=mu,logvar"}));
  model->addLayer(createLayer("fully_connected", {"name=recon", "unit=4", "activation=sigmoid"}));
  model->addLayer(createLayer("vae_loss", {"name=loss", "input_layers=recon,mu,logvar"}));
  model->setOptimizer(createOptimizer("adam", {}));
  model->compile();
  model->initialize();
  return model;
}

MemoryDataset binary_images(size_t samples) {
  std::vector<float> images;
  for (size_t i = 0; i < samples; ++i)
    for (size_t p = 0; p < 4; ++p) images.push_back(static_cast<float>((i + p) % 2));
  return MemoryDataset(images, 4, images, 4);
}

TEST(Trainer, ALossWithoutClassesReportsNoAccuracy) {
  auto model = make_vae(2);
  EXPECT_FALSE(model->hasAccuracy());
  EXPECT_TRUE(make_model(1)->hasAccuracy());
  MemoryDataset train = binary_images(16), validation = binary_images(8);
  const std::string dir = fresh_temp_dir();
  TrainerOptions options;
  options.metrics_path = dir + "metrics.csv";
  std::ostringstream log;
  const TrainResult result = Trainer(*model, options, log).fit(train, &validation);
  ASSERT_EQ(result.history.size(), 2u);
  EXPECT_FALSE(result.history[0].has_accuracy);
  const std::regex shape(
      R"(#[12]/2 - Training Loss: [0-9.e+-]+ >> \[ Validation Loss : [0-9.e+-]+ \] .*)");
  for (const std::string& line : epoch_lines(log.str()))
    EXPECT_TRUE(std::regex_match(line, shape)) << line;
  // The accuracy cells of the CSV stay empty.
  const std::vector<std::string> lines = read_lines(options.metrics_path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(R"(1,[0-9.e+-]+,,[0-9.e+-]+,,.*)")))
      << lines[1];
  const EvaluationResult evaluation = model->evaluate(validation);
  EXPECT_FALSE(evaluation.has_accuracy);
  EXPECT_EQ(evaluation.accuracy, 0.0f);
  MemoryDataset classes = make_dataset(8, 0);
  EXPECT_TRUE(make_model(1)->evaluate(classes).has_accuracy);
}

TEST(Trainer, EarlyStoppingOnAccuracyOfALossWithoutClassesIsAnError) {
  auto model = make_vae(1);
  MemoryDataset train = binary_images(16);
  TrainerOptions options;
  options.early_stopping = {.patience = 2, .monitor = "accuracy"};
  std::ostringstream log;
  try {
    Trainer(*model, options, log).fit(train, nullptr);
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'accuracy' but the model's loss has no classes"),
              std::string::npos)
        << error.what();
  }
}

TEST(Trainer, HasAccuracyNeedsACompiledModel) {
  Model model;
  EXPECT_THROW(model.hasAccuracy(), StateError);
}

}  // namespace
}  // namespace edgetrain::testing
