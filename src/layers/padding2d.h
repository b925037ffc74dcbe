// The padding= property of 2-D window layers (conv2d, pooling2d), as NNTrainer writes it:
//   valid (no padding), same (TensorFlow's: the output has ceil(in / stride) positions and
//   the padding that needs is split with the odd row/column after the input), or sizes
//   "p" (all sides), "ph,pw" (symmetric per axis), "top,bottom,left,right".
#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace edgetrain {

struct Padding2D {
  bool same = false;
  std::array<size_t, 4> sides = {0, 0, 0, 0};  // top, bottom, left, right (explicit sizes)

  // Throws PropertyError naming owner, key and value.
  static Padding2D parse(const std::string& value, const std::string& owner,
                         const std::string& key);
  // The sides for an input of height x width, windows spanning `extent` (kernel size
  // times dilation) moved by `stride`, each as {height, width}.
  std::array<size_t, 4> resolve(size_t height, size_t width, std::array<size_t, 2> extent,
                                std::array<size_t, 2> stride) const;
};

// "3,5", for messages.
std::string pair_text(const std::array<size_t, 2>& pair);

}  // namespace edgetrain
