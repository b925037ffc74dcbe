// The edgetrain command line, run as a subprocess on a tiny model and data written to a
// temp dir: help, summary, train (JSON, weights, resume, SIGINT), eval, predict, and errors
// as one line on stderr with exit code 1 (2 for bad usage, 130 when interrupted).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "edgetrain/checkpoint.h"
#include "edgetrain/model_file.h"
#include "edgetrain/rng.h"
#include "support/data_files.h"

extern char** environ;

namespace edgetrain::testing {
namespace {

namespace fs = std::filesystem;

// A classifier of 4 features into 3 classes, on CSV files beside it.
constexpr const char* kModelIni = R"(# A tiny classifier for the CLI tests
[Model]
Type = NeuralNetwork
Loss = cross
Epochs = 3
Batch_Size = 8
Save_Path = model.bin
seed = 2

[Optimizer]
Type = adam
Learning_rate = 0.05

[train_set]
Type = csv
path = train.csv
validation_split = 0.2

[test_set]
Type = csv
path = test.csv

[input]
Type = input
Input_Shape = 1:1:4

[fc1]
Type = fully_connected
Unit = 16
Activation = relu

[out]
Type = fully_connected
Unit = 3
Activation = softmax
)";

// Rows of 4 features and the class: whichever of the first three features is largest.
std::string csv_rows(size_t rows, uint64_t seed) {
  Rng rng(seed);
  std::ostringstream text;
  for (size_t r = 0; r < rows; ++r) {
    float features[4];
    for (float& feature : features) feature = rng.uniform(-1.0f, 1.0f);
    const size_t label = static_cast<size_t>(std::max_element(features, features + 3) - features);
    for (float feature : features) text << feature << ",";
    text << label << "\n";
  }
  return text.str();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A JSON object's members: strings unquoted, other values as written (arrays and objects
// as their whole text). Fails the test on anything else.
std::map<std::string, std::string> parse_flat_json(const std::string& text) {
  std::map<std::string, std::string> members;
  size_t at = 0;
  auto skip_space = [&] {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
  };
  auto fail = [&](const std::string& what) {
    ADD_FAILURE() << "bad JSON at " << at << " (" << what << "): " << text;
    return std::map<std::string, std::string>();
  };
  auto parse_string = [&](std::string& out) {
    if (text[at] != '"') return false;
    for (++at; at < text.size() && text[at] != '"'; ++at) {
      if (text[at] == '\\' && ++at == text.size()) return false;
      out += text[at];
    }
    return at++ < text.size();
  };
  skip_space();
  if (at == text.size() || text[at++] != '{') return fail("no '{'");
  skip_space();
  if (at < text.size() && text[at] == '}') return members;
  while (true) {
    std::string key, value;
    skip_space();
    if (at == text.size() || !parse_string(key)) return fail("key");
    skip_space();
    if (at == text.size() || text[at++] != ':') return fail("':'");
    skip_space();
    if (at == text.size()) return fail("value");
    if (text[at] == '"') {
      if (!parse_string(value)) return fail("string");
    } else if (text[at] == '[' || text[at] == '{') {
      // To the matching bracket, past brackets inside strings.
      const size_t start = at;
      int depth = 0;
      bool in_string = false;
      for (; at < text.size(); ++at) {
        const char c = text[at];
        if (in_string) {
          if (c == '\\')
            ++at;
          else if (c == '"')
            in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '[' || c == '{') {
          ++depth;
        } else if ((c == ']' || c == '}') && --depth == 0) {
          break;
        }
      }
      if (at++ == text.size()) return fail("unterminated " + key);
      value = text.substr(start, at - start);
    } else {
      const std::regex literal(R"(^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null))");
      std::smatch match;
      const std::string rest = text.substr(at);
      if (!std::regex_search(rest, match, literal)) return fail("literal");
      value = match.str();
      at += value.size();
    }
    if (!members.emplace(key, value).second) return fail("repeated key " + key);
    skip_space();
    if (at == text.size()) return fail("unterminated");
    if (text[at] == '}') break;
    if (text[at++] != ',') return fail("','");
  }
  ++at;
  skip_space();
  if (at != text.size()) return fail("text after the object");
  return members;
}

double number(const std::map<std::string, std::string>& json, const std::string& key) {
  const auto found = json.find(key);
  if (found == json.end()) {
    ADD_FAILURE() << "no '" << key << "' in the JSON";
    return std::nan("");
  }
  return std::stod(found->second);
}

struct CliRun {
  int exit_code = -1;  // the status it exited with; -signal when a signal killed it
  std::string out, err;
};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir();
    // Run folders of trainings without --run-dir go into the test's dir, not the
    // working directory; the CLI inherits the environment.
    setenv("EDGETRAIN_RUNS_DIR", path("runs").c_str(), 1);
    write_text(path("model.ini"), kModelIni);
    write_text(path("train.csv"), csv_rows(60, 1));
    write_text(path("test.csv"), csv_rows(20, 2));
  }

  std::string path(const std::string& name) const { return dir_ + name; }

  // Starts the CLI with stdout and stderr going to files of the test's dir, SIGINT at its
  // default disposition whatever the test runner did with it. In a cross build the CLI runs
  // under the emulator that runs the tests (EDGETRAIN_CLI_EMULATOR: qemu-aarch64 -L /).
  pid_t start(const std::vector<std::string>& args) {
    std::vector<std::string> argv_strings;
#ifdef EDGETRAIN_CLI_EMULATOR
    std::istringstream emulator(EDGETRAIN_CLI_EMULATOR);
    for (std::string word; emulator >> word;) argv_strings.push_back(word);
#endif
    argv_strings.push_back(EDGETRAIN_CLI);
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path().c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path().c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t signals;
    sigemptyset(&signals);
    posix_spawnattr_setsigmask(&attributes, &signals);
    sigaddset(&signals, SIGINT);
    posix_spawnattr_setsigdefault(&attributes, &signals);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int error = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    EXPECT_EQ(error, 0) << "cannot run " << argv[0];
    return error == 0 ? pid : -1;
  }

  CliRun wait_for(pid_t pid) {
    CliRun run;
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
      run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    run.out = read_text(out_path());
    run.err = read_text(err_path());
    return run;
  }

  CliRun run(const std::vector<std::string>& args) { return wait_for(start(args)); }

  // Runs a command that must succeed.
  CliRun succeed(const std::vector<std::string>& args) {
    CliRun result = run(args);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    return result;
  }

  // Runs a command that must fail with exit code 1 and one line on stderr holding `part`.
  void expect_error(const std::vector<std::string>& args, const std::string& part) {
    const CliRun result = run(args);
    SCOPED_TRACE(args.front() + " ... " + args.back());
    EXPECT_EQ(result.exit_code, 1);
    const std::vector<std::string> lines = lines_of(result.err);
    ASSERT_EQ(lines.size(), 1u) << result.err;
    EXPECT_TRUE(lines[0].starts_with("edgetrain: error: ")) << lines[0];
    EXPECT_TRUE(contains(lines[0], part)) << lines[0];
  }

  // A model as the tool builds it from the test's model file, ready to load weights into.
  ModelFile load_model() {
    ModelFile file = load_model_file(path("model.ini"));
    file.model->compile();
    file.model->initialize();
    return file;
  }

  std::string out_path() const { return dir_ + "cli.out"; }
  std::string err_path() const { return dir_ + "cli.err"; }

  std::string dir_;
};

TEST_F(Cli, HelpOnEveryCommandExitsZero) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"train", "--help"},
                                             {"eval", "--help"},
                                             {"predict", "--help"},
                                             {"summary", "--help"}}) {
    const CliRun result = run(args);
    SCOPED_TRACE(args.front());
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "Usage")) << result.out;
    EXPECT_TRUE(result.err.empty()) << result.err;
  }
  EXPECT_TRUE(contains(run({"train", "--help"}).out, "--resume"));
}

TEST_F(Cli, BadUsageExitsTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"fly"},
                                             {"summary"},
                                             {"train", path("model.ini"), "--epochs", "zero"},
                                             {"summary", path("model.ini"), "--no-such-option"}}) {
    const CliRun result = run(args);
    SCOPED_TRACE(args.empty() ? "(no arguments)" : args.back());
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_FALSE(result.err.empty());
  }
  // A required option: the first line names it.
  const CliRun no_weights = run({"eval", path("model.ini")});
  EXPECT_EQ(no_weights.exit_code, 2);
  ASSERT_FALSE(lines_of(no_weights.err).empty());
  EXPECT_TRUE(contains(lines_of(no_weights.err)[0], "--weights")) << no_weights.err;
}

TEST_F(Cli, SummaryPrintsTheLayerTable) {
  const CliRun result = succeed({"summary", path("model.ini")});
  EXPECT_TRUE(
      std::regex_search(result.out, std::regex(R"(\nfc1 +fully_connected +8:1:1:16 +input +80 )")))
      << result.out;
  EXPECT_TRUE(
      std::regex_search(result.out, std::regex(R"(\nout +fully_connected +8:1:1:3 +fc1 +51 )")))
      << result.out;
  EXPECT_TRUE(contains(result.out, "Parameters: 131")) << result.out;
  EXPECT_TRUE(contains(result.out, "Planned peak memory")) << result.out;
  // --set reaches the model: a batch of 2.
  EXPECT_TRUE(
      contains(succeed({"summary", path("model.ini"), "--set", "batch_size=2"}).out, "2:1:1:16"));
}

TEST_F(Cli, TrainWritesWeightsAndJson) {
  const CliRun result =
      succeed({"train", path("model.ini"), "--epochs", "2", "--json", path("train.json")});
  const std::vector<std::string> lines = lines_of(result.out);
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& line) { return line.starts_with("#"); }),
            2);
  EXPECT_TRUE(contains(result.out, "#2/2 - Training Loss: ")) << result.out;
  EXPECT_TRUE(contains(result.out, "Training on 48 samples, validating on 12")) << result.out;
  EXPECT_TRUE(contains(result.out, "Weights saved to " + path("model.bin"))) << result.out;
  EXPECT_TRUE(contains(result.out, "Test Loss: ")) << result.out;
  EXPECT_EQ(result.out.find('\r'), std::string::npos);
  EXPECT_TRUE(result.err.empty()) << result.err;

  const std::map<std::string, std::string> json = parse_flat_json(read_text(path("train.json")));
  EXPECT_EQ(number(json, "epochs"), 2.0);
  const double loss = number(json, "loss"), accuracy = number(json, "accuracy");
  EXPECT_TRUE(loss > 0.0 && loss < 5.0) << loss;
  EXPECT_TRUE(accuracy >= 0.0 && accuracy <= 1.0) << accuracy;
  for (const char* key : {"seconds_per_epoch", "samples_per_second", "planned_peak_bytes",
                          "peak_rss_kib", "val_loss", "test_loss"})
    EXPECT_GT(number(json, key), 0.0) << key;
  EXPECT_EQ(json.at("interrupted"), "false");
  EXPECT_EQ(json.at("weights"), path("model.bin"));

  ModelFile file = load_model();
  EXPECT_NO_THROW(load_weights(*file.model, path("model.bin")));
  EXPECT_NO_THROW(load_checkpoint(*file.model, path("model.last.ckpt")));
  EXPECT_NO_THROW(load_checkpoint(*file.model, path("model.best.ckpt")));
}

TEST_F(Cli, TrainReportsPlannedAndMeasuredMemory) {
  const CliRun result = succeed(
      {"train", path("model.ini"), "--epochs", "1", "--no-progress", "--json", path("train.json")});
  EXPECT_TRUE(std::regex_search(result.out,
                                std::regex(R"(Memory: planned peak [0-9.]+ [KM]?i?B, lower bound )"
                                           R"([0-9.]+ [KM]?i?B, naive sum [0-9.]+ [KM]?i?B; )"
                                           R"(measured peak RSS [0-9.]+ MiB \(model built: )")))
      << result.out;
  const auto json = parse_flat_json(read_text(path("train.json")));
  const double baseline = number(json, "baseline_rss_kib"), peak = number(json, "peak_rss_kib");
  EXPECT_GT(baseline, 0.0);
  EXPECT_GE(peak, baseline);
  EXPECT_LT(peak, 4.0 * 1024 * 1024) << "more than 4 GiB for a tiny model";
  ModelFile file = load_model();
  const MemoryReport memory = file.model->memory();
  EXPECT_EQ(number(json, "planned_peak_bytes"), static_cast<double>(memory.planned_bytes));
  EXPECT_EQ(number(json, "lower_bound_bytes"), static_cast<double>(memory.lower_bound_bytes));
  EXPECT_EQ(number(json, "naive_bytes"), static_cast<double>(memory.naive_bytes));
  EXPECT_LE(memory.lower_bound_bytes, memory.planned_bytes);
  EXPECT_LE(memory.planned_bytes, memory.naive_bytes);
}

TEST_F(Cli, TrainProfilePrintsTimePerLayerAndPhase) {
  const CliRun result =
      succeed({"train", path("model.ini"), "--epochs", "1", "--no-progress", "--profile"});
  EXPECT_TRUE(contains(result.out, "Time per training step (ms, mean over ")) << result.out;
  for (const char* column : {"forward", "derivative", "gradient", "optimizer", "share"})
    EXPECT_TRUE(contains(result.out, column)) << column;
  for (const char* row : {"(data loading)", "(validation)", "(checkpoints)"})
    EXPECT_TRUE(contains(result.out, row)) << row << "\n" << result.out;
  const CliRun plain = succeed({"train", path("model.ini"), "--epochs", "1", "--no-progress"});
  EXPECT_FALSE(contains(plain.out, "Time per training step"));
}

TEST_F(Cli, MemoryBudgetAndSwapFlags) {
  // A budget nothing can meet: exit 1, one line naming the smallest that works.
  const CliRun refused = run({"summary", path("model.ini"), "--memory-budget", "1KiB", "--swap"});
  EXPECT_EQ(refused.exit_code, 1);
  const size_t at = refused.err.find("set memory_budget to at least ");
  ASSERT_NE(at, std::string::npos) << refused.err;
  const std::string smallest = std::to_string(std::stoull(refused.err.substr(at + 30)));
  EXPECT_EQ(run({"summary", path("model.ini"), "--memory-budget", "lots"}).exit_code, 1);

  const CliRun plain = succeed(
      {"train", path("model.ini"), "--epochs", "1", "--no-progress", "--json", path("plain.json")});
  const CliRun swapped =
      succeed({"train", path("model.ini"), "--epochs", "1", "--no-progress", "--memory-budget",
               smallest, "--swap", "--swap-path", path(""), "--json", path("swap.json")});
  const auto a = parse_flat_json(read_text(path("plain.json")));
  const auto b = parse_flat_json(read_text(path("swap.json")));
  EXPECT_EQ(a.at("loss"), b.at("loss")) << "swap changes nothing but memory";
  EXPECT_EQ(number(b, "memory_budget_bytes"), std::stod(smallest));
  EXPECT_LE(number(b, "planned_peak_bytes"), std::stod(smallest));
  EXPECT_EQ(a.count("memory_budget_bytes"), 0u);
}

// The baseline is taken once the model is initialized, as NNTrainer's: it holds the
// weights, but not the rest of the arena (gradients, Adam's state, activations), whose
// pages become resident only when a step first touches them.
TEST_F(Cli, TrainBaselineHoldsTheWeightsButNotTheRestOfTheArena) {
  auto train = [&](size_t units) {
    succeed({"train", path("model.ini"), "--epochs", "1", "--no-progress", "--set",
             "fc1.unit=" + std::to_string(units), "--json", path("train.json")});
    return parse_flat_json(read_text(path("train.json")));
  };
  const size_t units = size_t{1} << 18;  // 4-16-3 widened to 4-262144-3: 7 MiB of weights
  const auto narrow = train(16), wide = train(units);
  const double weight_kib = (4.0 * units + units + 3.0 * units + 3) * sizeof(float) / 1024;
  const double rest_kib = number(wide, "planned_peak_bytes") / 1024 - weight_kib;
  const double grown_kib = number(wide, "baseline_rss_kib") - number(narrow, "baseline_rss_kib");
  EXPECT_GT(grown_kib, 0.9 * weight_kib) << "the weights are not in the baseline";
  EXPECT_LT(grown_kib, weight_kib + 0.5 * rest_kib) << "the whole arena is in the baseline";
  EXPECT_GT(number(wide, "peak_rss_kib") - number(wide, "baseline_rss_kib"), 0.5 * rest_kib);
}

TEST_F(Cli, SummaryShowsMemoryByLayerAndWritesTheProfile) {
  const CliRun result =
      succeed({"summary", path("model.ini"), "--memory-profile", path("profile.csv")});
  EXPECT_TRUE(contains(result.out, "Memory by layer")) << result.out;
  EXPECT_TRUE(std::regex_search(
      result.out,
      std::regex(R"(\nLayer +Weights +Optimizer +Activations +Gradients +Scratch +Total)")))
      << result.out;
  // fc1: 4x16 weights and 16 biases (64-byte aligned: 256 + 64 bytes), Adam's two moments.
  EXPECT_TRUE(std::regex_search(result.out, std::regex(R"(\nfc1 +320 B +640 B )"))) << result.out;
  const std::vector<std::string> lines = lines_of(read_text(path("profile.csv")));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "step,phase,layer,live_bytes,high_water_bytes");
  ModelFile file = load_model();
  const MemoryReport memory = file.model->memory();
  const std::vector<MemoryProfileStep> profile = file.model->memoryProfile();
  ASSERT_EQ(lines.size(), profile.size() + 1);
  size_t max_live = 0, max_high_water = 0;
  for (size_t row = 1; row < lines.size(); ++row) {
    std::vector<std::string> fields;
    std::istringstream in(lines[row]);
    for (std::string field; std::getline(in, field, ',');) fields.push_back(field);
    ASSERT_EQ(fields.size(), 5u) << lines[row];
    EXPECT_EQ(fields[0], std::to_string(row - 1));
    EXPECT_EQ(fields[1], profile[row - 1].phase);
    EXPECT_EQ(fields[2], profile[row - 1].layer);
    max_live = std::max<size_t>(max_live, std::stoull(fields[3]));
    max_high_water = std::max<size_t>(max_high_water, std::stoull(fields[4]));
  }
  EXPECT_EQ(max_live, memory.lower_bound_bytes);
  EXPECT_EQ(max_high_water, memory.planned_bytes);
  EXPECT_TRUE(contains(lines[1], ",forward,")) << lines[1];
  EXPECT_TRUE(contains(lines.back(), ",apply_gradient,")) << lines.back();
}

TEST_F(Cli, EvalReportsWhatTrainingMeasuredOnTheTestSet) {
  succeed({"train", path("model.ini"), "--epochs", "2", "--json", path("train.json")});
  const CliRun result = succeed(
      {"eval", path("model.ini"), "--weights", path("model.bin"), "--json", path("eval.json")});
  EXPECT_TRUE(std::regex_search(
      result.out, std::regex(R"(Test Loss: [0-9.]+ - Test Accuracy: [0-9.]+% \(20 samples\))")))
      << result.out;
  const auto trained = parse_flat_json(read_text(path("train.json")));
  const auto evaluated = parse_flat_json(read_text(path("eval.json")));
  EXPECT_EQ(number(evaluated, "samples"), 20.0);
  EXPECT_EQ(number(evaluated, "loss"), number(trained, "test_loss"));
  EXPECT_EQ(number(evaluated, "accuracy"), number(trained, "test_accuracy"));
  EXPECT_GT(number(evaluated, "planned_peak_bytes"), 0.0);
  EXPECT_GT(number(evaluated, "peak_rss_kib"), 0.0);
}

// The whole numbers in `text`, in order (the confusion matrix's counts).
std::vector<size_t> counts_in(const std::string& text) {
  std::vector<size_t> counts;
  const std::regex number(R"(\d+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number);
       it != std::sregex_iterator(); ++it)
    counts.push_back(std::stoul(it->str()));
  return counts;
}

TEST_F(Cli, EvalReportsPerClassMetricsAndTheConfusionMatrix) {
  succeed({"train", path("model.ini"), "--epochs", "2"});
  const CliRun result = succeed(
      {"eval", path("model.ini"), "--weights", path("model.bin"), "--json", path("eval.json")});
  EXPECT_TRUE(
      std::regex_search(result.out, std::regex(R"(\nClass +Precision +Recall +F1 +Support *\n)")))
      << result.out;
  for (const char* row : {R"(\n0 +[01]\.\d{4} +[01]\.\d{4} +[01]\.\d{4} +\d+ *\n)",
                          R"(\n2 +[01]\.\d{4} +[01]\.\d{4} +[01]\.\d{4} +\d+ *\n)",
                          R"(\nAccuracy: [01]\.\d{4} \(20 rows\)\n)", R"(\nMacro avg: precision )",
                          R"(\nMicro avg: precision )"})
    EXPECT_TRUE(std::regex_search(result.out, std::regex(row))) << row << " in:\n" << result.out;
  // Top-5 of 3 classes says nothing.
  EXPECT_FALSE(contains(result.out, "Top-5")) << result.out;

  const auto json = parse_flat_json(read_text(path("eval.json")));
  EXPECT_EQ(json.count("top5_accuracy"), 0u);
  EXPECT_EQ(json.at("command"), "eval");
  const std::vector<size_t> matrix = counts_in(json.at("confusion_matrix"));
  ASSERT_EQ(matrix.size(), 9u) << json.at("confusion_matrix");
  size_t total = 0, diagonal = 0;
  for (size_t i = 0; i < 9; ++i) total += matrix[i];
  for (size_t c = 0; c < 3; ++c) diagonal += matrix[c * 3 + c];
  EXPECT_EQ(total, 20u);
  EXPECT_NEAR(number(json, "accuracy"), diagonal / 20.0, 1e-6);
  EXPECT_NEAR(number(json, "micro_f1"), number(json, "accuracy"), 1e-6);
  EXPECT_GE(number(json, "macro_f1"), 0.0);
  EXPECT_LE(number(json, "macro_f1"), 1.0);
  const std::string& per_class = json.at("per_class");
  EXPECT_TRUE(std::regex_search(
      per_class, std::regex(R"(^\[\{"name": "0", "precision": [0-9.e-]+, "recall": [0-9.e-]+, )"
                            R"("f1": [0-9.e-]+, "support": \d+\}, \{"name": "1", )")))
      << per_class;
  // Every class's support is its row of the matrix.
  const std::regex support(R"("support": (\d+))");
  size_t c = 0;
  for (auto it = std::sregex_iterator(per_class.begin(), per_class.end(), support);
       it != std::sregex_iterator(); ++it, ++c)
    EXPECT_EQ(std::stoul((*it)[1]), matrix[c * 3] + matrix[c * 3 + 1] + matrix[c * 3 + 2]);
  EXPECT_EQ(c, 3u);
}

TEST_F(Cli, EvalShowsTopFiveAccuracyForMoreThanFiveClasses) {
  // The CSV labels stay 0..2; the model now tells 7 classes apart, 4 of them never true.
  succeed({"train", path("model.ini"), "--epochs", "1", "--set", "out.unit=7"});
  const CliRun result = succeed({"eval", path("model.ini"), "--set", "out.unit=7", "--weights",
                                 path("model.bin"), "--json", path("eval.json")});
  EXPECT_TRUE(std::regex_search(result.out, std::regex(R"(\nTop-5 accuracy: [01]\.\d{4}\n)")))
      << result.out;
  EXPECT_TRUE(std::regex_search(result.out, std::regex(R"(\n6 +0\.0000 +0\.0000 +0\.0000 +0 *\n)")))
      << result.out;
  const auto json = parse_flat_json(read_text(path("eval.json")));
  EXPECT_GE(number(json, "top5_accuracy"), number(json, "accuracy"));
  EXPECT_EQ(counts_in(json.at("confusion_matrix")).size(), 49u);
}

// A tiny VAE on 4-pixel images, trained with target = input: its loss has no classes.
constexpr const char* kVaeIni = R"([Model]
Epochs = 2
Batch_Size = 8
Save_Path = vae.bin
[Optimizer]
Type = adam
[train_set]
Type = csv
path = images.csv
target = input
validation_split = 0.25
[test_set]
Type = csv
path = images.csv
target = input
[image]
Type = input
Input_Shape = 1:1:4
[mu]
Type = fully_connected
Unit = 2
[logvar]
Type = fully_connected
Unit = 2
input_layers = image
[z]
Type = reparametrize
input_layers = mu, logvar
[recon]
Type = fully_connected
Unit = 4
Activation = sigmoid
[loss]
Type = vae_loss
input_layers = recon, mu, logvar
)";

TEST_F(Cli, AutoencoderTrainingAndEvaluationReportNoAccuracy) {
  write_text(path("vae.ini"), kVaeIni);
  std::string images;
  for (size_t i = 0; i < 32; ++i) images += i % 2 ? "1,0,1,0\n" : "0,1,0,1\n";
  write_text(path("images.csv"), images);
  const CliRun trained =
      succeed({"train", path("vae.ini"), "--json", path("train.json"), "--no-progress"});
  EXPECT_TRUE(std::regex_search(trained.out, std::regex(R"(#2/2 - Training Loss: [0-9.]+ >> )"
                                                        R"(\[ Validation Loss : [0-9.]+ \])")))
      << trained.out;
  EXPECT_TRUE(contains(trained.out, "Test Loss: ")) << trained.out;
  EXPECT_FALSE(contains(trained.out, "Accuracy:")) << trained.out;
  const CliRun evaluated =
      succeed({"eval", path("vae.ini"), "--weights", path("vae.bin"), "--json", path("eval.json")});
  EXPECT_TRUE(std::regex_search(evaluated.out, std::regex(R"(Test Loss: [0-9.]+ \(32 samples\))")))
      << evaluated.out;
  for (const char* json_file : {"train.json", "eval.json"}) {
    const auto json = parse_flat_json(read_text(path(json_file)));
    EXPECT_GT(number(json, json_file == std::string("train.json") ? "test_loss" : "loss"), 0.0);
    for (const char* key : {"accuracy", "val_accuracy", "test_accuracy"})
      EXPECT_EQ(json.count(key), 0u) << json_file << ": " << key;
  }
}

// The class and the probabilities of `predict`'s output.
std::pair<size_t, std::vector<double>> parse_prediction(const std::string& out) {
  std::smatch match;
  EXPECT_TRUE(std::regex_search(out, match, std::regex(R"(^class (\d+) \(([0-9.]+)\)\n)"))) << out;
  const size_t predicted = match.empty() ? 0 : std::stoul(match[1]);
  std::vector<double> probabilities;
  const std::regex row(R"(\n  (\d+): ([0-9.]+))");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), row); it != std::sregex_iterator();
       ++it) {
    EXPECT_EQ(std::stoul((*it)[1]), probabilities.size());
    probabilities.push_back(std::stod((*it)[2]));
  }
  return {predicted, probabilities};
}

// CSV, whitespace-separated text and raw float32 give the same answer, the one the C++ API
// gives, in a folder whose name says "idx" (the tool must not read these as IDX files).
TEST_F(Cli, PredictPrintsTheClassAndProbabilitiesThatSumToOne) {
  succeed({"train", path("model.ini"), "--epochs", "2"});
  const std::vector<float> sample = {0.9f, -0.5f, 0.1f, 0.3f};
  fs::create_directories(path("idx_inputs"));
  write_text(path("idx_inputs/sample.csv"), "0.9, -0.5, 0.1, 0.3\n");
  write_text(path("idx_inputs/sample.txt"), "0.9 -0.5\n0.1\t0.3");
  write_floats(path("idx_inputs/sample.bin"), sample);

  ModelFile file = load_model();
  load_weights(*file.model, path("model.bin"));
  const std::vector<float> logits = file.model->predict(sample);
  const size_t expected =
      static_cast<size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());

  std::string first_output;
  for (const char* input :
       {"idx_inputs/sample.csv", "idx_inputs/sample.txt", "idx_inputs/sample.bin"}) {
    SCOPED_TRACE(input);
    const CliRun result = succeed(
        {"predict", path("model.ini"), "--weights", path("model.bin"), "--input", path(input)});
    const auto [predicted, probabilities] = parse_prediction(result.out);
    EXPECT_EQ(predicted, expected);
    ASSERT_EQ(probabilities.size(), 3u) << result.out;
    double sum = 0.0;
    for (double p : probabilities) sum += p;
    EXPECT_NEAR(sum, 1.0, 2e-4);
    EXPECT_EQ(*std::max_element(probabilities.begin(), probabilities.end()),
              probabilities[predicted]);
    if (first_output.empty()) first_output = result.out;
    EXPECT_EQ(result.out, first_output);
  }
  // A checkpoint holds weights too.
  EXPECT_EQ(succeed({"predict", path("model.ini"), "--weights", path("model.last.ckpt"), "--input",
                     path("idx_inputs/sample.csv")})
                .out,
            first_output);
}

// Loss = cross after a sigmoid is bce_with_logits: the model outputs logits and predict
// shows each class's sigmoid.
TEST_F(Cli, PredictShowsSigmoidsForABinaryCrossEntropyModel) {
  std::string ini = kModelIni;
  const std::string softmax = "Activation = softmax";
  ini.replace(ini.find(softmax), softmax.size(), "Activation = sigmoid");
  write_text(path("model.ini"), ini);
  write_text(path("sample.csv"), "0.9, -0.5, 0.1, 0.3\n");
  succeed({"train", path("model.ini"), "--epochs", "2"});
  ModelFile file = load_model();
  ASSERT_EQ(file.model->loss(), "bce_with_logits");
  load_weights(*file.model, path("model.bin"));
  const std::vector<float> logits =
      file.model->predict(std::vector<float>{0.9f, -0.5f, 0.1f, 0.3f});

  const CliRun result = succeed({"predict", path("model.ini"), "--weights", path("model.bin"),
                                 "--input", path("sample.csv")});
  const std::vector<double> probabilities = parse_prediction(result.out).second;
  ASSERT_EQ(probabilities.size(), logits.size()) << result.out;
  for (size_t i = 0; i < logits.size(); ++i)
    EXPECT_NEAR(probabilities[i], 1.0 / (1.0 + std::exp(-logits[i])), 1e-4) << result.out;
}

TEST_F(Cli, PredictReadsAnImageOfAnIdxFileByIndex) {
  write_text(path("images.ini"), R"([Model]
Loss = cross
Epochs = 1
Batch_Size = 4
Save_Path = images.bin

[Optimizer]
Type = sgd
Learning_rate = 0.1

[train_set]
Type = idx
images = train-images-idx3-ubyte
labels = train-labels-idx1-ubyte

[input]
Type = input
Input_Shape = 1:4:4

[flat]
Type = flatten

[out]
Type = fully_connected
Unit = 4
Activation = softmax
)");
  // Image i is dark but for row i % 4, its class.
  auto pixel = [](size_t image, size_t p) -> uint8_t { return p / 4 == image % 4 ? 255 : 10; };
  write_bytes(path("train-images-idx3-ubyte"), idx_images(12, 4, 4, pixel));
  write_bytes(path("train-labels-idx1-ubyte"), idx_labels({0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}));
  write_gzip(path("t10k-images-idx3-ubyte.gz"), idx_images(3, 4, 4, pixel));
  succeed({"train", path("images.ini"), "--epochs", "30"});

  for (size_t index = 0; index < 3; ++index) {
    const CliRun result =
        succeed({"predict", path("images.ini"), "--weights", path("images.bin"), "--input",
                 path("t10k-images-idx3-ubyte.gz"), "--index", std::to_string(index)});
    EXPECT_EQ(parse_prediction(result.out).first, index) << result.out;
  }
  expect_error({"predict", path("images.ini"), "--weights", path("images.bin"), "--input",
                path("t10k-images-idx3-ubyte.gz"), "--index", "3"},
               "--index 3 is out of range");
}

// Two epochs, then two more from the last checkpoint, end with the weights of four epochs
// in one go (a copy of the files in another folder).
TEST_F(Cli, TrainResumesFromTheLastCheckpoint) {
  const std::string other = path("straight/");
  fs::create_directories(other);
  for (const char* name : {"model.ini", "train.csv", "test.csv"})
    fs::copy_file(path(name), other + name);
  succeed({"train", other + "model.ini", "--epochs", "4"});

  succeed({"train", path("model.ini"), "--epochs", "2"});
  const CliRun resumed =
      succeed({"train", path("model.ini"), "--epochs", "4", "--resume", path("model.last.ckpt")});
  EXPECT_FALSE(contains(resumed.out, "#1/4")) << resumed.out;
  EXPECT_FALSE(contains(resumed.out, "#2/4")) << resumed.out;
  EXPECT_TRUE(contains(resumed.out, "#3/4")) << resumed.out;
  EXPECT_TRUE(contains(resumed.out, "#4/4")) << resumed.out;
  EXPECT_EQ(read_bytes(path("model.bin")), read_bytes(other + "model.bin"));
}

// A classifier of feature rows: predictions without images; the --set of save_path wins
// over --run-dir; a run folder without metrics has no report.
TEST_F(Cli, RunFolderOfAFeatureClassifier) {
  const std::string folder = path("run");
  succeed({"train", path("model.ini"), "--no-progress", "--run-dir", folder, "--set",
           "save_path=" + path("elsewhere.bin")});
  EXPECT_TRUE(fs::exists(path("elsewhere.bin")));
  EXPECT_FALSE(fs::exists(folder + "/model.bin"));
  const std::string predictions = read_text(folder + "/predictions.json");
  EXPECT_TRUE(contains(predictions, "\"test_samples\": 20")) << predictions;
  EXPECT_TRUE(contains(predictions, "\"image\": null")) << predictions;
  EXPECT_FALSE(fs::exists(folder + "/predictions"));
  const std::string evaluation = read_text(folder + "/eval.json");
  EXPECT_TRUE(contains(evaluation, "\"classes\": [\"0\", \"1\", \"2\"]")) << evaluation;
  EXPECT_TRUE(
      contains(succeed({"report", folder}).out, "Report written to " + folder + "/report.html"));

  fs::remove(folder + "/metrics.csv");
  const CliRun no_metrics = run({"report", folder});
  EXPECT_EQ(no_metrics.exit_code, 1);
  EXPECT_TRUE(contains(no_metrics.err, "has no metrics CSV (" + folder + "/metrics.csv)"))
      << no_metrics.err;
}

TEST_F(Cli, ResumingARunFolderCheckpointContinuesInThatFolder) {
  const std::string folder = path("run");
  succeed({"train", path("model.ini"), "--no-progress", "--epochs", "1", "--run-dir", folder});
  const CliRun resumed = succeed({"train", path("model.ini"), "--no-progress", "--epochs", "2",
                                  "--resume", folder + "/model.last.ckpt"});
  EXPECT_TRUE(contains(resumed.out, "Run folder: " + folder + "\n")) << resumed.out;
  std::istringstream metrics(read_text(folder + "/metrics.csv"));
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(metrics, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << read_text(folder + "/metrics.csv");  // header, epochs 1 and 2
  EXPECT_EQ(lines[2].rfind("2,", 0), 0u) << lines[2];
}

TEST_F(Cli, ErrorsAreOneLineWithExitCodeOne) {
  write_text(path("bad.ini"), "[Model]\nEpochs = 3\nthis line has no equals sign\n");
  write_text(path("short.csv"), "0.1, 0.2, 0.3\n");
  write_text(path("words.csv"), "0.1, 0.2, x, 0.3\n");
  expect_error({"summary", path("missing.ini")}, path("missing.ini"));
  expect_error({"train", path("bad.ini")}, path("bad.ini") + ":3: ");
  expect_error({"train", path("model.ini"), "--set", "bogus_key=1"}, "bogus_key");
  expect_error({"eval", path("model.ini"), "--weights", path("missing.bin")}, path("missing.bin"));
  expect_error({"train", path("model.ini"), "--resume", path("missing.ckpt")},
               path("missing.ckpt"));

  succeed({"train", path("model.ini"), "--epochs", "1"});
  const std::vector<std::string> predict = {"predict", path("model.ini"), "--weights",
                                            path("model.bin"), "--input"};
  auto with_input = [&](const std::string& name) {
    std::vector<std::string> args = predict;
    args.push_back(path(name));
    return args;
  };
  expect_error(with_input("missing.csv"), path("missing.csv"));
  expect_error(with_input("short.csv"), "holds 3 values");
  expect_error(with_input("words.csv"), "'x' is not a number");
  write_floats(path("long.bin"), std::vector<float>(5, 0.5f));  // the model takes 4
  expect_error(with_input("long.bin"), "not one sample of raw float32");
  std::vector<std::string> csv_with_index = with_input("short.csv");
  csv_with_index.insert(csv_with_index.end(), {"--index", "1"});
  expect_error(csv_with_index, "--index");
  // The weights of another architecture.
  expect_error({"eval", path("model.ini"), "--set", "fc1.unit=8", "--weights", path("model.bin")},
               path("model.bin"));
}

// Ctrl-C during training: the step finishes, the last checkpoint is written and the tool
// exits with 130; resuming from that checkpoint finishes the run.
TEST_F(Cli, SigintStopsTrainingWithExitCode130AndALoadableCheckpoint) {
  const pid_t pid =
      start({"train", path("model.ini"), "--epochs", "100000", "--json", path("train.json")});
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!contains(read_text(out_path()), "#1/100000") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(kill(pid, SIGINT), 0);
  const CliRun result = wait_for(pid);
  EXPECT_EQ(result.exit_code, 130) << result.out << result.err;
  EXPECT_TRUE(contains(result.out, "Interrupted")) << result.out;
  EXPECT_FALSE(fs::exists(path("model.bin")));
  EXPECT_EQ(parse_flat_json(read_text(path("train.json"))).at("interrupted"), "true");

  ModelFile file = load_model();
  const CheckpointMetadata metadata = load_checkpoint(*file.model, path("model.last.ckpt"));
  const size_t completed = std::stoul(metadata.values.at("epochs_completed"));
  EXPECT_GE(completed, 1u);
  const std::string epochs = std::to_string(completed + 1);
  const CliRun resumed = succeed(
      {"train", path("model.ini"), "--epochs", epochs, "--resume", path("model.last.ckpt")});
  EXPECT_TRUE(contains(resumed.out, "#" + epochs + "/" + epochs + " - ")) << resumed.out;
  EXPECT_TRUE(fs::exists(path("model.bin")));
}

// ---------------------------------------------------------------- pictures

// A tiny convolutional VAE on 4x4 images, and a classifier of the same images into 3
// classes, on raw float and CSV files beside them.
constexpr const char* kConvVaeIni = R"(
[Model]
Type = NeuralNetwork
Epochs = 3
Batch_Size = 4
Save_Path = vae.bin
seed = 5
[Optimizer]
Type = adam
Learning_rate = 0.02
[train_set]
Type = file
path = images.dat
[test_set]
Type = file
path = test_images.dat
[image]
Type = input
Input_Shape = 1:4:4
[conv]
Type = conv2d
Filters = 2
Kernel_Size = 3,3
Stride = 2,2
Padding = 1,1
Activation = relu
[flat]
Type = flatten
[mu]
Type = fully_connected
Unit = 2
input_layers = flat
[logvar]
Type = fully_connected
Unit = 2
input_layers = flat
[z]
Type = reparametrize
input_layers = mu, logvar
[expand]
Type = fully_connected
Unit = 8
Activation = relu
[grid]
Type = reshape
Target_Shape = 2:2:2
[deconv]
Type = conv2dtranspose
Filters = 1
Kernel_Size = 4,4
Stride = 2,2
Padding = 1,1
[picture]
Type = activation
Activation = sigmoid
[loss]
Type = vae_loss
input_layers = picture, mu, logvar
)";

constexpr const char* kClassifierIni = R"(
[Model]
Loss = cross
Batch_Size = 8
seed = 3
[Optimizer]
Type = sgd
[test_set]
Type = csv
path = classes.csv
[image]
Type = input
Input_Shape = 1:4:4
[flat]
Type = flatten
[out]
Type = fully_connected
Unit = 3
)";

// Image i: one of three 4x4 patterns (top half, left half, diagonal).
std::vector<float> pattern(size_t i) {
  std::vector<float> image(16);
  for (size_t p = 0; p < 16; ++p) {
    const size_t row = p / 4, column = p % 4;
    image[p] = (i % 3 == 0 ? row < 2 : i % 3 == 1 ? column < 2 : row == column) ? 1.0f : 0.0f;
  }
  return image;
}

struct PngSize {
  uint32_t width = 0, height = 0;
  bool operator==(const PngSize&) const = default;
};

// Width and height from a PNG's IHDR chunk; zeros when it is not a PNG.
PngSize png_size(const std::string& path) {
  const std::string bytes = read_text(path);
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      bytes.compare(12, 4, "IHDR") != 0)
    return {};
  auto be32 = [&](size_t at) {
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<uint8_t>(bytes[at + i]);
    return value;
  };
  return {be32(16), be32(20)};
}

class CliPictures : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    write_text(path("vae.ini"), kConvVaeIni);
    write_text(path("classifier.ini"), kClassifierIni);
    // Raw float records: the image, then the target (the image again).
    auto records = [](size_t count, size_t offset) {
      std::vector<float> values;
      for (size_t i = 0; i < count; ++i)
        for (int copy = 0; copy < 2; ++copy) {
          const std::vector<float> image = pattern(i + offset);
          values.insert(values.end(), image.begin(), image.end());
        }
      return values;
    };
    write_floats(path("images.dat"), records(24, 0));
    write_floats(path("test_images.dat"), records(8, 1));
    std::ostringstream csv;
    for (size_t i = 0; i < 12; ++i) {
      for (float value : pattern(i)) csv << value << ",";
      csv << i % 3 << "\n";
    }
    write_text(path("classes.csv"), csv.str());
    ModelFile classifier = load_model_file(path("classifier.ini"));
    classifier.model->compile();
    classifier.model->initialize();
    save_weights(*classifier.model, path("classifier.bin"));
  }

  // Trains the VAE once per test; its weights are vae.bin.
  CliRun train_vae() {
    return succeed({"train", path("vae.ini"), "--no-progress", "--json", path("train.json")});
  }
};

TEST_F(CliPictures, HelpOfThePictureCommands) {
  for (const char* command : {"sample", "reconstruct", "score"}) {
    const CliRun result = run({command, "--help"});
    EXPECT_EQ(result.exit_code, 0) << command << result.err;
    EXPECT_TRUE(contains(result.out, "Usage")) << result.out;
  }
  EXPECT_TRUE(contains(run({"sample", "--help"}).out, "--from"));
  EXPECT_TRUE(contains(run({"score", "--help"}).out, "--samples-from"));
}

TEST_F(CliPictures, TrainingAVaeWritesReconstructionsAndSamplesBesideTheWeights) {
  const CliRun result = train_vae();
  const std::string reconstructions = path("vae.reconstructions.png");
  const std::string samples = path("vae.samples.png");
  EXPECT_TRUE(contains(result.out, "Reconstructions: " + reconstructions)) << result.out;
  EXPECT_TRUE(contains(result.out, "Samples: " + samples)) << result.out;
  // The 8 test images in pairs, 3 pairs a row: 6 tiles of 4 px, 1 px inside a pair, 2
  // between pairs and rows, 1 around.
  EXPECT_EQ(png_size(reconstructions),
            (PngSize{1 + 6 * 4 + 3 * 1 + 2 * 2 + 1, 1 + 3 * 4 + 2 * 2 + 1}));
  // 64 samples, 8 by 8.
  EXPECT_EQ(png_size(samples), (PngSize{1 + 8 * 4 + 7 + 1, 1 + 8 * 4 + 7 + 1}));
  const auto json = parse_flat_json(read_text(path("train.json")));
  EXPECT_EQ(json.at("samples"), samples);
  EXPECT_EQ(json.at("reconstructions"), reconstructions);
  // A classifier gets no pictures.
  EXPECT_FALSE(contains(succeed({"train", path("model.ini")}).out, "Samples:"));
  EXPECT_FALSE(fs::exists(path("model.samples.png")));
}

TEST_F(CliPictures, AVaeRunFolderReportsLossesAndPicturesWithoutAccuracy) {
  const std::string folder = path("vae_run");
  succeed({"train", path("vae.ini"), "--no-progress", "--run-dir", folder});
  for (const char* file : {"metrics.csv", "eval.json", "memory.csv", "settings.ini", "vae.bin",
                           "vae.samples.png", "vae.reconstructions.png"})
    EXPECT_TRUE(fs::exists(folder + "/" + file)) << file;
  // No classes: no confusion matrix, no predictions.
  EXPECT_FALSE(contains(read_text(folder + "/eval.json"), "confusion_matrix"));
  EXPECT_FALSE(fs::exists(folder + "/predictions.json"));
  succeed({"report", folder});
  const std::string html = read_text(folder + "/report.html");
  EXPECT_TRUE(contains(html, "id=\"loss-chart\""));
  EXPECT_TRUE(contains(html, "<figcaption>vae.samples.png</figcaption>"));
  EXPECT_FALSE(contains(html, "id=\"accuracy-chart\""));
  EXPECT_FALSE(contains(html, "id=\"confusion-matrix\""));
}

TEST_F(CliPictures, SampleDrawsASeededGrid) {
  train_vae();
  const CliRun result = succeed({"sample", path("vae.ini"), "--weights", path("vae.bin"), "-n",
                                 "10", "--seed", "3", "-o", path("a.png")});
  EXPECT_TRUE(contains(result.out, "10 samples written to " + path("a.png"))) << result.out;
  EXPECT_EQ(png_size(path("a.png")), (PngSize{1 + 4 * 4 + 3 + 1, 1 + 3 * 4 + 2 + 1}));
  succeed({"sample", path("vae.ini"), "--weights", path("vae.bin"), "-n", "10", "--seed", "3", "-o",
           path("b.png")});
  succeed({"sample", path("vae.ini"), "--weights", path("vae.bin"), "-n", "10", "--seed", "4",
           "--from", "z", "--output", "picture", "-o", path("c.png")});
  EXPECT_EQ(read_text(path("a.png")), read_text(path("b.png")));
  EXPECT_NE(read_text(path("a.png")), read_text(path("c.png")));
}

TEST_F(CliPictures, ReconstructPairsTestImagesWithTheirReconstructions) {
  train_vae();
  const CliRun result = succeed({"reconstruct", path("vae.ini"), "--weights", path("vae.bin"), "-n",
                                 "4", "-o", path("r.png")});
  EXPECT_TRUE(
      contains(result.out, "4 images and their reconstructions written to " + path("r.png")))
      << result.out;
  EXPECT_EQ(png_size(path("r.png")), (PngSize{1 + 4 * 4 + 2 * 1 + 2 + 1, 1 + 2 * 4 + 2 + 1}));
}

TEST_F(CliPictures, ScoreOfSamplesAndOfRealImages) {
  train_vae();
  const CliRun result =
      succeed({"score", "--classifier", path("classifier.ini"), "--classifier-weights",
               path("classifier.bin"), "--samples-from", path("vae.ini"), "--weights",
               path("vae.bin"), "-n", "50", "--real", "--json", path("score.json")});
  EXPECT_TRUE(contains(result.out, "Inception score of 50 samples from " + path("vae.ini") + ": "))
      << result.out;
  EXPECT_TRUE(contains(result.out, "Inception score of 12 real images: ")) << result.out;
  const auto json = parse_flat_json(read_text(path("score.json")));
  EXPECT_EQ(number(json, "classes"), 3.0);
  EXPECT_EQ(number(json, "real_images"), 12.0);
  for (const char* key : {"samples_score", "real_score"}) {
    EXPECT_GE(number(json, key), 1.0) << key;
    EXPECT_LE(number(json, key), 3.0) << key;
  }
  // Real images only.
  const CliRun real =
      succeed({"score", "--classifier", path("classifier.ini"), "--classifier-weights",
               path("classifier.bin"), "--real", "-n", "6"});
  EXPECT_TRUE(contains(real.out, "Inception score of 6 real images: ")) << real.out;
  EXPECT_FALSE(contains(real.out, "samples")) << real.out;
}

TEST_F(CliPictures, Errors) {
  train_vae();
  const std::string vae = path("vae.ini"), weights = path("vae.bin");
  expect_error(
      {"sample", path("classifier.ini"), "--weights", path("classifier.bin"), "-o", path("s.png")},
      path("classifier.ini") +
          ": no reparametrize layer to sample from; name the layer with --from");
  expect_error({"sample", vae, "--weights", weights, "--from", "nope", "-o", path("s.png")},
               "no layer named 'nope'");
  expect_error(
      {"sample", vae, "--weights", weights, "--from", "z", "--output", "mu", "-o", path("s.png")},
      "the output of layer 'mu' is not computed from layer 'z' alone");
  expect_error({"sample", vae, "--weights", weights, "-o", path("no/dir/s.png")},
               path("no/dir/s.png"));
  expect_error({"reconstruct", path("classifier.ini"), "--weights", path("classifier.bin"), "-o",
                path("r.png")},
               "reconstruct needs an autoencoder");
  write_text(path("mse.ini"),
             std::regex_replace(kClassifierIni, std::regex("Loss = cross"), "Loss = mse"));
  expect_error({"score", "--classifier", path("mse.ini"), "--classifier-weights",
                path("classifier.bin"), "--real"},
               path("mse.ini") + ": the classifier's outputs are not probabilities");
  write_text(path("wide.ini"), std::regex_replace(kClassifierIni, std::regex("1:4:4"), "1:4:5"));
  ModelFile wide = load_model_file(path("wide.ini"));
  wide.model->compile();
  wide.model->initialize();
  save_weights(*wide.model, path("wide.bin"));
  expect_error(
      {"score", "--classifier", path("wide.ini"), "--classifier-weights", path("wide.bin"),
       "--samples-from", vae, "--weights", weights},
      vae + " generates samples of 1:1:4:4; the classifier " + path("wide.ini") + " takes 1:1:4:5");
  // Nothing to score, or samples without weights: usage errors.
  EXPECT_EQ(run({"score", "--classifier", path("classifier.ini"), "--classifier-weights",
                 path("classifier.bin")})
                .exit_code,
            2);
  EXPECT_EQ(run({"score", "--classifier", path("classifier.ini"), "--classifier-weights",
                 path("classifier.bin"), "--samples-from", vae})
                .exit_code,
            2);
  EXPECT_EQ(run({"sample", vae, "--weights", weights}).exit_code, 2);  // no -o
}

// ---------------------------------------------------------------- --stream

constexpr const char* kFashion = "/usr/share/datasets/fashion-mnist/";

// The first `count` records of a gzip IDX file (`record` bytes each after a header of
// `header` bytes) as a new gzip IDX file declaring `count` records.
void write_idx_prefix(const std::string& from, const std::string& to, size_t header, size_t record,
                      uint32_t count) {
  gzFile in = gzopen(from.c_str(), "rb");
  ASSERT_NE(in, nullptr) << from;
  std::vector<uint8_t> bytes(header + record * count);
  const int got = gzread(in, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(in);
  ASSERT_EQ(got, static_cast<int>(bytes.size())) << from;
  for (int i = 0; i < 4; ++i) bytes[4 + i] = static_cast<uint8_t>(count >> (24 - 8 * i));
  write_gzip(to, bytes);
}

// A small MLP on the first 2,000 Fashion-MNIST training images (a tenth for validation)
// and the first 500 test images.
constexpr const char* kFashionMlp = R"([Model]
Type = NeuralNetwork
Loss = cross
Epochs = 2
Batch_Size = 32
seed = 4
[Optimizer]
Type = adam
Learning_rate = 0.001
[train_set]
Type = idx
images = train-images.gz
labels = train-labels.gz
validation_split = 0.1
[test_set]
Type = idx
images = test-images.gz
labels = test-labels.gz
[input]
Type = input
Input_Shape = 1:1:784
[fc1]
Type = fully_connected
Unit = 32
Activation = relu
[out]
Type = fully_connected
Unit = 10
Activation = softmax
)";

TEST_F(Cli, StreamTrainsTheSameWeightsAsInMemoryData) {
  if (!fs::exists(std::string(kFashion) + "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << kFashion;
  write_idx_prefix(std::string(kFashion) + "train-images-idx3-ubyte.gz", path("train-images.gz"),
                   16, 784, 2000);
  write_idx_prefix(std::string(kFashion) + "train-labels-idx1-ubyte.gz", path("train-labels.gz"), 8,
                   1, 2000);
  write_idx_prefix(std::string(kFashion) + "t10k-images-idx3-ubyte.gz", path("test-images.gz"), 16,
                   784, 500);
  write_idx_prefix(std::string(kFashion) + "t10k-labels-idx1-ubyte.gz", path("test-labels.gz"), 8,
                   1, 500);
  write_text(path("mlp.ini"), kFashionMlp);
  const std::string cache = path("cache");
  const char* saved = std::getenv("EDGETRAIN_CACHE_DIR");
  const std::string previous = saved ? saved : "";
  ::setenv("EDGETRAIN_CACHE_DIR", cache.c_str(), 1);

  auto train = [&](const std::string& name, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"train",
                                     path("mlp.ini"),
                                     "--no-progress",
                                     "--json",
                                     path(name + ".json"),
                                     "--set",
                                     "save_path=" + path(name + ".bin")};
    args.insert(args.end(), extra.begin(), extra.end());
    succeed(args);
    return parse_flat_json(read_text(path(name + ".json")));
  };
  const auto memory = train("memory", {});
  EXPECT_FALSE(fs::exists(cache));  // nothing streamed, nothing cached
  const auto streamed = train("streamed", {"--stream"});
  // The images caches, one per gzip images file; the labels are read into memory.
  size_t caches = 0;
  for (const auto& entry : fs::directory_iterator(cache)) {
    EXPECT_TRUE(entry.path().string().ends_with("-images.cache")) << entry.path();
    ++caches;
  }
  EXPECT_EQ(caches, 2u);
  // The same keys in a section stream too, and reuse the caches.
  const auto keyed =
      train("keyed", {"--set", "train_set.stream=true", "--set", "test_set.stream=true", "--set",
                      "train_set.cache_dir=" + cache, "--set", "test_set.cache_dir=" + cache});
  if (saved)
    ::setenv("EDGETRAIN_CACHE_DIR", previous.c_str(), 1);
  else
    ::unsetenv("EDGETRAIN_CACHE_DIR");

  const std::vector<uint8_t> weights = read_bytes(path("memory.bin"));
  ASSERT_FALSE(weights.empty());
  EXPECT_TRUE(read_bytes(path("streamed.bin")) == weights);
  EXPECT_TRUE(read_bytes(path("keyed.bin")) == weights);
  for (const char* key :
       {"loss", "accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy"}) {
    EXPECT_EQ(number(streamed, key), number(memory, key)) << key;
    EXPECT_EQ(number(keyed, key), number(memory, key)) << key;
  }
  // eval streams too.
  const CliRun eval = succeed({"eval", path("mlp.ini"), "--weights", path("memory.bin"), "--stream",
                               "--json", path("eval.json")});
  EXPECT_EQ(number(parse_flat_json(read_text(path("eval.json"))), "loss"),
            number(memory, "test_loss"));
}

TEST_F(Cli, StreamKeepsCsvInMemoryAndSaysSo) {
  const CliRun result = succeed({"train", path("model.ini"), "--stream", "--no-progress"});
  EXPECT_TRUE(contains(result.err, "--stream")) << result.err;
  EXPECT_TRUE(contains(result.err, "csv data sets are read into memory")) << result.err;
  expect_error({"train", path("model.ini"), "--set", "train_set.stream=true"},
               "Type = csv does not stream");
}

}  // namespace
}  // namespace edgetrain::testing
