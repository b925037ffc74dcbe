#include "edgetrain/image_grid.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "edgetrain/error.h"
#include "io/atomic_file.h"

// The one translation unit with stb_image_write's code, kept static so it cannot clash
// with another copy linked into an application; the third-party header is not held to
// our warning flags.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace edgetrain {
namespace {

constexpr uint8_t kSeparatorGray = 128;

uint8_t to_byte(float value) {
  if (!(value > 0.0f)) return 0;  // also NaN
  if (value >= 1.0f) return 255;
  return static_cast<uint8_t>(std::lround(value * 255.0f));
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::byte>*>(context);
  const auto* bytes = static_cast<const std::byte*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

// Tiles `tiles` images (CHW floats, one after another in `images`) in groups of `group`
// that share a row and stand closer together, and writes the PNG.
void write_tiles(const std::string& path, std::span<const float> images, size_t tiles, size_t group,
                 const ImageLayout& layout) {
  const size_t channels = layout.channels, height = layout.height, width = layout.width;
  const size_t groups = tiles / group;
  size_t group_columns = layout.columns;
  if (group_columns == 0)
    group_columns = static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(groups))));
  group_columns = std::min(group_columns, groups);
  const size_t columns = group_columns * group;
  const size_t rows = (groups + group_columns - 1) / group_columns;
  const size_t sep = layout.separator;
  const size_t wide_sep = sep * group;

  // Left edge of each column: a wider gap starts each group.
  std::vector<size_t> column_x(columns);
  size_t x = sep;
  for (size_t c = 0; c < columns; ++c) {
    if (c > 0) x += (c % group == 0 ? wide_sep : sep);
    column_x[c] = x;
    x += width;
  }
  const size_t image_width = x + sep;
  const size_t image_height = 2 * sep + rows * height + (rows - 1) * wide_sep;
  constexpr size_t kLimit = static_cast<size_t>(std::numeric_limits<int>::max() / 4);
  if (image_width > kLimit || image_height > kLimit || image_width * image_height > kLimit)
    throw Error("cannot write " + path + ": a grid of " + std::to_string(image_width) + " x " +
                std::to_string(image_height) + " pixels is too large for one PNG");

  std::vector<uint8_t> pixels(image_width * image_height * channels, kSeparatorGray);
  const size_t plane = height * width;
  for (size_t t = 0; t < tiles; ++t) {
    const size_t row = t / columns, column = t % columns;
    const size_t top = sep + row * (height + wide_sep);
    const float* image = images.data() + t * channels * plane;
    for (size_t y = 0; y < height; ++y)
      for (size_t xx = 0; xx < width; ++xx)
        for (size_t c = 0; c < channels; ++c)
          pixels[((top + y) * image_width + column_x[column] + xx) * channels + c] =
              to_byte(image[c * plane + y * width + xx]);
  }

  std::vector<std::byte> png;
  const int stride = static_cast<int>(image_width * channels);
  if (stbi_write_png_to_func(append_bytes, &png, static_cast<int>(image_width),
                             static_cast<int>(image_height), static_cast<int>(channels),
                             pixels.data(), stride) == 0)
    throw Error("cannot write " + path + ": PNG encoding failed");
  AtomicFile file(path);
  file.write(png);
  file.commit();
}

void check_layout(const std::string& path, size_t values, size_t count, const ImageLayout& layout,
                  const char* what) {
  if (layout.channels != 1 && layout.channels != 3)
    throw Error("cannot write " + path + ": images with " + std::to_string(layout.channels) +
                " channels; a PNG grid takes 1 (gray) or 3 (RGB)");
  if (layout.height == 0 || layout.width == 0)
    throw Error("cannot write " + path + ": images of " + std::to_string(layout.height) + " x " +
                std::to_string(layout.width) + " pixels");
  if (count == 0) throw Error("cannot write " + path + ": no images");
  const size_t expected = count * layout.channels * layout.height * layout.width;
  if (values != expected)
    throw Error("cannot write " + path + ": " + std::to_string(values) + " " + what +
                " values for " + std::to_string(count) + " images of " +
                std::to_string(layout.channels) + "x" + std::to_string(layout.height) + "x" +
                std::to_string(layout.width) + " (expected " + std::to_string(expected) + ")");
}

}  // namespace

void write_image_grid(const std::string& path, std::span<const float> images, size_t count,
                      const ImageLayout& layout) {
  check_layout(path, images.size(), count, layout, "image");
  write_tiles(path, images, count, 1, layout);
}

void write_image_pairs(const std::string& path, std::span<const float> originals,
                       std::span<const float> reconstructions, size_t count,
                       const ImageLayout& layout) {
  check_layout(path, originals.size(), count, layout, "original");
  check_layout(path, reconstructions.size(), count, layout, "reconstruction");
  const size_t size = layout.channels * layout.height * layout.width;
  std::vector<float> interleaved;
  interleaved.reserve(2 * count * size);
  for (size_t i = 0; i < count; ++i) {
    interleaved.insert(interleaved.end(), originals.begin() + i * size,
                       originals.begin() + (i + 1) * size);
    interleaved.insert(interleaved.end(), reconstructions.begin() + i * size,
                       reconstructions.begin() + (i + 1) * size);
  }
  write_tiles(path, interleaved, 2 * count, 2, layout);
}

}  // namespace edgetrain
