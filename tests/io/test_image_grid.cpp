// PNG grids, read back with stb_image: size, tile placement, separators, pairs, RGB,
// clamping, and errors naming the file.
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
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
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
  EXPECT_FALSE(fs::exists(file));
}

}  // namespace
}  // namespace edgetrain::testing
