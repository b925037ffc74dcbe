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
// with another copy linked into an application, and stb_easy_font's (header-only, all
// static: text as rectangles to fill); the third-party headers are not held to our
// warning flags.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_easy_font.h>
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

// stb_image_write takes sizes and strides as int, 4 bytes per pixel at most.
void check_png_size(const std::string& path, size_t width, size_t height) {
  constexpr size_t kLimit = static_cast<size_t>(std::numeric_limits<int>::max() / 4);
  if (width > kLimit || height > kLimit || width * height > kLimit)
    throw Error("cannot write " + path + ": a grid of " + std::to_string(width) + " x " +
                std::to_string(height) + " pixels is too large for one PNG");
}

// Encodes `pixels` (H:W:C bytes) and replaces `path` with the PNG.
void write_png(const std::string& path, const std::vector<uint8_t>& pixels, size_t width,
               size_t height, size_t channels) {
  std::vector<std::byte> png;
  const int stride = static_cast<int>(width * channels);
  if (stbi_write_png_to_func(append_bytes, &png, static_cast<int>(width), static_cast<int>(height),
                             static_cast<int>(channels), pixels.data(), stride) == 0)
    throw Error("cannot write " + path + ": PNG encoding failed");
  AtomicFile file(path);
  file.write(png);
  file.commit();
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
  check_png_size(path, image_width, image_height);

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

  write_png(path, pixels, image_width, image_height, channels);
}

// stb_easy_font's glyph table covers printable ASCII only, and its functions take a
// mutable string: a copy with every other byte replaced.
std::string printable(const std::string& text) {
  std::string shown = text;
  for (char& c : shown)
    if (c < ' ' || c > '~') c = '?';
  return shown;
}

// Fills the text's glyphs in black into a canvas `width` pixels wide of `channels` bytes
// per pixel, the text's top left corner at (left, top), clipped to the box of
// box_width x box_height pixels there.
void draw_text(std::vector<uint8_t>& canvas, size_t width, size_t channels, const std::string& text,
               size_t left, size_t top, size_t box_width, size_t box_height) {
  std::string shown = printable(text);
  // stb_easy_font's vertex: x, y, z (floats) and 4 bytes of colour; 4 per quad. It
  // truncates at the buffer's end: about 270 bytes per character are enough.
  struct Vertex {
    float x, y, z;
    unsigned char colour[4];
  };
  static_assert(sizeof(Vertex) == 16, "stb_easy_font writes 16-byte vertices");
  std::vector<Vertex> vertices(shown.size() * 300 / sizeof(Vertex) + 4);
  const int quads = stb_easy_font_print(0.0f, 0.0f, shown.data(), nullptr, vertices.data(),
                                        static_cast<int>(vertices.size() * sizeof(Vertex)));
  for (int q = 0; q < quads; ++q) {
    // Vertices go round the quad: the first is its top left, the third its bottom right.
    const Vertex& top_left = vertices[4 * static_cast<size_t>(q)];
    const Vertex& bottom_right = vertices[4 * static_cast<size_t>(q) + 2];
    const size_t x0 = left + static_cast<size_t>(std::lround(top_left.x));
    const size_t x1 =
        std::min(left + box_width, left + static_cast<size_t>(std::lround(bottom_right.x)));
    const size_t y0 = top + static_cast<size_t>(std::lround(top_left.y));
    const size_t y1 =
        std::min(top + box_height, top + static_cast<size_t>(std::lround(bottom_right.y)));
    for (size_t y = y0; y < y1; ++y)
      for (size_t x = x0; x < x1; ++x)
        for (size_t c = 0; c < channels; ++c) canvas[(y * width + x) * channels + c] = 0;
  }
}

int text_width(const std::string& text) {
  std::string shown = printable(text);
  return stb_easy_font_width(shown.data());
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

void write_labeled_image_grid(const std::string& path, std::span<const float> images, size_t count,
                              const ImageLayout& layout, const std::vector<std::string>& labels) {
  check_layout(path, images.size(), count, layout, "image");
  if (labels.size() != count)
    throw Error("cannot write " + path + ": " + std::to_string(labels.size()) + " labels for " +
                std::to_string(count) + " images");
  const size_t channels = layout.channels, height = layout.height, width = layout.width;
  const size_t scale = std::max<size_t>(1, (kLabeledTileMinWidth + width - 1) / width);
  size_t tile_width = scale * width;
  for (const std::string& label : labels)
    tile_width = std::max(tile_width, static_cast<size_t>(text_width(label)) + 2);
  const size_t tile_height = scale * height + kLabelStripHeight;
  size_t columns = layout.columns == 0
                       ? static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(count))))
                       : layout.columns;
  columns = std::min(columns, count);
  const size_t rows = (count + columns - 1) / columns;
  const size_t sep = layout.separator;
  const size_t canvas_width = sep + columns * (tile_width + sep);
  const size_t canvas_height = sep + rows * (tile_height + sep);
  check_png_size(path, canvas_width, canvas_height);

  std::vector<uint8_t> canvas(canvas_width * canvas_height * channels, kSeparatorGray);
  const size_t plane = height * width;
  for (size_t t = 0; t < count; ++t) {
    const size_t left = sep + (t % columns) * (tile_width + sep);
    const size_t top = sep + (t / columns) * (tile_height + sep);
    const size_t image_left = left + (tile_width - scale * width) / 2;
    const float* image = images.data() + t * channels * plane;
    for (size_t y = 0; y < scale * height; ++y)
      for (size_t x = 0; x < scale * width; ++x)
        for (size_t c = 0; c < channels; ++c)
          canvas[((top + y) * canvas_width + image_left + x) * channels + c] =
              to_byte(image[c * plane + (y / scale) * width + x / scale]);
    const size_t strip_top = top + scale * height;
    for (size_t y = strip_top; y < strip_top + kLabelStripHeight; ++y)
      std::fill_n(
          canvas.begin() + static_cast<std::ptrdiff_t>((y * canvas_width + left) * channels),
          tile_width * channels, uint8_t{255});
    const size_t label_width = static_cast<size_t>(text_width(labels[t]));
    const size_t label_left = left + (tile_width - std::min(label_width, tile_width)) / 2;
    draw_text(canvas, canvas_width, channels, labels[t], label_left, strip_top + 1,
              left + tile_width - label_left, kLabelStripHeight - 1);
  }
  write_png(path, canvas, canvas_width, canvas_height, channels);
}

}  // namespace edgetrain
