// The edgetrain command line: train, eval, predict and summary on INI model files.
//
//   edgetrain train MODEL.ini [--epochs N] [--batch-size N] [--set key=value] [--resume CKPT]
//   edgetrain eval MODEL.ini --weights W
//   edgetrain predict MODEL.ini --weights W --input FILE [--index N]
//   edgetrain summary MODEL.ini
//
// Exit codes: 0 success, 1 error (one line on stderr), 2 bad usage, 130 interrupted.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "edgetrain/checkpoint.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/model_file.h"
#include "edgetrain/trainer.h"

namespace edgetrain::cli {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

long peak_rss_kib() {
  rusage usage = {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// A flat JSON object written key by key, for scripts.
class JsonObject {
 public:
  void add(const std::string& key, double value) {
    std::ostringstream text;
    if (std::isfinite(value)) text << std::setprecision(9) << value;
    else text << "null";
    fields_.push_back(quote(key) + ": " + text.str());
  }
  void add(const std::string& key, const std::string& value) { fields_.push_back(quote(key) + ": " + quote(value)); }
  void add(const std::string& key, bool value) { fields_.push_back(quote(key) + ": " + (value ? "true" : "false")); }

  void write(const std::string& path) const {
    if (path.empty()) return;
    std::ofstream out(path);
    out << "{";
    for (size_t i = 0; i < fields_.size(); ++i) out << (i ? ", " : "") << fields_[i];
    out << "}\n";
    if (!out) throw Error("cannot write " + path);
  }

 private:
  static std::string quote(const std::string& text) {
    std::string quoted = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') quoted += '\\';
      if (static_cast<unsigned char>(c) < 0x20) continue;
      quoted += c;
    }
    return quoted + "\"";
  }
  std::vector<std::string> fields_;
};

// A compiled, initialized model with its datasets opened on demand.
struct Session {
  ModelFile file;
  TensorShape input_shape;  // one sample
  size_t label_size = 0;

  Session(const std::string& path, const std::vector<std::string>& overrides)
      : file(load_model_file(path, overrides)) {
    file.model->compile();
    file.model->initialize();
    input_shape = file.model->inputs().at(0).shape().with_batch(1);
    if (!file.model->labels().empty()) label_size = file.model->labels()[0].shape().feature_size();
  }
  Model& model() { return *file.model; }
  std::unique_ptr<Dataset> open(const DatasetSpec& spec) const { return open_dataset(spec, input_shape, label_size); }
};

void print_evaluation(const char* name, const EvaluationResult& result) {
  std::cout << name << " Loss: " << result.loss;
  if (result.has_accuracy) std::cout << " - " << name << " Accuracy: " << result.accuracy * 100.0f << "%";
  std::cout << " (" << result.samples << " samples)" << std::endl;
}

int run_train(const std::string& model_path, std::vector<std::string> overrides, const std::string& resume,
              const std::string& json_path, bool no_progress) {
  Session session(model_path, overrides);
  Model& model = session.model();
  if (!session.file.train_set)
    throw Error(model_path + ": no [train_set] section: nothing to train on");
  model.summary(std::cout);

  std::unique_ptr<Dataset> train_data = session.open(*session.file.train_set);
  std::unique_ptr<Dataset> train_part, validation_part, valid_data;
  Dataset* train = train_data.get();
  Dataset* validation = nullptr;
  if (session.file.train_set->validation_split > 0.0f) {
    const float split = session.file.train_set->validation_split;
    auto parts = split_indices(train_data->size(), {1.0f - split, split}, model.seed());
    train_part = std::make_unique<SubsetDataset>(*train_data, parts[0]);
    validation_part = std::make_unique<SubsetDataset>(*train_data, parts[1]);
    train = train_part.get();
    validation = validation_part.get();
  }
  if (session.file.valid_set) {
    valid_data = session.open(*session.file.valid_set);
    validation = valid_data.get();
  }
  std::cout << "Training on " << train->size() << " samples"
            << (validation ? ", validating on " + std::to_string(validation->size()) : std::string()) << std::endl;

  TrainerOptions options = session.file.trainer;
  options.progress = !no_progress;
  Trainer trainer(model, options, std::cout);
  const TrainResult result = trainer.fit(*train, validation, resume);

  JsonObject json;
  json.add("command", std::string("train"));
  json.add("epochs", static_cast<double>(result.epochs_completed));
  json.add("interrupted", result.interrupted);
  json.add("stopped_early", result.stopped_early);
  if (!result.history.empty()) {
    const EpochMetrics& last = result.history.back();
    double seconds = 0.0, rate = 0.0;
    for (const EpochMetrics& epoch : result.history) {
      seconds += epoch.seconds;
      rate += epoch.samples_per_second;
    }
    json.add("loss", last.train_loss);
    if (last.has_accuracy) json.add("accuracy", last.train_accuracy);
    if (last.has_validation) {
      json.add("val_loss", last.val_loss);
      if (last.has_accuracy) json.add("val_accuracy", last.val_accuracy);
    }
    json.add("seconds_per_epoch", seconds / result.history.size());
    json.add("samples_per_second", rate / result.history.size());
  }
  if (!result.interrupted && session.file.test_set) {
    std::unique_ptr<Dataset> test = session.open(*session.file.test_set);
    const EvaluationResult evaluation = model.evaluate(*test);
    print_evaluation("Test", evaluation);
    json.add("test_loss", evaluation.loss);
    if (evaluation.has_accuracy) json.add("test_accuracy", evaluation.accuracy);
  }
  json.add("planned_peak_bytes", static_cast<double>(model.memory().planned_bytes));
  json.add("peak_rss_kib", static_cast<double>(peak_rss_kib()));
  if (!result.interrupted && !result.weights_path.empty()) {
    std::cout << "Weights saved to " << result.weights_path << std::endl;
    json.add("weights", result.weights_path);
  }
  if (!result.last_checkpoint.empty()) {
    std::cout << "Checkpoints: " << result.last_checkpoint << " (last), " << result.best_checkpoint
              << " (best, epoch " << result.best_epoch << ")" << std::endl;
    json.add("last_checkpoint", result.last_checkpoint);
    json.add("best_checkpoint", result.best_checkpoint);
  }
  json.write(json_path);
  return result.interrupted ? kExitInterrupted : 0;
}

int run_eval(const std::string& model_path, const std::vector<std::string>& overrides, const std::string& weights,
             const std::string& json_path) {
  Session session(model_path, overrides);
  const std::optional<DatasetSpec>& spec = session.file.test_set ? session.file.test_set : session.file.valid_set;
  if (!spec) throw Error(model_path + ": no [test_set] or [valid_set] section: nothing to evaluate on");
  load_weights(session.model(), weights);
  std::unique_ptr<Dataset> data = session.open(*spec);
  const EvaluationResult result = session.model().evaluate(*data);
  print_evaluation(session.file.test_set ? "Test" : "Validation", result);
  JsonObject json;
  json.add("command", std::string("eval"));
  json.add("loss", result.loss);
  if (result.has_accuracy) json.add("accuracy", result.accuracy);
  json.add("samples", static_cast<double>(result.samples));
  json.add("planned_peak_bytes", static_cast<double>(session.model().memory().planned_bytes));
  json.add("peak_rss_kib", static_cast<double>(peak_rss_kib()));
  json.write(json_path);
  return 0;
}

// Reads one sample: numbers separated by commas/whitespace (.csv, .txt), an IDX image
// file (with --index), or raw float32 values.
std::vector<float> read_input(const std::string& path, std::optional<size_t> index_option,
                              const Session& session) {
  const size_t size = session.input_shape.size();
  // By the file's name ("t10k-images-idx3-ubyte.gz"), not by the folders it is in.
  const bool idx = std::filesystem::path(path).filename().string().find("idx") != std::string::npos;
  if (index_option && !idx)
    throw Error("--index picks an image of an IDX file; " + path + " is not one (its name has no 'idx')");
  const size_t index = index_option.value_or(0);
  if (idx) {
    IdxDataset images(path, "");
    if (index >= images.size())
      throw Error(path + " holds " + std::to_string(images.size()) + " images; --index " + std::to_string(index) +
                  " is out of range");
    std::vector<float> values(size);
    std::vector<Tensor> inputs = {Tensor(values.data(), session.input_shape)}, labels;
    images.read(index, inputs, labels);
    return values;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open the input file " + path);
  std::vector<float> values;
  const bool text = path.ends_with(".csv") || path.ends_with(".txt");
  if (text) {
    auto add = [&](const std::string& token) {
      if (token.empty()) return;
      char* end = nullptr;
      const float value = std::strtof(token.c_str(), &end);
      if (*end != '\0') throw Error(path + ": '" + token + "' is not a number");
      values.push_back(value);
    };
    std::string token;
    for (char c; in.get(c);) {
      if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
        add(token);
        token.clear();
      } else {
        token += c;
      }
    }
    add(token);
  } else {
    values.resize(size);
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(size * sizeof(float)));
    if (in.gcount() != static_cast<std::streamsize>(size * sizeof(float)) || in.peek() != EOF)
      throw Error(path + " is not one sample of raw float32: the model's input " + session.input_shape.str() +
                  " takes exactly " + std::to_string(size * sizeof(float)) + " bytes");
  }
  if (values.size() != size)
    throw Error(path + " holds " + std::to_string(values.size()) + " values; the model's input " +
                session.input_shape.str() + " takes " + std::to_string(size));
  return values;
}

int run_predict(const std::string& model_path, const std::vector<std::string>& overrides,
                const std::string& weights, const std::string& input_path,
                std::optional<size_t> index) {
  Session session(model_path, overrides);
  load_weights(session.model(), weights);
  std::vector<float> scores = session.model().predict(read_input(input_path, index, session), 1);
  // Models with a fused loss output logits: show probabilities.
  if (session.model().loss() == "cross_entropy") {
    const float max = *std::max_element(scores.begin(), scores.end());
    double sum = 0.0;
    for (float& score : scores) sum += (score = std::exp(score - max));
    for (float& score : scores) score = static_cast<float>(score / sum);
  } else if (session.model().loss() == "bce_with_logits") {
    for (float& score : scores) score = 1.0f / (1.0f + std::exp(-score));
  }
  const size_t best = static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  std::cout << "class " << best << " (" << std::fixed << std::setprecision(4) << scores[best] << ")\n";
  for (size_t i = 0; i < scores.size(); ++i) std::cout << "  " << i << ": " << scores[i] << "\n";
  return 0;
}

int run_summary(const std::string& model_path, const std::vector<std::string>& overrides) {
  ModelFile file = load_model_file(model_path, overrides);
  file.model->compile();
  file.model->summary(std::cout);
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{"edgetrain: train, evaluate and run neural networks on the device"};
  app.require_subcommand(1);
  std::string model_path, weights, input_path, resume, json_path;
  std::vector<std::string> sets;
  size_t epochs = 0, batch_size = 0;
  std::optional<size_t> index;
  bool no_progress = false;

  auto add_model = [&](CLI::App* command) {
    command->add_option("model", model_path, "INI model file")->required();
    command->add_option("--set", sets, "override a model-file key: key=value or section.key=value");
  };
  CLI::App* train = app.add_subcommand("train", "train a model file's model on its [train_set]");
  add_model(train);
  train->add_option("--epochs", epochs, "number of epochs")->check(CLI::PositiveNumber);
  train->add_option("--batch-size", batch_size, "batch size")->check(CLI::PositiveNumber);
  train->add_option("--resume", resume, "continue from this checkpoint");
  train->add_option("--json", json_path, "write the final figures to this JSON file");
  train->add_flag("--no-progress", no_progress, "no live progress bar");

  CLI::App* eval = app.add_subcommand("eval", "evaluate weights on the [test_set] (or [valid_set])");
  add_model(eval);
  eval->add_option("--weights", weights, "weights or checkpoint file")->required();
  eval->add_option("--json", json_path, "write the figures to this JSON file");

  CLI::App* predict = app.add_subcommand("predict", "classify one input and print the class and its scores");
  add_model(predict);
  predict->add_option("--weights", weights, "weights or checkpoint file")->required();
  predict
      ->add_option("--input", input_path,
                   "a .csv/.txt of numbers, raw float32, or an IDX image file")
      ->required();
  predict->add_option("--index", index, "which image of an IDX file");

  CLI::App* summary = app.add_subcommand("summary", "print the layer table with shapes, parameters and memory");
  add_model(summary);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help exits 0; every usage error exits 2, not CLI11's code for its kind of error.
    return app.exit(error) == 0 ? 0 : kExitUsage;
  }

  std::vector<std::string> overrides;
  if (epochs > 0) overrides.push_back("epochs=" + std::to_string(epochs));
  if (batch_size > 0) overrides.push_back("batch_size=" + std::to_string(batch_size));
  overrides.insert(overrides.end(), sets.begin(), sets.end());

  if (*train) return run_train(model_path, overrides, resume, json_path, no_progress);
  if (*eval) return run_eval(model_path, overrides, weights, json_path);
  if (*predict) return run_predict(model_path, overrides, weights, input_path, index);
  return run_summary(model_path, overrides);
}

}  // namespace
}  // namespace edgetrain::cli

int main(int argc, char** argv) {
  try {
    return edgetrain::cli::run(argc, argv);
  } catch (const edgetrain::Error& error) {
    std::cerr << "edgetrain: error: " << error.what() << std::endl;
  } catch (const std::exception& error) {
    std::cerr << "edgetrain: internal error: " << error.what() << std::endl;
  }
  return 1;
}
