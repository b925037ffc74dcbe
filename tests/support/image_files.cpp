#include "support/image_files.h"

#include <gtest/gtest.h>

#include <filesystem>

// The library's copy of stb_image_write is static (src/io/image_grid.cpp): this one is
// the tests' own.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace edgetrain::testing {

void write_png(const std::string& path, size_t width, size_t height, size_t channels,
               const std::vector<uint8_t>& pixels) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ASSERT_EQ(pixels.size(), width * height * channels) << path;
  ASSERT_NE(
      stbi_write_png(path.c_str(), static_cast<int>(width), static_cast<int>(height),
                     static_cast<int>(channels), pixels.data(), static_cast<int>(width * channels)),
      0)
      << "cannot write " << path;
}

void write_jpeg(const std::string& path, size_t width, size_t height,
                const std::vector<uint8_t>& rgb, int quality) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ASSERT_EQ(rgb.size(), width * height * 3) << path;
  ASSERT_NE(stbi_write_jpg(path.c_str(), static_cast<int>(width), static_cast<int>(height), 3,
                           rgb.data(), quality),
            0)
      << "cannot write " << path;
}

}  // namespace edgetrain::testing
