// PNG grids, read back with stb_image: size, tile placement, separators, pairs, RGB,
// clamping, labels under the tiles, and errors naming the file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/image_grid.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#include <stb/stb_easy_font.h>
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace edgetrain::testing {
namespace {

namespace fs = std::filesystem;

struct Png {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
  uint8_t at(int x, int y, int c = 0) const { return pixels[(y * width + x) * channels + c]; }
};

Png read_png(const std::string& path) {
  Png png;
  std::unique_ptr<uint8_t, void (*)(void*)> data(
      stbi_load(path.c_str(), &png.width, &png.height, &png.channels, 0), stbi_image_free);
  EXPECT_NE(data, nullptr) << path << ": " << stbi_failure_reason();
  if (data) png.pixels.assign(data.get(), data.get() + png.width * png.height * png.channels);
  return png;
}

class PngGrid : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("edgetrain_png_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

void expect_error_naming(const std::function<void()>& call, const std::string& path,
                         const std::string& part) {
  try {
    call();
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

TEST_F(PngGrid, TilesGrayImagesRowByRowWithSeparators) {
  // Two 2x3 images: the first 0, 0.5, 1, ...; the second all 1.
  std::vector<float> images = {0.0f, 0.5f, 1.0f, 0.25f, 0.75f, 1.0f, 1, 1, 1, 1, 1, 1};
  write_image_grid(path("grid.png"), images, 2,
                   {.channels = 1, .height = 2, .width = 3, .columns = 2});
  const Png png = read_png(path("grid.png"));
  ASSERT_EQ(png.channels, 1);
  EXPECT_EQ(png.width, 1 + 3 + 1 + 3 + 1);
  EXPECT_EQ(png.height, 1 + 2 + 1);
  EXPECT_EQ(png.at(0, 0), 128);  // border
  EXPECT_EQ(png.at(1, 1), 0);
  EXPECT_EQ(png.at(2, 1), 128);  // 0.5 * 255 rounds to 128
  EXPECT_EQ(png.at(3, 1), 255);
  EXPECT_EQ(png.at(1, 2), 64);
  EXPECT_EQ(png.at(2, 2), 191);
  EXPECT_EQ(png.at(4, 1), 128);  // between the tiles
  for (int x = 5; x < 8; ++x)
    for (int y = 1; y < 3; ++y) EXPECT_EQ(png.at(x, y), 255);
  EXPECT_EQ(png.at(8, 2), 128);
}

TEST_F(PngGrid, PicksAboutSquareGridAndLeavesUnusedCellsGray) {
  std::vector<float> images(5 * 4, 1.0f);
  write_image_grid(path("grid.png"), images, 5,
                   {.channels = 1, .height = 2, .width = 2, .separator = 2});
  const Png png = read_png(path("grid.png"));
  // ceil(sqrt(5)) = 3 columns, 2 rows.
  EXPECT_EQ(png.width, 2 + 3 * 2 + 2 * 2 + 2);
  EXPECT_EQ(png.height, 2 + 2 * 2 + 2 + 2);
  EXPECT_EQ(png.at(2, 2), 255);          // first tile
  EXPECT_EQ(png.at(2 + 4 * 2, 6), 128);  // the empty sixth cell
  EXPECT_EQ(png.at(2 + 4, 6), 255);      // the fifth tile
}

TEST_F(PngGrid, PairsStandTogether) {
  // Three 2x2 originals (0) and reconstructions (1), two pairs per row.
  std::vector<float> originals(3 * 4, 0.0f), reconstructions(3 * 4, 1.0f);
  write_image_pairs(path("pairs.png"), originals, reconstructions, 3,
                    {.channels = 1, .height = 2, .width = 2, .columns = 2});
  const Png png = read_png(path("pairs.png"));
  // Columns at x = 1, 4 (one pixel apart), 8 (two apart), 11.
  EXPECT_EQ(png.width, 14);
  EXPECT_EQ(png.height, 1 + 2 + 2 + 2 + 1);
  EXPECT_EQ(png.at(1, 1), 0);
  EXPECT_EQ(png.at(3, 1), 128);
  EXPECT_EQ(png.at(4, 1), 255);
  EXPECT_EQ(png.at(6, 1), 128);
  EXPECT_EQ(png.at(7, 1), 128);
  EXPECT_EQ(png.at(8, 1), 0);
  EXPECT_EQ(png.at(11, 1), 255);
  EXPECT_EQ(png.at(1, 5), 0);  // third pair, second row
  EXPECT_EQ(png.at(4, 5), 255);
  EXPECT_EQ(png.at(8, 5), 128);  // no fourth pair
}

TEST_F(PngGrid, RgbFromPlanesAndValuesClamped) {
  // One 1x2 RGB image, planar: R = {2, -1}, G = {0, NaN}, B = {1, 0.2}.
  std::vector<float> image = {2.0f, -1.0f, 0.0f, std::nanf(""), 1.0f, 0.2f};
  write_image_grid(path("rgb.png"), image, 1,
                   {.channels = 3, .height = 1, .width = 2, .separator = 0});
  const Png png = read_png(path("rgb.png"));
  ASSERT_EQ(png.channels, 3);
  ASSERT_EQ(png.width, 2);
  ASSERT_EQ(png.height, 1);
  EXPECT_EQ(png.at(0, 0, 0), 255);
  EXPECT_EQ(png.at(0, 0, 1), 0);
  EXPECT_EQ(png.at(0, 0, 2), 255);
  EXPECT_EQ(png.at(1, 0, 0), 0);
  EXPECT_EQ(png.at(1, 0, 1), 0);
  EXPECT_EQ(png.at(1, 0, 2), 51);
}

TEST_F(PngGrid, ReplacesAnExistingFile) {
  std::vector<float> image(4, 0.0f);
  write_image_grid(path("a.png"), image, 1, {.channels = 1, .height = 2, .width = 2});
  write_image_grid(path("a.png"), std::vector<float>(8, 1.0f), 2,
                   {.channels = 1, .height = 2, .width = 2});
  EXPECT_EQ(read_png(path("a.png")).width, 7);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()),
            1);  // no temp file
}

// Pixels of tile `tile`'s label strip (in a grid of one row, 1-pixel separators) that
// are text: black.
size_t text_pixels(const Png& png, int tile, int tile_width, int image_height) {
  size_t count = 0;
  const int left = 1 + tile * (tile_width + 1), top = 1 + image_height;
  for (int y = top; y < top + static_cast<int>(kLabelStripHeight); ++y)
    for (int x = left; x < left + tile_width; ++x) count += png.at(x, y) == 0;
  return count;
}

TEST_F(PngGrid, LabelsAreTextOnAWhiteStripUnderScaledUpImages) {
  // Three 4x4 images (0.5 gray, with one white pixel at (0, 0)), scaled 12 times to 48.
  std::vector<float> images(3 * 16, 0.5f);
  for (size_t i = 0; i < 3; ++i) images[i * 16] = 1.0f;
  const std::vector<std::string> labels = {"cat", "", "\xc3\xa9t\x01"};
  write_labeled_image_grid(path("labels.png"), images, 3,
                           {.channels = 1, .height = 4, .width = 4, .columns = 3}, labels);
  const Png png = read_png(path("labels.png"));
  ASSERT_EQ(png.channels, 1);
  ASSERT_EQ(png.width, 1 + 3 * (48 + 1));
  ASSERT_EQ(png.height, 1 + 48 + static_cast<int>(kLabelStripHeight) + 1);
  // Nearest-pixel scaling: the white pixel covers 12 x 12.
  EXPECT_EQ(png.at(1, 1), 255);
  EXPECT_EQ(png.at(12, 12), 255);
  EXPECT_EQ(png.at(13, 1), 128);
  EXPECT_EQ(png.at(1, 13), 128);
  EXPECT_EQ(png.at(48, 48), 128);
  EXPECT_EQ(png.at(49, 1), 128);  // the separator
  // The strip is white where there is no text, black where there is.
  EXPECT_EQ(png.at(1, 49), 255);
  EXPECT_GT(text_pixels(png, 0, 48, 48), 10u);
  EXPECT_EQ(text_pixels(png, 1, 48, 48), 0u);
  // Bytes outside printable ASCII show as '?': "\xc3\xa9t\x01" as "??t?".
  write_labeled_image_grid(path("ascii.png"), images, 3,
                           {.channels = 1, .height = 4, .width = 4, .columns = 3},
                           {"cat", "", "??t?"});
  EXPECT_EQ(read_png(path("ascii.png")).pixels, png.pixels);
  EXPECT_GT(text_pixels(png, 2, 48, 48), 0u);
}

TEST_F(PngGrid, ALongLabelWidensEveryTileAndRgbTextIsBlack) {
  std::vector<float> images(2 * 3 * 2 * 2, 1.0f);
  const std::string label = "a rather long class name";
  std::string text = label;
  const int width = stb_easy_font_width(text.data());
  ASSERT_GT(width + 2, 48);
  write_labeled_image_grid(path("long.png"), images, 2, {.channels = 3, .height = 2, .width = 2},
                           {label, "x"});
  const Png png = read_png(path("long.png"));
  ASSERT_EQ(png.channels, 3);
  EXPECT_EQ(png.width, 1 + 2 * (width + 2 + 1));
  EXPECT_EQ(png.height, 1 + 48 + static_cast<int>(kLabelStripHeight) + 1);
  // The 48-pixel image is centred in the wider tile.
  const int image_left = 1 + (width + 2 - 48) / 2;
  EXPECT_EQ(png.at(image_left - 1, 1, 0), 128);
  EXPECT_EQ(png.at(image_left, 1, 0), 255);
  EXPECT_EQ(png.at(image_left + 47, 1, 2), 255);
  EXPECT_EQ(png.at(image_left + 48, 1, 2), 128);
  size_t black = 0;
  for (int y = 49; y < 49 + static_cast<int>(kLabelStripHeight); ++y)
    for (int x = 1; x < 1 + width + 2; ++x)
      black += png.at(x, y, 0) == 0 && png.at(x, y, 1) == 0 && png.at(x, y, 2) == 0;
  EXPECT_GT(black, 50u);
}

TEST_F(PngGrid, ErrorsNameTheFile) {
  const std::string file = path("bad.png");
  std::vector<float> four(4, 0.0f);
  expect_error_naming(
      [&] { write_image_grid(file, four, 1, {.channels = 2, .height = 1, .width = 2}); }, file,
      "2 channels");
  expect_error_naming(
      [&] { write_image_grid(file, four, 2, {.channels = 1, .height = 2, .width = 2}); }, file,
      "expected 8");
  expect_error_naming(
      [&] { write_image_grid(file, {}, 0, {.channels = 1, .height = 2, .width = 2}); }, file,
      "no images");
  expect_error_naming(
      [&] { write_image_grid(file, four, 1, {.channels = 1, .height = 0, .width = 2}); }, file,
      "0 x 2");
  expect_error_naming(
      [&] {
        write_image_pairs(file, four, std::vector<float>(3), 1,
                          {.channels = 1, .height = 2, .width = 2});
      },
      file, "3 reconstruction values");
  const std::string missing_dir = path("no/such/dir.png");
  expect_error_naming(
      [&] { write_image_grid(missing_dir, four, 1, {.channels = 1, .height = 2, .width = 2}); },
      missing_dir, "");
  expect_error_naming(
      [&] {
        write_labeled_image_grid(file, four, 1, {.channels = 1, .height = 2, .width = 2},
                                 {"a", "b"});
      },
      file, "2 labels for 1 images");
  EXPECT_FALSE(fs::exists(file));
}

}  // namespace
}  // namespace edgetrain::testing
