// Pictures of model inputs and outputs: many small images tiled into one PNG file, e.g.
// a VAE's samples, or test images each beside its reconstruction.
//
//   edgetrain::ImageLayout layout{.channels = 1, .height = 28, .width = 28};
//   edgetrain::write_image_grid("samples.png", images, 64, layout);
//   edgetrain::write_image_pairs("recon.png", originals, reconstructions, 32, layout);
//   edgetrain::write_labeled_image_grid("batch.png", images, 16, layout, class_names);
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace edgetrain {

// One image's shape and how the tiles are arranged.
struct ImageLayout {
  size_t channels = 1;  // 1 (gray) or 3 (RGB)
  size_t height = 0;
  size_t width = 0;
  // Tiles per row (for pairs: pairs per row); 0 picks about a square grid.
  size_t columns = 0;
  // Pixels of gray between tiles and around the grid; pairs have twice as many between
  // one pair and the next, so the partners stand together.
  size_t separator = 1;
};

// Writes `count` images, laid out back to back as channels x height x width floats
// (CHW, the layout of model tensors), as one PNG grid filled row by row. Values are
// intensities in [0, 1]: they are clamped, and NaN shows as 0. Unused cells of the last
// row stay gray. The file is replaced atomically. Throws Error naming `path` when the
// images do not match the layout (sizes, channels other than 1 or 3, no images) or the
// file cannot be written.
void write_image_grid(const std::string& path, std::span<const float> images, size_t count,
                      const ImageLayout& layout);

// As write_image_grid, with each of `count` originals followed by its reconstruction.
void write_image_pairs(const std::string& path, std::span<const float> originals,
                       std::span<const float> reconstructions, size_t count,
                       const ImageLayout& layout);

// Tiles narrower than this are scaled up by a whole factor in labeled grids, so that a
// label of a few characters fits under them and small images (28 x 28) can be seen.
inline constexpr size_t kLabeledTileMinWidth = 48;
// The height of the white strip under each image of a labeled grid: stb_easy_font's
// line (12 pixels) and one pixel above and below it.
inline constexpr size_t kLabelStripHeight = 14;

// As write_image_grid, with labels[i] written in black on a white strip under image i
// (stb_easy_font's glyphs: printable ASCII; other bytes show as '?'). Each image is
// scaled up by the smallest whole factor (nearest pixel) that makes it at least
// kLabeledTileMinWidth wide, and a tile is as wide as that or as the longest label and
// a pixel either side of it, whichever is wider, the image and label centred in it.
// Throws Error naming `path` as write_image_grid does, and when there is not one label
// per image.
void write_labeled_image_grid(const std::string& path, std::span<const float> images, size_t count,
                              const ImageLayout& layout, const std::vector<std::string>& labels);

}  // namespace edgetrain
