// The command line on an image folder, end to end: train a tiny classifier for one epoch
// (validating on the split's validation part), evaluate it on the saved test part (the
// per-class report by class name), and predict an image's class by name.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "edgetrain/data.h"
#include "edgetrain/rng.h"
#include "support/cli_run.h"
#include "support/data_files.h"
#include "support/image_files.h"

namespace edgetrain::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kModelIni = R"([Model]
Loss = cross
Epochs = 1
Batch_Size = 8
Save_Path = run/colours.bin
seed = 4

[Optimizer]
Type = adam
Learning_rate = 0.05

[train_set]
Type = image_folder
path = colours
validation_split = 0.2
test_split = 0.2
augment = flip, crop
crop_padding = 1
normalize_mean = 0.5
normalize_std = 0.5

[input]
Type = input
Input_Shape = 3:8:8
Flatten = true

[out]
Type = fully_connected
Unit = 3
Activation = softmax
)";

// 8x8 RGB images, mostly one colour with noise: red, green or blue by class.
void write_colour_image(const std::string& path, size_t colour, Rng& rng) {
  std::vector<uint8_t> pixels;
  for (size_t p = 0; p < 64; ++p)
    for (size_t c = 0; c < 3; ++c)
      pixels.push_back(static_cast<uint8_t>(c == colour ? rng.uniform(150.0f, 255.0f)
                                                        : rng.uniform(0.0f, 80.0f)));
  if (path.ends_with(".png"))
    write_png(path, 8, 8, 3, pixels);
  else
    write_jpeg(path, 8, 8, pixels, 90);
}

TEST(CliImageFolder, TrainsEvaluatesOnTheSavedTestSplitAndPredictsClassNames) {
  const std::string dir = fresh_temp_dir();
  write_text(dir + "model.ini", kModelIni);
  Rng rng(1);
  const char* names[] = {"blue", "green", "red"};
  const size_t colours[] = {2, 1, 0};
  for (size_t k = 0; k < 3; ++k)
    for (size_t i = 0; i < 10; ++i)
      write_colour_image(
          dir + "colours/" + names[k] + "/" + std::to_string(i) + (i % 2 ? ".jpg" : ".png"),
          colours[k], rng);

  const CliRun train = run_cli(dir, {"train", dir + "model.ini", "--no-progress"});
  ASSERT_EQ(train.exit_code, 0) << train.out << train.err;
  EXPECT_NE(train.out.find("Training on 18 samples, validating on 6"), std::string::npos)
      << train.out;
  EXPECT_NE(train.out.find("Test Loss"), std::string::npos) << train.out;
  const std::string split_path = dir + "run/colours.split.txt";
  const ImageFolderSplitFile split = read_split_file(split_path);
  EXPECT_EQ(split.classes, (std::vector<std::string>{"blue", "green", "red"}));
  EXPECT_EQ(split.test.size(), 6u);

  // eval reads the saved split, even after the folder has grown.
  write_colour_image(dir + "colours/red/extra.png", 0, rng);
  const CliRun eval = run_cli(dir, {"eval", dir + "model.ini", "--weights", dir + "run/colours.bin",
                                    "--json", dir + "eval.json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.out << eval.err;
  EXPECT_NE(eval.out.find("(6 samples)"), std::string::npos) << eval.out;
  EXPECT_EQ(read_split_file(split_path).test, split.test);
  // The per-class table and JSON name the classes by their folders.
  for (const char* row : {"\nblue ", "\ngreen ", "\nred "})
    EXPECT_NE(eval.out.find(row), std::string::npos) << row << " in:\n" << eval.out;
  EXPECT_TRUE(std::regex_search(read_text(dir + "eval.json"),
                                std::regex(R"("per_class": \[\{"name": "blue", .*\}, )"
                                           R"(\{"name": "green", .*\}, \{"name": "red", )")))
      << read_text(dir + "eval.json");

  // predict prints class names for an image file.
  const CliRun predict =
      run_cli(dir, {"predict", dir + "model.ini", "--weights", dir + "run/colours.bin", "--input",
                    dir + "colours/red/0.png"});
  ASSERT_EQ(predict.exit_code, 0) << predict.out << predict.err;
  EXPECT_TRUE(
      std::regex_search(predict.out, std::regex(R"(^class (blue|green|red) \([0-9.]+\)\n)")))
      << predict.out;
  for (const char* row : {"\n  0 blue: ", "\n  1 green: ", "\n  2 red: "})
    EXPECT_NE(predict.out.find(row), std::string::npos) << predict.out;

  // A model whose output does not match the classes fails naming both numbers.
  const CliRun mismatch = run_cli(dir, {"train", dir + "model.ini", "--set", "out.unit=4"});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.err.find("3 classes (blue, green, red) but the model's output has 4 units"),
            std::string::npos)
      << mismatch.err;
}

// train --run-dir puts the whole run in one folder, whatever the model file's save_path;
// report turns it into one HTML page.
TEST(CliImageFolder, RunFolderHoldsTheRunAndReportMakesItsPage) {
  const std::string dir = fresh_temp_dir();
  write_text(dir + "model.ini", kModelIni);
  Rng rng(1);
  const char* names[] = {"blue", "green", "red"};
  for (size_t k = 0; k < 3; ++k)
    for (size_t i = 0; i < 10; ++i)
      write_colour_image(dir + "colours/" + names[k] + "/" + std::to_string(i) + ".png", 2 - k,
                         rng);

  const std::string run = dir + "the run/";
  const CliRun train = run_cli(
      dir, {"train", dir + "model.ini", "--no-progress", "--run-dir", run, "--set", "epochs=2"});
  ASSERT_EQ(train.exit_code, 0) << train.out << train.err;
  for (const char* file :
       {"settings.ini", "metrics.csv", "train.json", "eval.json", "memory.csv", "predictions.json",
        "split.txt", "model.bin", "model.best.ckpt", "model.last.ckpt"})
    EXPECT_TRUE(fs::exists(run + file)) << file << "\n" << train.out;
  EXPECT_FALSE(fs::exists(dir + "run/colours.bin"));
  EXPECT_EQ(read_split_file(run + "split.txt").classes,
            (std::vector<std::string>{"blue", "green", "red"}));
  const std::string settings = read_text(run + "settings.ini");
  EXPECT_NE(settings.find("Type = image_folder"), std::string::npos) << settings;
  EXPECT_NE(settings.find("#   epochs=2\n"), std::string::npos) << settings;
  std::istringstream metrics(read_text(run + "metrics.csv"));
  std::string line;
  size_t lines = 0;
  while (std::getline(metrics, line)) ++lines;
  EXPECT_EQ(lines, 3u);  // header and two epochs
  const std::string evaluation = read_text(run + "eval.json");
  EXPECT_NE(evaluation.find("\"classes\": [\"blue\", \"green\", \"red\"]"), std::string::npos)
      << evaluation;
  EXPECT_NE(evaluation.find("\"confusion_matrix\": [["), std::string::npos) << evaluation;
  EXPECT_EQ(read_text(run + "memory.csv").rfind("layer,type,weights,optimizer_state,", 0), 0u);
  const std::string predictions = read_text(run + "predictions.json");
  EXPECT_NE(predictions.find("\"test_samples\": 6"), std::string::npos) << predictions;
  const std::smatch image = [&] {
    std::smatch match;
    std::regex_search(predictions, match, std::regex("\"image\": \"(predictions/[0-9]+\\.png)\""));
    return match;
  }();
  ASSERT_FALSE(image.empty()) << predictions;
  EXPECT_TRUE(fs::exists(run + image[1].str()));

  const CliRun report = run_cli(dir, {"report", run});
  ASSERT_EQ(report.exit_code, 0) << report.out << report.err;
  const std::string html = read_text(run + "report.html");
  for (const char* part : {"id=\"confusion-matrix\"", "id=\"prediction-grid\"",
                           "id=\"memory-table\"", "data:image/png;base64,"})
    EXPECT_NE(html.find(part), std::string::npos) << part;
  const CliRun elsewhere = run_cli(dir, {"report", run, "-o", dir + "page.html"});
  ASSERT_EQ(elsewhere.exit_code, 0) << elsewhere.err;
  EXPECT_TRUE(fs::exists(dir + "page.html"));

  const CliRun missing = run_cli(dir, {"report", dir + "nowhere"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find(dir + "nowhere does not exist"), std::string::npos) << missing.err;
}

// Without --run-dir a new folder under $EDGETRAIN_RUNS_DIR (else runs/) takes the run; the
// model file's own save_path still gets the weights.
TEST(CliImageFolder, TrainingWithoutRunDirMakesANewRunFolder) {
  const std::string dir = fresh_temp_dir();
  write_text(dir + "model.ini", kModelIni);
  Rng rng(2);
  const char* names[] = {"blue", "green", "red"};
  for (size_t k = 0; k < 3; ++k)
    for (size_t i = 0; i < 10; ++i)
      write_colour_image(dir + "colours/" + names[k] + "/" + std::to_string(i) + ".png", 2 - k,
                         rng);
  const CliRun train = run_cli(dir, {"train", dir + "model.ini", "--no-progress"});
  ASSERT_EQ(train.exit_code, 0) << train.out << train.err;
  std::smatch folder;
  ASSERT_TRUE(std::regex_search(train.out, folder,
                                std::regex("Run folder: (.*runs/model-[0-9]{8}-[0-9]{6})\n")))
      << train.out;
  EXPECT_EQ(fs::path(folder[1].str()).parent_path(), fs::path(dir + "runs"));
  EXPECT_TRUE(fs::exists(dir + "run/colours.bin"));
  for (const char* file : {"metrics.csv", "eval.json", "split.txt", "settings.ini"})
    EXPECT_TRUE(fs::exists(folder[1].str() + "/" + file)) << file;
}

}  // namespace
}  // namespace edgetrain::testing
