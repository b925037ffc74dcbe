#include "layers/padding2d.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {
namespace {

// {before, after} for one axis.
std::array<size_t, 2> same_padding(size_t in, size_t extent, size_t stride) {
  const size_t out = (in + stride - 1) / stride;
  const size_t needed = (out - 1) * stride + extent;
  const size_t total = needed > in ? needed - in : 0;
  return {total / 2, total - total / 2};
}

}  // namespace

Padding2D Padding2D::parse(const std::string& value, const std::string& owner,
                           const std::string& key) {
  Padding2D padding;
  const std::string lower = to_lower(value);
  if (lower == "valid") return padding;
  if (lower == "same") {
    padding.same = true;
    return padding;
  }
  const std::vector<std::string> pieces = split_list(value);
  const auto is_count = [](const std::string& piece) {
    return !piece.empty() && std::all_of(piece.begin(), piece.end(),
                                         [](unsigned char c) { return std::isdigit(c) != 0; });
  };
  if ((pieces.size() != 1 && pieces.size() != 2 && pieces.size() != 4) ||
      !std::all_of(pieces.begin(), pieces.end(), is_count))
    throw PropertyError(owner + ": property '" + key + "' has bad value '" + value +
                        "': expected same, valid, or 1, 2 or 4 non-negative integers (all sides; "
                        "height,width; top,bottom,left,right)");
  std::vector<size_t> sizes;
  for (const std::string& piece : pieces) sizes.push_back(parse_count(piece, owner, key));
  if (sizes.size() == 1) padding.sides = {sizes[0], sizes[0], sizes[0], sizes[0]};
  if (sizes.size() == 2) padding.sides = {sizes[0], sizes[0], sizes[1], sizes[1]};
  if (sizes.size() == 4) padding.sides = {sizes[0], sizes[1], sizes[2], sizes[3]};
  return padding;
}

std::array<size_t, 4> Padding2D::resolve(size_t height, size_t width, std::array<size_t, 2> extent,
                                         std::array<size_t, 2> stride) const {
  if (!same) return sides;
  const auto [top, bottom] = same_padding(height, extent[0], stride[0]);
  const auto [left, right] = same_padding(width, extent[1], stride[1]);
  return {top, bottom, left, right};
}

std::string pair_text(const std::array<size_t, 2>& pair) {
  return std::to_string(pair[0]) + "," + std::to_string(pair[1]);
}

}  // namespace edgetrain
