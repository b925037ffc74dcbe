// The edgetrain command line: train, eval, predict and summary on INI model files, a
// picture of a training batch (show-batch), and pictures of generative models (sample,
// reconstruct, score).
//
//   edgetrain train MODEL.ini [--epochs N] [--batch-size N] [--set key=value] [--resume CKPT]
//                   [--run-dir DIR] [--stream] [--profile]
//   edgetrain eval MODEL.ini --weights W [--json FILE] [--stream]   (per-class metrics too)
//   edgetrain predict MODEL.ini --weights W --input FILE [--index N]
//   edgetrain summary MODEL.ini [--memory-profile FILE.csv]
//   edgetrain show-batch MODEL.ini [-o show_batch.png] [--seed S] [--count N]
//   edgetrain sample MODEL.ini --weights W [-n 64] [--seed S] [--from LAYER] -o samples.png
//   edgetrain reconstruct MODEL.ini --weights W [-n 32] -o recon.png
//   edgetrain score --classifier C.ini --classifier-weights CW
//                   [--samples-from MODEL.ini --weights W] [--real] [-n 1000]
//   edgetrain report RUN_DIR [-o FILE.html]
//
// Exit codes: 0 success, 1 error (one line on stderr), 2 bad usage, 130 interrupted.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "edgetrain/checkpoint.h"
#include "edgetrain/classification_metrics.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/image_grid.h"
#include "edgetrain/model.h"
#include "edgetrain/model_file.h"
#include "edgetrain/process_memory.h"
#include "edgetrain/properties.h"
#include "edgetrain/rng.h"
#include "edgetrain/run_report.h"
#include "edgetrain/sample_quality.h"
#include "edgetrain/trainer.h"

namespace edgetrain::cli {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;
// eval's top-k accuracy, shown when there are more classes than this.
constexpr size_t kReportedTopK = 5;
// Test predictions a run folder keeps, with their images: mistakes first.
constexpr size_t kKeptPredictions = 32;

std::string format_bytes(double bytes) {
  std::ostringstream text;
  text << std::fixed;
  if (bytes >= 1048576.0)
    text << std::setprecision(2) << bytes / 1048576.0 << " MiB";
  else if (bytes >= 1024.0)
    text << std::setprecision(1) << bytes / 1024.0 << " KiB";
  else
    text << std::setprecision(0) << bytes << " B";
  return text.str();
}

// JSON text of a number (null when not finite) and of a string.
std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  std::ostringstream text;
  text << std::setprecision(9) << value;
  return text.str();
}

std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    quoted += c;
  }
  return quoted + "\"";
}

// A JSON object written key by key, for scripts: numbers, strings and booleans, and
// values already rendered as JSON (arrays, objects).
class JsonObject {
 public:
  void add(const std::string& key, double value) { add_json(key, json_number(value)); }
  void add(const std::string& key, const std::string& value) { add_json(key, json_string(value)); }
  void add(const std::string& key, bool value) { add_json(key, value ? "true" : "false"); }
  void add_json(const std::string& key, const std::string& json) {
    fields_.push_back(json_string(key) + ": " + json);
  }

  void write(const std::string& path) const {
    if (path.empty()) return;
    std::ofstream out(path);
    out << "{";
    for (size_t i = 0; i < fields_.size(); ++i) out << (i ? ", " : "") << fields_[i];
    out << "}\n";
    if (!out) throw Error("cannot write " + path);
  }

 private:
  std::vector<std::string> fields_;
};

// A compiled, initialized model with its datasets opened on demand.
struct Session {
  ModelFile file;
  TensorShape input_shape;  // one sample
  size_t label_size = 0;
  bool stream = false;  // --stream: every data set that can stream does

  // `baseline_rss_kib`, when given, receives the peak RSS once the model is built: the
  // model file read, the graph compiled and initialized (the arena mapped, the weights
  // written), before any dataset is opened or any step run. That is NNTrainer's baseline
  // point (after its initialize, which allocates its weights): the arena's pages become
  // resident when first touched, so the baseline holds the weights but not the
  // activations, gradients and optimizer state, which count as training memory.
  Session(const std::string& path, const std::vector<std::string>& overrides,
          size_t* baseline_rss_kib = nullptr)
      : file(load_model_file(path, overrides)) {
    file.model->compile();
    file.model->initialize();
    if (baseline_rss_kib != nullptr) *baseline_rss_kib = peak_rss_kib();
    input_shape = file.model->inputs().at(0).shape().with_batch(1);
    if (!file.model->labels().empty()) label_size = file.model->labels()[0].shape().feature_size();
  }
  Model& model() { return *file.model; }
  std::unique_ptr<Dataset> open(const DatasetSpec& spec) const {
    if (!stream || spec.stream) return open_dataset(spec, input_shape, label_size);
    DatasetSpec streamed = spec;
    // CSV rows have no fixed size to read at an offset, and image folders are decoded
    // once, when opened: both stay in memory.
    const std::string type = to_lower(spec.type);
    streamed.stream = type != "csv" && type != "image_folder";
    if (!streamed.stream)
      std::cerr << "edgetrain: --stream: " << spec.origin << ": " << type
                << " data sets are read into memory" << std::endl;
    return open_dataset(streamed, input_shape, label_size);
  }
};

void print_evaluation(const char* name, const EvaluationResult& result) {
  std::cout << name << " Loss: " << result.loss;
  if (result.has_accuracy)
    std::cout << " - " << name << " Accuracy: " << result.accuracy * 100.0f << "%";
  std::cout << " (" << result.samples << " samples)" << std::endl;
}

// ---------------------------------------------------------------- pictures

// The dataset to take real images from: the test set, else the validation set, else the
// training set.
const DatasetSpec& image_source(const Session& session) {
  const ModelFile& file = session.file;
  if (file.test_set) return *file.test_set;
  if (file.valid_set) return *file.valid_set;
  if (file.train_set) return *file.train_set;
  throw Error(file.path + ": no [test_set], [valid_set] or [train_set] section: no images to read");
}

// The model inputs of the first `count` samples of `data` (fewer if it is smaller).
std::vector<float> read_images(Dataset& data, size_t count, const Session& session) {
  count = std::min(count, data.size());
  const size_t size = session.input_shape.size();
  std::vector<float> images(count * size), label(session.label_size);
  for (size_t i = 0; i < count; ++i) {
    std::vector<Tensor> inputs = {Tensor(images.data() + i * size, session.input_shape)}, labels;
    if (session.label_size > 0)
      labels.push_back(Tensor(label.data(), TensorShape{1, 1, 1, session.label_size}));
    data.read(i, inputs, labels);
  }
  return images;
}

// The layer whose output sampling sets: `from`, or the model's one reparametrize layer.
std::string sampling_layer(const Session& session, const std::string& from) {
  if (!from.empty()) return from;
  const std::vector<std::string> found = session.file.model->layerNames("reparametrize");
  if (found.empty())
    throw Error(session.file.path +
                ": no reparametrize layer to sample from; name the layer with --from");
  if (found.size() > 1) {
    std::string names;
    for (const std::string& name : found) names += (names.empty() ? "" : ", ") + name;
    throw Error(session.file.path + ": " + std::to_string(found.size()) +
                " reparametrize layers (" + names + "); pick one with --from");
  }
  return found[0];
}

// One generated or reconstructed sample's shape: the model input's when the sizes agree
// (an autoencoder's output is an image like its input, even when flattened), else the
// output's own.
TensorShape sample_shape(Session& session, const std::string& output) {
  Model& model = session.model();
  const TensorShape shape =
      output.empty() ? model.outputs().at(0).shape().with_batch(1) : model.outputShape(output);
  return shape.size() == session.input_shape.size() ? session.input_shape : shape;
}

ImageLayout image_layout(const TensorShape& shape) {
  return {.channels = shape.channel, .height = shape.height, .width = shape.width};
}

// `count` samples decoded from z ~ N(0, 1) (seeded) set as the output of `from`.
std::vector<float> draw_samples(Session& session, const std::string& from,
                                const std::string& output, size_t count, uint64_t seed) {
  Model& model = session.model();
  std::vector<float> z(count * model.outputShape(from).size());
  Rng rng(seed);
  for (float& value : z) value = rng.normal();
  return model.forwardFrom(from, z, count, output);
}

// Writes `count` samples decoded from the sampling layer as a PNG grid at `path`.
void write_samples(Session& session, const std::string& from, const std::string& output,
                   size_t count, uint64_t seed, const std::string& path) {
  const std::string layer = sampling_layer(session, from);
  const std::vector<float> samples = draw_samples(session, layer, output, count, seed);
  write_image_grid(path, samples, count, image_layout(sample_shape(session, output)));
}

// Writes up to `count` images of the image source beside their reconstructions (the
// model's first output, in evaluation mode); returns how many pairs were written.
size_t write_reconstructions(Session& session, size_t count, const std::string& path) {
  std::unique_ptr<Dataset> data = session.open(image_source(session));
  const std::vector<float> originals = read_images(*data, count, session);
  count = originals.size() / session.input_shape.size();
  if (count == 0) throw Error(session.file.path + ": the dataset to reconstruct is empty");
  const std::vector<float> reconstructions = session.model().predict(originals, count);
  if (reconstructions.size() != originals.size())
    throw Error(session.file.path + ": the model's output holds " +
                std::to_string(reconstructions.size() / count) + " values per sample, its input " +
                std::to_string(session.input_shape.size()) + "; reconstruct needs an autoencoder");
  write_image_pairs(path, originals, reconstructions, count, image_layout(session.input_shape));
  return count;
}

int run_sample(const std::string& model_path, const std::vector<std::string>& overrides,
               const std::string& weights, size_t count, uint64_t seed, const std::string& from,
               const std::string& output, const std::string& out_path) {
  Session session(model_path, overrides);
  load_weights(session.model(), weights);
  write_samples(session, from, output, count, seed, out_path);
  std::cout << count << " samples written to " << out_path << std::endl;
  return 0;
}

int run_reconstruct(const std::string& model_path, const std::vector<std::string>& overrides,
                    const std::string& weights, size_t count, const std::string& out_path,
                    bool stream) {
  Session session(model_path, overrides);
  session.stream = stream;
  load_weights(session.model(), weights);
  count = write_reconstructions(session, count, out_path);
  std::cout << count << " images and their reconstructions written to " << out_path << std::endl;
  return 0;
}

// After training a generative model: its pictures beside the weights.
void write_training_pictures(Session& session, const std::string& weights_path, JsonObject& json) {
  if (session.model().layerNames("reparametrize").size() != 1) return;
  const std::filesystem::path stem = std::filesystem::path(weights_path).replace_extension();
  const std::string reconstructions = stem.string() + ".reconstructions.png";
  const std::string samples = stem.string() + ".samples.png";
  write_reconstructions(session, 32, reconstructions);
  write_samples(session, "", "", 64, session.model().seed(), samples);
  std::cout << "Reconstructions: " << reconstructions << "\nSamples: " << samples << std::endl;
  json.add("reconstructions", reconstructions);
  json.add("samples", samples);
}

// p(y|x) of `images` under the classifier: softmax of its logits for a cross-entropy
// model, else its outputs, which must already be probabilities.
double classifier_score(Session& classifier, const std::vector<float>& images, size_t count) {
  Model& model = classifier.model();
  std::vector<float> outputs = model.predict(images, count);
  const size_t classes = outputs.size() / count;
  if (model.loss() == "cross_entropy") outputs = softmax_rows(outputs, classes);
  try {
    return inception_score(outputs, classes);
  } catch (const Error& error) {
    throw Error(classifier.file.path + ": the classifier's outputs are not probabilities (" +
                error.what() +
                "); score needs a classifier trained with Loss = cross or ending in a softmax");
  }
}

int run_score(const std::string& classifier_path, const std::string& classifier_weights,
              const std::string& generator_path, const std::string& weights, bool real,
              size_t count, uint64_t seed, const std::string& from, const std::string& output,
              const std::string& json_path, bool stream) {
  Session classifier(classifier_path, {});
  classifier.stream = stream;
  load_weights(classifier.model(), classifier_weights);
  const size_t classes = classifier.model().outputs().at(0).shape().feature_size();
  JsonObject json;
  json.add("command", std::string("score"));
  json.add("classes", static_cast<double>(classes));
  std::cout << std::fixed << std::setprecision(3);
  if (!generator_path.empty()) {
    Session generator(generator_path, {});
    load_weights(generator.model(), weights);
    const std::string layer = sampling_layer(generator, from);
    const std::vector<float> samples = draw_samples(generator, layer, output, count, seed);
    const TensorShape shape = sample_shape(generator, output);
    if (shape.size() != classifier.input_shape.size())
      throw Error(generator_path + " generates samples of " + shape.str() + "; the classifier " +
                  classifier_path + " takes " + classifier.input_shape.str());
    const double score = classifier_score(classifier, samples, count);
    std::cout << "Inception score of " << count << " samples from " << generator_path << ": "
              << score << " (of at most " << classes << ")" << std::endl;
    json.add("samples", static_cast<double>(count));
    json.add("samples_score", score);
  }
  if (real) {
    std::unique_ptr<Dataset> data = classifier.open(image_source(classifier));
    const std::vector<float> images = read_images(*data, count, classifier);
    const size_t real_count = images.size() / classifier.input_shape.size();
    if (real_count == 0) throw Error(classifier_path + ": the dataset of real images is empty");
    const double score = classifier_score(classifier, images, real_count);
    std::cout << "Inception score of " << real_count << " real images: " << score << " (of at most "
              << classes << ")" << std::endl;
    json.add("real_images", static_cast<double>(real_count));
    json.add("real_score", score);
  }
  json.write(json_path);
  return 0;
}

// The [train_set] of a model trained on an image folder, else null.
const DatasetSpec* image_folder_set(const Session& session) {
  const std::optional<DatasetSpec>& spec = session.file.train_set;
  return spec && to_lower(spec->type) == "image_folder" ? &*spec : nullptr;
}

// The class names of a model trained on an image folder, as its split file recorded them
// in training, else the folder's class folders; empty for other data sets, whose classes
// have only numbers, and when neither the split file nor the folder is there (a model
// copied without them).
std::vector<std::string> class_names(const Session& session) {
  const DatasetSpec* spec = image_folder_set(session);
  if (spec == nullptr) return {};
  std::error_code error;
  if (std::filesystem::exists(spec->split.file, error))
    return read_split_file(spec->split.file).classes;
  if (std::filesystem::is_directory(spec->path, error))
    return list_image_folder(spec->path).classes;
  return {};
}

// The classification report of `metrics`: printed as a table, and added to `json` as
// top5_accuracy (with more than 5 classes), macro_f1, micro_f1, per_class and
// confusion_matrix (rows: the true class). `class_names` names the classes in order;
// empty: "0", "1", ... `print`: false leaves the table out.
void report_classification(const ClassificationMetrics& metrics,
                           const std::vector<std::string>& class_names, JsonObject& json,
                           bool print) {
  const ClassificationReport report = metrics.report(class_names);
  if (print) print_classification_report(std::cout, report);
  if (report.top_k < report.per_class.size()) json.add("top5_accuracy", report.top_k_accuracy);
  json.add("macro_f1", report.macro_f1);
  json.add("micro_f1", report.micro_f1);
  std::string per_class = "[";
  for (const ClassMetrics& row : report.per_class)
    per_class += std::string(per_class.size() > 1 ? ", " : "") +
                 "{\"name\": " + json_string(row.name) +
                 ", \"precision\": " + json_number(row.precision) +
                 ", \"recall\": " + json_number(row.recall) + ", \"f1\": " + json_number(row.f1) +
                 ", \"support\": " + std::to_string(row.support) + "}";
  json.add_json("per_class", per_class + "]");
  std::string names = "[";
  for (const ClassMetrics& row : report.per_class)
    names += std::string(names.size() > 1 ? ", " : "") + json_string(row.name);
  json.add_json("classes", names + "]");
  std::string matrix = "[";
  for (const std::vector<size_t>& row : report.confusion_matrix) {
    matrix += matrix.size() > 1 ? ", [" : "[";
    for (size_t c = 0; c < row.size(); ++c) matrix += (c ? ", " : "") + std::to_string(row[c]);
    matrix += "]";
  }
  json.add_json("confusion_matrix", matrix + "]");
}

// Evaluates the model on `data` as `eval --json` reports it: loss, accuracy, samples and,
// for a classifier, the classification report (printed too when `print_report`).
// `evaluation`, when given, receives the loss and accuracy.
JsonObject evaluation_json(Session& session, Dataset& data, const char* name, bool print_report,
                           EvaluationResult* evaluation = nullptr) {
  Model& model = session.model();
  std::optional<ClassificationMetrics> metrics;
  if (model.hasAccuracy()) metrics.emplace(model.outputs().at(0).shape().width, kReportedTopK);
  const EvaluationResult result = model.evaluate(data, metrics ? &*metrics : nullptr);
  if (evaluation != nullptr) *evaluation = result;
  print_evaluation(name, result);
  JsonObject json;
  json.add("command", std::string("eval"));
  json.add("loss", result.loss);
  if (result.has_accuracy) json.add("accuracy", result.accuracy);
  json.add("samples", static_cast<double>(result.samples));
  if (metrics) report_classification(*metrics, class_names(session), json, print_report);
  json.add("planned_peak_bytes", static_cast<double>(model.memory().planned_bytes));
  json.add("peak_rss_kib", static_cast<double>(peak_rss_kib()));
  return json;
}

// ---------------------------------------------------------------- run folders

namespace fs = std::filesystem;

// A new folder for a run of `model_path` without --run-dir:
// <$EDGETRAIN_RUNS_DIR, else runs>/<model name>-<YYYYmmdd-HHMMSS>, with -2, -3, ... when
// a run of the same second has it already.
std::string new_run_folder(const std::string& model_path) {
  const char* parent = std::getenv("EDGETRAIN_RUNS_DIR");
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm local{};
  localtime_r(&now, &local);
  std::ostringstream name;
  name << fs::path(model_path).stem().string() << "-" << std::put_time(&local, "%Y%m%d-%H%M%S");
  const fs::path base = fs::path(parent != nullptr && *parent ? parent : "runs") / name.str();
  fs::path folder = base;
  for (int suffix = 2; fs::exists(folder); ++suffix)
    folder = base.string() + "-" + std::to_string(suffix);
  return folder.string();
}

// The overrides that put a run's files into `run_dir`, to go before the command line's
// own (a --set of the same key wins). The weights (with the checkpoints beside them), the
// metrics CSV and an image folder's split file go there, except what the model file names
// itself when the folder was not asked for with --run-dir.
std::vector<std::string> run_folder_overrides(const std::string& model_path,
                                              const std::vector<std::string>& overrides,
                                              const std::string& run_dir, bool asked_for) {
  const ModelFile file = load_model_file(model_path, overrides);
  const fs::path dir = fs::absolute(run_dir);
  std::vector<std::string> placed;
  const bool place_weights = asked_for || file.trainer.save_path.empty();
  if (place_weights)
    placed.push_back("save_path=" + (dir / fs::path(model_path).stem()).string() + ".bin");
  if (asked_for || file.trainer.metrics_path.empty())
    placed.push_back("metrics_path=" + (dir / run_files::kMetrics).string());
  // A split file the model file does not name is made beside the weights (or the model
  // file, without weights; load_model_file), so it follows them into the folder. One it
  // names keeps its parts from run to run: it stays where it is and the run folder gets
  // a copy (run_train).
  if (place_weights && file.train_set && to_lower(file.train_set->type) == "image_folder") {
    const fs::path named = fs::absolute(file.train_set->split.file);
    const fs::path beside_model =
        fs::absolute(fs::path(model_path).replace_extension(".split.txt"));
    const fs::path beside_weights =
        fs::absolute(fs::path(file.trainer.save_path).replace_extension(".split.txt"));
    if (named == beside_model || (!file.trainer.save_path.empty() && named == beside_weights))
      placed.push_back("train_set.split_file=" + (dir / run_files::kSplit).string());
  }
  return placed;
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) throw Error("cannot write " + path.string());
}

// settings.ini: the model file as it was, then the overrides applied after it.
void write_run_settings(const std::string& model_path, const std::vector<std::string>& overrides,
                        const fs::path& dir) {
  std::ifstream in(model_path, std::ios::binary);
  if (!in) throw Error("cannot read " + model_path);
  std::ostringstream text;
  text << "# edgetrain train " << fs::absolute(model_path).string()
       << "\n# The model file, then the overrides applied after it (command line and run "
          "folder).\n\n"
       << in.rdbuf() << "\n\n# Overrides, in the order applied (a later one wins):\n";
  for (const std::string& entry : overrides) text << "#   " << entry << "\n";
  write_text_file(dir / run_files::kSettings, text.str());
}

// memory.csv: Model::memoryBreakdown(), one row per layer, in bytes.
void write_memory_table(const Model& model, const fs::path& path) {
  std::ostringstream text;
  text << "layer,type,weights,optimizer_state,activations,gradients,scratch,total\n";
  for (const LayerMemory& row : model.memoryBreakdown())
    text << row.layer << "," << row.type << "," << row.weights << "," << row.optimizer_state << ","
         << row.activations << "," << row.gradients << "," << row.scratch << "," << row.total()
         << "\n";
  write_text_file(path, text.str());
}

struct TestPrediction {
  size_t index = 0;
  size_t true_class = 0;
  size_t predicted_class = 0;
  float confidence = 0.0f;  // the predicted class's probability
  bool correct() const { return true_class == predicted_class; }
};

// The model's class probabilities from its outputs, row by row.
std::vector<float> class_probabilities(const Model& model, std::vector<float> outputs,
                                       size_t classes) {
  if (model.loss() == "cross_entropy") return softmax_rows(outputs, classes);
  if (model.loss() == "bce_with_logits")
    for (float& value : outputs) value = 1.0f / (1.0f + std::exp(-value));
  return outputs;
}

// Undoes the data set's normalization so that an image shows as it was read.
void denormalize_image(std::span<float> image, const Normalization& normalization,
                       size_t channels) {
  if (!normalization.enabled()) return;
  const size_t plane = image.size() / channels;
  for (size_t c = 0; c < channels; ++c) {
    const float mean = normalization.mean[normalization.mean.size() == 1 ? 0 : c];
    const float deviation = normalization.std[normalization.std.size() == 1 ? 0 : c];
    for (float& value : image.subspan(c * plane, plane)) value = value * deviation + mean;
  }
}

// predictions.json and predictions/<index>.png: up to kKeptPredictions test samples,
// mistakes first, each in data-set order, with their true and predicted classes; images
// only when the input is one (1 or 3 channels, at least 2 x 2).
void write_test_predictions(Session& session, Dataset& test, const fs::path& dir) {
  Model& model = session.model();
  const TensorShape& shape = session.input_shape;
  const size_t classes = model.outputs().at(0).shape().feature_size();
  std::vector<std::string> names = class_names(session);
  for (size_t c = names.size(); c < classes; ++c) names.push_back(std::to_string(c));
  const size_t chunk = 256;
  std::vector<TestPrediction> all;
  std::vector<float> labels(chunk * session.label_size);
  for (size_t first = 0; first < test.size(); first += chunk) {
    const size_t count = std::min(chunk, test.size() - first);
    std::vector<float> inputs(count * shape.size());
    for (size_t i = 0; i < count; ++i) {
      std::vector<Tensor> input = {Tensor(inputs.data() + i * shape.size(), shape)};
      std::vector<Tensor> label = {
          Tensor(labels.data() + i * session.label_size, TensorShape{1, 1, 1, session.label_size})};
      test.read(first + i, input, label);
    }
    const std::vector<float> probabilities =
        class_probabilities(model, model.predict(inputs, count), classes);
    for (size_t i = 0; i < count; ++i) {
      const float* row = probabilities.data() + i * classes;
      const float* label = labels.data() + i * session.label_size;
      TestPrediction prediction;
      prediction.index = first + i;
      prediction.true_class = static_cast<size_t>(std::max_element(label, label + classes) - label);
      prediction.predicted_class = static_cast<size_t>(std::max_element(row, row + classes) - row);
      prediction.confidence = row[prediction.predicted_class];
      all.push_back(prediction);
    }
  }
  const size_t mistakes = static_cast<size_t>(
      std::count_if(all.begin(), all.end(), [](const auto& p) { return !p.correct(); }));
  std::stable_partition(all.begin(), all.end(), [](const auto& p) { return !p.correct(); });
  all.resize(std::min(all.size(), kKeptPredictions));

  const bool images =
      (shape.channel == 1 || shape.channel == 3) && shape.height > 1 && shape.width > 1;
  const fs::path image_dir = dir / run_files::kPredictionImages;
  if (images) fs::create_directories(image_dir);
  const DatasetSpec* folder = image_folder_set(session);
  std::string entries;
  for (const TestPrediction& prediction : all) {
    std::string image;
    if (images) {
      std::vector<float> pixels(shape.size()), label(session.label_size);
      std::vector<Tensor> input = {Tensor(pixels.data(), shape)};
      std::vector<Tensor> label_view = {
          Tensor(label.data(), TensorShape{1, 1, 1, session.label_size})};
      test.read(prediction.index, input, label_view);
      if (folder != nullptr) denormalize_image(pixels, folder->normalization, shape.channel);
      image = std::string(run_files::kPredictionImages) + "/" + std::to_string(prediction.index) +
              ".png";
      ImageLayout layout = image_layout(shape);
      layout.separator = 0;
      write_image_grid((dir / image).string(), pixels, 1, layout);
    }
    entries += std::string(entries.empty() ? "" : ", ") +
               "{\"index\": " + std::to_string(prediction.index) +
               ", \"true_class\": " + std::to_string(prediction.true_class) +
               ", \"true_name\": " + json_string(names[prediction.true_class]) +
               ", \"predicted_class\": " + std::to_string(prediction.predicted_class) +
               ", \"predicted_name\": " + json_string(names[prediction.predicted_class]) +
               ", \"confidence\": " + json_number(prediction.confidence) +
               ", \"correct\": " + (prediction.correct() ? "true" : "false") +
               ", \"image\": " + (image.empty() ? "null" : json_string(image)) + "}";
  }
  JsonObject json;
  json.add("test_samples", static_cast<double>(test.size()));
  json.add("mistakes", static_cast<double>(mistakes));
  json.add_json("predictions", "[" + entries + "]");
  json.write((dir / run_files::kPredictions).string());
}

// Copies `from` to `to` unless they are the same file (a missing `from` is left alone).
void copy_into_run_folder(const fs::path& from, const fs::path& to) {
  std::error_code error;
  if (from.empty() || !fs::exists(from, error) || fs::equivalent(from, to, error)) return;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
  if (error)
    throw Error("cannot copy " + from.string() + " to " + to.string() + ": " + error.message());
}

// The train command's own flags.
struct TrainFlags {
  std::string resume;
  std::string json_path;
  bool no_progress = false;
  bool stream = false;
  bool profile = false;  // time per layer and phase, data loading, validation
  std::string run_dir;   // the run folder (run_folder_overrides() made it); empty: none
};

// The training samples as train reads them: the [train_set], and when its
// validation_split cuts off a part for validation, the two parts.
struct TrainingData {
  std::unique_ptr<Dataset> all;
  std::unique_ptr<Dataset> train_part;       // set when validation_split cuts off a part
  std::unique_ptr<Dataset> validation_part;  // that part

  Dataset& train() { return train_part ? *train_part : *all; }
};

TrainingData open_training_data(const Session& session) {
  const DatasetSpec& spec = *session.file.train_set;
  TrainingData data{session.open(spec), nullptr, nullptr};
  if (spec.validation_split > 0.0f) {
    const float split = spec.validation_split;
    auto parts = split_indices(data.all->size(), {1.0f - split, split}, session.file.model->seed());
    data.train_part = std::make_unique<SubsetDataset>(*data.all, std::move(parts[0]));
    data.validation_part = std::make_unique<SubsetDataset>(*data.all, std::move(parts[1]));
  }
  return data;
}

int run_train(const std::string& model_path, std::vector<std::string> overrides,
              const TrainFlags& flags) {
  const std::string& json_path = flags.json_path;
  const fs::path run_dir = flags.run_dir;
  fs::create_directories(run_dir);
  std::cout << "Run folder: " << run_dir.string() << std::endl;
  write_run_settings(model_path, overrides, run_dir);
  size_t baseline_rss_kib = 0;
  Session session(model_path, overrides, &baseline_rss_kib);
  session.stream = flags.stream;
  Model& model = session.model();
  const MemoryReport memory = model.memory();
  if (!session.file.train_set)
    throw Error(model_path + ": no [train_set] section: nothing to train on");
  model.summary(std::cout);
  write_memory_table(model, run_dir / run_files::kMemory);

  TrainingData train_data = open_training_data(session);
  std::unique_ptr<Dataset> valid_data;
  Dataset* train = &train_data.train();
  Dataset* validation = train_data.validation_part.get();
  if (session.file.valid_set) {
    valid_data = session.open(*session.file.valid_set);
    validation = valid_data.get();
  }
  std::cout << "Training on " << train->size() << " samples"
            << (validation ? ", validating on " + std::to_string(validation->size())
                           : std::string())
            << std::endl;

  TrainerOptions options = session.file.trainer;
  options.progress = !flags.no_progress;
  Trainer trainer(model, options, std::cout);
  if (flags.profile) model.setProfiling(true);
  const TrainResult result = trainer.fit(*train, validation, flags.resume);
  if (flags.profile) print_training_profile(std::cout, model.profile(), result);
  const size_t training_peak_rss_kib = peak_rss_kib();
  std::cout << "Memory: planned peak " << format_bytes(memory.planned_bytes) << ", lower bound "
            << format_bytes(memory.lower_bound_bytes) << ", naive sum "
            << format_bytes(memory.naive_bytes) << "; measured peak RSS "
            << format_bytes(training_peak_rss_kib * 1024.0)
            << " (model built: " << format_bytes(baseline_rss_kib * 1024.0) << ")" << std::endl;
  // The training data is no longer needed: free it before the test set is read.
  train_data.validation_part.reset();  // the parts first: they refer to the whole
  train_data.train_part.reset();
  train_data.all.reset();
  valid_data.reset();

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
    EvaluationResult evaluation;
    evaluation_json(session, *test, "Test", false, &evaluation)
        .write((run_dir / run_files::kEvaluation).string());
    json.add("test_loss", evaluation.loss);
    if (evaluation.has_accuracy) json.add("test_accuracy", evaluation.accuracy);
    if (model.hasAccuracy()) write_test_predictions(session, *test, run_dir);
  }
  json.add("planned_peak_bytes", static_cast<double>(memory.planned_bytes));
  json.add("lower_bound_bytes", static_cast<double>(memory.lower_bound_bytes));
  json.add("naive_bytes", static_cast<double>(memory.naive_bytes));
  if (memory.budget_bytes > 0) {
    json.add("memory_budget_bytes", static_cast<double>(memory.budget_bytes));
    json.add("unswapped_bytes", static_cast<double>(memory.unswapped_bytes));
    json.add("swapped_tensors", static_cast<double>(memory.swapped_tensors));
    json.add("swap_bytes_per_step", static_cast<double>(memory.swap_bytes_per_step));
    json.add("recomputed_tensors", static_cast<double>(memory.recomputed_tensors));
  }
  json.add("baseline_rss_kib", static_cast<double>(baseline_rss_kib));
  json.add("peak_rss_kib", static_cast<double>(training_peak_rss_kib));
  if (!result.interrupted && !result.weights_path.empty()) {
    std::cout << "Weights saved to " << result.weights_path << std::endl;
    json.add("weights", result.weights_path);
    write_training_pictures(session, result.weights_path, json);
  }
  if (!result.last_checkpoint.empty()) {
    std::cout << "Checkpoints: " << result.last_checkpoint << " (last), " << result.best_checkpoint
              << " (best, epoch " << result.best_epoch << ")" << std::endl;
    json.add("last_checkpoint", result.last_checkpoint);
    json.add("best_checkpoint", result.best_checkpoint);
  }
  json.add("run_dir", run_dir.string());
  json.write(json_path);
  json.write((run_dir / run_files::kTrainSummary).string());
  // What the model file placed elsewhere: the report reads the run folder's copies.
  copy_into_run_folder(options.metrics_path, run_dir / run_files::kMetrics);
  if (const DatasetSpec* folder = image_folder_set(session))
    copy_into_run_folder(folder->split.file, run_dir / run_files::kSplit);
  std::cout << "Run files in " << run_dir.string() << " (edgetrain report " << run_dir.string()
            << " makes its HTML report)" << std::endl;
  return result.interrupted ? kExitInterrupted : 0;
}

int run_eval(const std::string& model_path, const std::vector<std::string>& overrides,
             const std::string& weights, const std::string& json_path, bool stream) {
  Session session(model_path, overrides);
  session.stream = stream;
  const std::optional<DatasetSpec>& spec =
      session.file.test_set ? session.file.test_set : session.file.valid_set;
  if (!spec)
    throw Error(model_path + ": no [test_set] or [valid_set] section: nothing to evaluate on");
  load_weights(session.model(), weights);
  std::unique_ptr<Dataset> data = session.open(*spec);
  const JsonObject json =
      evaluation_json(session, *data, session.file.test_set ? "Test" : "Validation", true);
  json.write(json_path);
  return 0;
}

bool is_image_file(const std::string& path) {
  const std::string extension = to_lower(std::filesystem::path(path).extension().string());
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" || extension == ".bmp";
}

// Reads one sample: numbers separated by commas/whitespace (.csv, .txt), an IDX image
// file (with --index), an image (.png, .jpg, .jpeg, .bmp: converted and resized to the
// input as an image_folder data set does, and normalized as its [train_set] says), or
// raw float32 values.
std::vector<float> read_input(const std::string& path, std::optional<size_t> index_option,
                              const Session& session) {
  const size_t size = session.input_shape.size();
  if (is_image_file(path) && !index_option) {
    const TensorShape& shape = session.input_shape;
    const std::vector<uint8_t> pixels =
        load_image_bytes(path, shape.channel, shape.height, shape.width);
    std::vector<float> values(pixels.begin(), pixels.end());
    for (float& value : values) value /= 255.0f;
    if (const DatasetSpec* spec = image_folder_set(session)) {
      check_normalization(spec->normalization, shape.channel);
      normalize_image(Tensor(values.data(), shape), spec->normalization);
    }
    return values;
  }
  // By the file's name ("t10k-images-idx3-ubyte.gz"), not by the folders it is in.
  const bool idx = std::filesystem::path(path).filename().string().find("idx") != std::string::npos;
  if (index_option && !idx)
    throw Error("--index picks an image of an IDX file; " + path +
                " is not one (its name has no 'idx')");
  const size_t index = index_option.value_or(0);
  if (idx) {
    IdxDataset images(path, "");
    if (index >= images.size())
      throw Error(path + " holds " + std::to_string(images.size()) + " images; --index " +
                  std::to_string(index) + " is out of range");
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
    in.read(reinterpret_cast<char*>(values.data()),
            static_cast<std::streamsize>(size * sizeof(float)));
    if (in.gcount() != static_cast<std::streamsize>(size * sizeof(float)) || in.peek() != EOF)
      throw Error(path + " is not one sample of raw float32: the model's input " +
                  session.input_shape.str() + " takes exactly " +
                  std::to_string(size * sizeof(float)) + " bytes");
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
  const size_t best =
      static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  const std::vector<std::string> names = class_names(session);
  if (!names.empty() && names.size() != scores.size())
    throw Error(session.file.path + ": the model has " + std::to_string(scores.size()) +
                " outputs but its image folder " + std::to_string(names.size()) + " classes");
  std::cout << std::fixed << std::setprecision(4);
  if (names.empty()) {
    std::cout << "class " << best << " (" << scores[best] << ")\n";
    for (size_t i = 0; i < scores.size(); ++i) std::cout << "  " << i << ": " << scores[i] << "\n";
  } else {
    std::cout << "class " << names[best] << " (" << scores[best] << ")\n";
    for (size_t i = 0; i < scores.size(); ++i)
      std::cout << "  " << i << " " << names[i] << ": " << scores[i] << "\n";
  }
  return 0;
}

// ---------------------------------------------------------------- show-batch

// Undoes the data set's per-channel normalization of C:H:W samples, so that they show
// as the pixels they were.
void undo_normalization(std::vector<float>& images, const TensorShape& sample,
                        const Normalization& normalization) {
  if (!normalization.enabled()) return;
  const size_t plane = sample.height * sample.width;
  for (size_t i = 0; i < images.size(); ++i) {
    const size_t channel = i / plane % sample.channel;
    const size_t mean_index = normalization.mean.size() == 1 ? 0 : channel;
    const size_t std_index = normalization.std.size() == 1 ? 0 : channel;
    images[i] = images[i] * normalization.std[std_index] + normalization.mean[mean_index];
  }
}

// Writes the first `count` samples of the first epoch of training (one batch with the
// model's batch size) as the data loader hands them to the model: the same shuffle and
// augmentation, from the model's seed or `seed`, with the normalization undone; each
// image labelled with its class (name for an image folder, else index).
int run_show_batch(const std::string& model_path, const std::vector<std::string>& overrides,
                   std::optional<uint64_t> seed, std::optional<size_t> count,
                   const std::string& out_path) {
  Session session(model_path, overrides);
  if (!session.file.train_set)
    throw Error(model_path + ": no [train_set] section: no training batch to show");
  const TensorShape& sample = session.input_shape;
  if (sample.height < 2 || sample.width < 2 || (sample.channel != 1 && sample.channel != 3))
    throw Error(model_path + ": the model's input is " + std::to_string(sample.channel) + ":" +
                std::to_string(sample.height) + ":" + std::to_string(sample.width) +
                ", not an image; show-batch needs an input_shape C:H:W with 1 or 3 channels and "
                "H and W above 1");
  Model& model = session.model();
  TrainingData data = open_training_data(session);
  Dataset& train = data.train();
  const size_t shown = std::min(count.value_or(model.batchSize()), train.size());
  if (shown == 0) throw Error(model_path + ": the training set is empty");

  // Augmentation depends on a sample's place in the epoch, not on the batch size, so a
  // loader with batches of `shown` reads the same first samples as training does.
  DataLoader loader(train, {.batch_size = shown,
                            .shuffle = session.file.trainer.shuffle,
                            .drop_last = false,
                            .seed = seed.value_or(model.seed())});
  std::vector<float> images(shown * sample.size()), labels(shown * session.label_size);
  const std::vector<Tensor> inputs = {Tensor(images.data(), sample.with_batch(shown))};
  std::vector<Tensor> label_views;
  if (session.label_size > 0)
    label_views.push_back(Tensor(labels.data(), TensorShape{shown, 1, 1, session.label_size}));
  loader.start_epoch();
  loader.next_batch(inputs, label_views);
  undo_normalization(images, sample, session.file.train_set->normalization);

  const std::string what = std::to_string(shown) + " training images" +
                           (train.augments() ? " (augmented)" : "") + " written to " + out_path;
  if (!model.hasAccuracy()) {
    // The label is not a class (an autoencoder's is its input): nothing to write under.
    write_image_grid(out_path, images, shown, image_layout(sample));
    std::cout << what << std::endl;
    return 0;
  }
  const std::vector<std::string> names = class_names(session);
  std::vector<std::string> captions;
  for (size_t i = 0; i < shown; ++i) {
    const float* label = labels.data() + i * session.label_size;
    const size_t index =
        static_cast<size_t>(std::max_element(label, label + session.label_size) - label);
    captions.push_back(index < names.size() ? names[index] : std::to_string(index));
  }
  write_labeled_image_grid(out_path, images, shown, image_layout(sample), captions);
  std::cout << what << "\nLabels:";
  for (const std::string& caption : captions) std::cout << " " << caption;
  std::cout << std::endl;
  return 0;
}

// One row per step of a training iteration: the memory alive at that step.
void write_memory_profile(const Model& model, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw Error("cannot write " + path);
  out << "step,phase,layer,live_bytes,high_water_bytes\n";
  for (const MemoryProfileStep& row : model.memoryProfile())
    out << row.step << "," << row.phase << "," << row.layer << "," << row.live_bytes << ","
        << row.high_water_bytes << "\n";
  out.close();
  if (!out) throw Error("cannot write " + path);
}

int run_summary(const std::string& model_path, const std::vector<std::string>& overrides,
                const std::string& profile_path) {
  ModelFile file = load_model_file(model_path, overrides);
  file.model->compile();
  file.model->summary(std::cout);
  if (!profile_path.empty()) {
    write_memory_profile(*file.model, profile_path);
    std::cout << "Memory profile of one training step written to " << profile_path << std::endl;
  }
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{"edgetrain: train, evaluate and run neural networks on the device"};
  app.require_subcommand(1);
  std::string model_path, weights, input_path, json_path;
  std::vector<std::string> sets;
  size_t epochs = 0, batch_size = 0;
  std::optional<size_t> index;
  bool stream = false;
  const char* stream_help =
      "read samples from the data files as they are needed instead of loading them (idx and "
      "file data sets; gzip files through a cache, see docs/model-file.md)";

  std::string memory_budget, swap_path;
  bool swap = false;
  auto add_memory_options = [&](CLI::App* command) {
    command->add_option("--memory-budget", memory_budget,
                        "the most memory the arena may take, e.g. 4MiB (model key memory_budget)");
    command->add_flag("--swap", swap,
                      "above the budget, tensors wait in a swap file between their uses "
                      "(model key memory_swap)");
    command->add_option("--swap-path", swap_path,
                        "folder of the swap file (default $TMPDIR or /tmp; memory_swap_path)");
  };
  auto add_model = [&](CLI::App* command) {
    command->add_option("model", model_path, "INI model file")->required();
    command->add_option("--set", sets, "override a model-file key: key=value or section.key=value");
  };
  CLI::App* train = app.add_subcommand("train", "train a model file's model on its [train_set]");
  add_model(train);
  train->add_option("--epochs", epochs, "number of epochs")->check(CLI::PositiveNumber);
  train->add_option("--batch-size", batch_size, "batch size")->check(CLI::PositiveNumber);
  TrainFlags train_flags;
  train->add_option("--resume", train_flags.resume, "continue from this checkpoint");
  train->add_option("--json", train_flags.json_path, "write the final figures to this JSON file");
  train->add_option("--run-dir", train_flags.run_dir,
                    "write the run's files here (settings, metrics, checkpoints, weights, test "
                    "evaluation, memory, predictions); default: a new folder under runs/");
  train->add_flag("--no-progress", train_flags.no_progress, "no live progress bar");
  train->add_flag("--stream", train_flags.stream, stream_help);
  train->add_flag("--profile", train_flags.profile,
                  "print the time per layer and phase (forward, derivative, gradient, "
                  "optimizer), data loading and validation");
  add_memory_options(train);

  CLI::App* eval =
      app.add_subcommand("eval", "evaluate weights on the [test_set] (or [valid_set])");
  add_model(eval);
  eval->add_option("--weights", weights, "weights or checkpoint file")->required();
  eval->add_option("--json", json_path, "write the figures to this JSON file");
  eval->add_flag("--stream", stream, stream_help);

  CLI::App* predict =
      app.add_subcommand("predict", "classify one input and print the class and its scores");
  add_model(predict);
  predict->add_option("--weights", weights, "weights or checkpoint file")->required();
  predict
      ->add_option("--input", input_path,
                   "a .csv/.txt of numbers, an image (.png, .jpg, .bmp), raw float32, or an "
                   "IDX image file")
      ->required();
  predict->add_option("--index", index, "which image of an IDX file");

  CLI::App* summary =
      app.add_subcommand("summary", "print the layer table with shapes, parameters and memory");
  add_model(summary);
  add_memory_options(summary);
  std::string profile_path;
  summary->add_option("--memory-profile", profile_path,
                      "write the memory alive at each step of one training step to this CSV file");

  std::string show_batch_path = "show_batch.png";
  std::optional<uint64_t> show_batch_seed;
  std::optional<size_t> show_batch_count;
  CLI::App* show_batch = app.add_subcommand(
      "show-batch",
      "PNG grid of the first training batch as the loader feeds it (augmented), with labels");
  add_model(show_batch);
  show_batch->add_option("-o,--out", show_batch_path,
                         "the PNG file to write (default show_batch.png)");
  show_batch->add_option("--seed", show_batch_seed,
                         "seed of the shuffle and augmentation (default: the model's seed)");
  show_batch
      ->add_option("-n,--count", show_batch_count, "number of images (default: the batch size)")
      ->check(CLI::PositiveNumber);

  std::string out_path, from, output, classifier_path, classifier_weights, generator_path;
  size_t sample_count = 64, recon_count = 32, score_count = 1000;
  uint64_t seed = 1;
  bool real = false;
  CLI::App* sample = app.add_subcommand(
      "sample",
      "draw images from a generative model (z ~ N(0, 1) set as a layer's output) into a PNG grid");
  add_model(sample);
  sample->add_option("--weights", weights, "weights or checkpoint file")->required();
  sample->add_option("-n,--count", sample_count, "number of samples (default 64)")
      ->check(CLI::PositiveNumber);
  sample->add_option("--seed", seed, "seed of the noise z (default 1)");
  sample->add_option("--from", from,
                     "the layer whose output z sets (default: the reparametrize layer)");
  sample->add_option("--output", output,
                     "the layer whose output is the image (default: the loss's input)");
  sample->add_option("-o,--out", out_path, "the PNG file to write")->required();

  CLI::App* reconstruct = app.add_subcommand(
      "reconstruct",
      "PNG grid of test images (else validation or training images) beside their reconstructions");
  add_model(reconstruct);
  reconstruct->add_option("--weights", weights, "weights or checkpoint file")->required();
  reconstruct->add_option("-n,--count", recon_count, "number of images (default 32)")
      ->check(CLI::PositiveNumber);
  reconstruct->add_option("-o,--out", out_path, "the PNG file to write")->required();
  reconstruct->add_flag("--stream", stream, stream_help);

  CLI::App* score = app.add_subcommand(
      "score",
      "Inception-Score-style quality of generated samples (and of real images) under a classifier");
  score->add_option("--classifier", classifier_path, "the classifier's INI model file")->required();
  score->add_option("--classifier-weights", classifier_weights, "the classifier's weights")
      ->required();
  CLI::Option* samples_from = score->add_option("--samples-from", generator_path,
                                                "score samples of this generative model file");
  score->add_option("--weights", weights, "the generative model's weights")->needs(samples_from);
  samples_from->needs("--weights");
  score->add_flag("--real", real,
                  "score real images of the classifier's [test_set] too, as a reference");
  score
      ->add_option("-n,--count", score_count, "number of samples and of real images (default 1000)")
      ->check(CLI::PositiveNumber);
  score->add_option("--seed", seed, "seed of the noise z (default 1)");
  score->add_option("--from", from,
                    "the layer whose output z sets (default: the reparametrize layer)");
  score->add_option("--output", output,
                    "the layer whose output is the image (default: the loss's input)");
  score->add_option("--json", json_path, "write the scores to this JSON file");
  score->add_flag("--stream", stream, stream_help);

  std::string run_dir, report_path;
  CLI::App* report = app.add_subcommand(
      "report", "write a run folder's self-contained HTML report (curves, confusion matrix, ...)");
  report->add_option("run_dir", run_dir, "the folder of a run (edgetrain train --run-dir)")
      ->required();
  report->add_option("-o,--out", report_path, "the HTML file (default: RUN_DIR/report.html)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help exits 0; every usage error exits 2, not CLI11's code for its kind of error.
    return app.exit(error) == 0 ? 0 : kExitUsage;
  }

  std::vector<std::string> overrides;
  if (epochs > 0) overrides.push_back("epochs=" + std::to_string(epochs));
  if (batch_size > 0) overrides.push_back("batch_size=" + std::to_string(batch_size));
  if (!memory_budget.empty()) overrides.push_back("memory_budget=" + memory_budget);
  if (swap) overrides.push_back("memory_swap=true");
  if (!swap_path.empty())
    overrides.push_back("memory_swap_path=" + std::filesystem::absolute(swap_path).string());
  overrides.insert(overrides.end(), sets.begin(), sets.end());

  if (*report) {
    if (report_path.empty()) report_path = (fs::path(run_dir) / "report.html").string();
    write_run_report(run_dir, report_path);
    std::cout << "Report written to " << report_path << std::endl;
    return 0;
  }
  if (*train) {
    // --resume of a run folder's checkpoint continues in that folder.
    const fs::path resumed_folder = fs::path(train_flags.resume).parent_path();
    const bool asked_for = !train_flags.run_dir.empty();
    if (!asked_for)
      train_flags.run_dir =
          !train_flags.resume.empty() && fs::exists(resumed_folder / run_files::kSettings)
              ? resumed_folder.string()
              : new_run_folder(model_path);
    std::vector<std::string> placed =
        run_folder_overrides(model_path, overrides, train_flags.run_dir, asked_for);
    placed.insert(placed.end(), overrides.begin(), overrides.end());
    return run_train(model_path, placed, train_flags);
  }
  if (*eval) return run_eval(model_path, overrides, weights, json_path, stream);
  if (*predict) return run_predict(model_path, overrides, weights, input_path, index);
  if (*show_batch)
    return run_show_batch(model_path, overrides, show_batch_seed, show_batch_count,
                          show_batch_path);
  if (*sample)
    return run_sample(model_path, overrides, weights, sample_count, seed, from, output, out_path);
  if (*reconstruct)
    return run_reconstruct(model_path, overrides, weights, recon_count, out_path, stream);
  if (*score) {
    if (generator_path.empty() && !real) {
      std::cerr << "edgetrain score: nothing to score: give --samples-from MODEL.ini --weights W, "
                   "--real, or both\n";
      return kExitUsage;
    }
    return run_score(classifier_path, classifier_weights, generator_path, weights, real,
                     score_count, seed, from, output, json_path, stream);
  }
  return run_summary(model_path, overrides, profile_path);
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
