// show-batch on the command line: the first training batch of an image folder as the
// loader feeds it (augmented, seeded, normalization undone, labelled by class name), of
// IDX files (plain images labelled by index), and its errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "edgetrain/image_grid.h"
#include "edgetrain/rng.h"
#include "support/cli_run.h"
#include "support/data_files.h"
#include "support/image_files.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace edgetrain::testing {
namespace {

namespace fs = std::filesystem;

// 8x8 RGB images of three colours, augmented and normalized, 4 to a batch.
constexpr const char* kImageFolderIni = R"([Model]
Loss = cross
Batch_Size = 4
Save_Path = run/colours.bin
seed = 4

[Optimizer]
Type = adam

[train_set]
Type = image_folder
path = colours
augment = crop, noise
crop_padding = 1
noise_std = 0.05
normalize_mean = 0.5
normalize_std = 0.5

[input]
Type = input
Input_Shape = 3:8:8
Flatten = true

[out]
Type = fully_connected
Unit = 3
)";

// 4x4 grayscale IDX images of 4 classes.
constexpr const char* kIdxIni = R"([Model]
Loss = cross
Batch_Size = 4
seed = 1

[Optimizer]
Type = adam

[train_set]
Type = idx
images = train-images-idx3-ubyte
labels = train-labels-idx1-ubyte

[input]
Type = input
Input_Shape = 1:4:4
Flatten = true

[out]
Type = fully_connected
Unit = 4
)";

struct Png {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
  uint8_t at(int x, int y, int c) const { return pixels[(y * width + x) * channels + c]; }
};

Png read_png(const std::string& path) {
  Png png;
  std::unique_ptr<uint8_t, void (*)(void*)> data(
      stbi_load(path.c_str(), &png.width, &png.height, &png.channels, 0), stbi_image_free);
  EXPECT_NE(data, nullptr) << path << ": " << stbi_failure_reason();
  if (data) png.pixels.assign(data.get(), data.get() + png.width * png.height * png.channels);
  return png;
}

// The labels show-batch printed, in tile order.
std::vector<std::string> printed_labels(const std::string& out) {
  std::smatch match;
  if (!std::regex_search(out, match, std::regex("\nLabels:([^\n]*)\n"))) return {};
  std::istringstream words(match[1].str());
  std::vector<std::string> labels;
  for (std::string word; words >> word;) labels.push_back(word);
  return labels;
}

class CliShowBatch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir();
    write_text(dir_ + "model.ini", kImageFolderIni);
    Rng rng(1);
    for (size_t colour = 0; colour < 3; ++colour)
      for (size_t i = 0; i < 4; ++i) {
        std::vector<uint8_t> pixels;
        for (size_t p = 0; p < 64; ++p)
          for (size_t c = 0; c < 3; ++c)
            pixels.push_back(static_cast<uint8_t>(c == colour ? rng.uniform(180.0f, 255.0f)
                                                              : rng.uniform(20.0f, 60.0f)));
        write_png(dir_ + "colours/" + kColours[colour] + "/" + std::to_string(i) + ".png", 8, 8, 3,
                  pixels);
      }
  }

  CliRun succeed(const std::vector<std::string>& args) {
    CliRun run = run_cli(dir_, args);
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    return run;
  }

  void expect_error(const std::vector<std::string>& args, const std::string& message) {
    const CliRun run = run_cli(dir_, args);
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_NE(run.err.find(message), std::string::npos) << run.err;
  }

  // Class folder names in class order; class c is mostly colour channel c.
  static constexpr const char* kColours[] = {"a_red", "b_green", "c_blue"};
  std::string dir_;
};

// 8x8 images scaled 6 times to 48 pixels (kLabeledTileMinWidth), a label strip under
// each, 2 x 2 tiles with 1-pixel separators.
constexpr int kTile = 48;
constexpr int kGridWidth = 1 + 2 * (kTile + 1);
constexpr int kGridHeight = 1 + 2 * (kTile + static_cast<int>(kLabelStripHeight) + 1);
constexpr int tile_left(int tile) { return 1 + (tile % 2) * (kTile + 1); }
constexpr int tile_top(int tile) {
  return 1 + (tile / 2) * (kTile + static_cast<int>(kLabelStripHeight) + 1);
}

TEST_F(CliShowBatch, WritesTheAugmentedBatchLabelledByClassName) {
  const CliRun run = succeed({"show-batch", "model.ini", "-o", "a.png", "--seed", "1"});
  EXPECT_NE(run.out.find("4 training images (augmented) written to a.png"), std::string::npos)
      << run.out;
  const std::vector<std::string> labels = printed_labels(run.out);
  ASSERT_EQ(labels.size(), 4u) << run.out;

  const Png png = read_png(dir_ + "a.png");
  ASSERT_EQ(png.channels, 3);
  ASSERT_EQ(png.width, kGridWidth);
  ASSERT_EQ(png.height, kGridHeight);
  for (int tile = 0; tile < 4; ++tile) {
    size_t colour = 0;
    while (colour < 3 && labels[tile] != kColours[colour]) ++colour;
    ASSERT_LT(colour, 3u) << labels[tile];
    // The normalization is undone: the image's own colour is bright and the others dim
    // but not black (normalized, they would be below 0 and clamp to black). The centre
    // avoids the black border a crop may shift in.
    double mean[3] = {0, 0, 0};
    for (int y = 12; y < 36; ++y)
      for (int x = 12; x < 36; ++x)
        for (int c = 0; c < 3; ++c)
          mean[c] += png.at(tile_left(tile) + x, tile_top(tile) + y, c) / (24.0 * 24.0);
    for (size_t c = 0; c < 3; ++c) {
      if (c == colour) {
        EXPECT_GT(mean[c], 160.0) << "tile " << tile << " channel " << c;
      } else {
        EXPECT_GT(mean[c], 10.0) << "tile " << tile << " channel " << c;
        EXPECT_LT(mean[c], 80.0) << "tile " << tile << " channel " << c;
      }
    }
    // The label: black text on the white strip under the image.
    size_t text_pixels = 0;
    for (int y = kTile; y < kTile + static_cast<int>(kLabelStripHeight); ++y)
      for (int x = 0; x < kTile; ++x)
        text_pixels += png.at(tile_left(tile) + x, tile_top(tile) + y, 0) == 0;
    EXPECT_GT(text_pixels, 10u) << "tile " << tile;
  }

  // The same seed, the same batch; another seed, another shuffle and augmentation.
  succeed({"show-batch", "model.ini", "-o", "b.png", "--seed", "1"});
  succeed({"show-batch", "model.ini", "-o", "c.png", "--seed", "2"});
  EXPECT_EQ(read_png(dir_ + "b.png").pixels, png.pixels);
  EXPECT_NE(read_png(dir_ + "c.png").pixels, png.pixels);
}

TEST_F(CliShowBatch, DefaultsToTheFirstBatchOfTrainingInShowBatchPng) {
  const CliRun run = succeed({"show-batch", "model.ini"});
  EXPECT_NE(run.out.find("written to show_batch.png"), std::string::npos) << run.out;
  EXPECT_TRUE(fs::exists(dir_ + "show_batch.png"));
  // Without --seed, the model's seed (4), as training draws it.
  succeed({"show-batch", "model.ini", "--seed", "4", "-o", "seed4.png"});
  EXPECT_EQ(read_png(dir_ + "seed4.png").pixels, read_png(dir_ + "show_batch.png").pixels);
  // --count picks how many: 3 tiles, 2 a row.
  const CliRun three = succeed({"show-batch", "model.ini", "--count", "3", "-o", "three.png"});
  EXPECT_EQ(printed_labels(three.out).size(), 3u) << three.out;
  const Png png = read_png(dir_ + "three.png");
  EXPECT_EQ(png.width, kGridWidth);
  EXPECT_EQ(png.height, kGridHeight);
}

TEST_F(CliShowBatch, IdxImagesArePlainAndLabelledByIndex) {
  write_text(dir_ + "idx.ini", kIdxIni);
  write_bytes(dir_ + "train-images-idx3-ubyte",
              idx_images(8, 4, 4, [](size_t image, size_t) { return uint8_t(image * 30); }));
  write_bytes(dir_ + "train-labels-idx1-ubyte", idx_labels({0, 1, 2, 3, 0, 1, 2, 3}));
  const CliRun run = succeed({"show-batch", "idx.ini", "-o", "idx.png"});
  EXPECT_NE(run.out.find("4 training images written to idx.png"), std::string::npos) << run.out;
  const std::vector<std::string> labels = printed_labels(run.out);
  ASSERT_EQ(labels.size(), 4u) << run.out;
  // 4x4 images scaled 12 times to 48 pixels: the grid of the image folder's, in gray.
  const Png png = read_png(dir_ + "idx.png");
  ASSERT_EQ(png.channels, 1);
  ASSERT_EQ(png.width, kGridWidth);
  ASSERT_EQ(png.height, kGridHeight);
  for (int tile = 0; tile < 4; ++tile) {
    ASSERT_TRUE(std::regex_match(labels[tile], std::regex("[0-3]"))) << labels[tile];
    // Image i is all i * 30, and its label i % 4.
    const int value = png.at(tile_left(tile) + 20, tile_top(tile) + 20, 0);
    EXPECT_EQ(value % 30, 0) << "tile " << tile;
    EXPECT_EQ(std::to_string(value / 30 % 4), labels[tile]) << "tile " << tile;
  }
}

TEST_F(CliShowBatch, ErrorsAndHelp) {
  write_text(dir_ + "no_train.ini", R"([Model]
Loss = cross
[input]
Type = input
Input_Shape = 3:8:8
Flatten = true
[out]
Type = fully_connected
Unit = 3
)");
  expect_error({"show-batch", "no_train.ini"},
               "no_train.ini: no [train_set] section: no training batch to show");
  write_text(dir_ + "flat.ini", std::regex_replace(kImageFolderIni, std::regex("3:8:8"), "1:1:64"));
  expect_error({"show-batch", "flat.ini"},
               "flat.ini: the model's input is 1:1:64, not an image; show-batch needs");
  expect_error({"show-batch", "model.ini", "-o", "no/such/dir/batch.png"}, "no/such/dir/batch.png");
  EXPECT_EQ(run_cli(dir_, {"show-batch", "model.ini", "--count", "0"}).exit_code, 2);
  const CliRun help = succeed({"show-batch", "--help"});
  EXPECT_NE(help.out.find("--seed"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace edgetrain::testing
