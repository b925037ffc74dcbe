// Augmentation and normalization of one C:H:W image sample, in place: the loader's
// reading thread and the caller may augment different samples at once, and nothing here
// allocates.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

namespace {

std::string format(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

[[noreturn]] void fail(const std::string& key, double value, const std::string& requirement) {
  throw DataError("augmentation: " + key + " = " + format(value) + " " + requirement);
}

void check_range(const std::string& key, float value, float low, float high, bool high_open) {
  if (!std::isfinite(value) || value < low || (high_open ? value >= high : value > high))
    fail(key, value, "is not in [" + format(low) + ", " + format(high) + (high_open ? ")" : "]"));
}

}  // namespace

void check_augmentation(const Augmentation& augmentation, size_t height, size_t width) {
  const size_t smaller_side = std::min(height, width);
  if (augmentation.crop_padding >= smaller_side)
    fail("crop_padding", static_cast<double>(augmentation.crop_padding),
         "pixels is not below the image's height " + std::to_string(height) + " and width " +
             std::to_string(width));
  check_range("shift", augmentation.shift, 0.0f, 1.0f, true);
  check_range("flip_probability", augmentation.flip_probability, 0.0f, 1.0f, false);
  check_range("brightness", augmentation.brightness, 0.0f, 1.0f, false);
  check_range("contrast", augmentation.contrast, 0.0f, 1.0f, false);
  check_range("noise_std", augmentation.noise_std, 0.0f, 1.0f, false);
  if (augmentation.cutout > smaller_side)
    fail("cutout", static_cast<double>(augmentation.cutout),
         "pixels is larger than the image's height " + std::to_string(height) + " or width " +
             std::to_string(width));
}

void check_normalization(const Normalization& normalization, size_t channels) {
  const std::vector<float>& mean = normalization.mean;
  const std::vector<float>& std = normalization.std;
  if (mean.empty() != std.empty())
    throw DataError(std::string("normalization: ") +
                    (mean.empty() ? "normalize_std is set without normalize_mean"
                                  : "normalize_mean is set without normalize_std") +
                    "; give both");
  for (const auto& [key, values] : {std::pair{"normalize_mean", &mean}, {"normalize_std", &std}}) {
    if (!values->empty() && values->size() != 1 && values->size() != channels)
      throw DataError(std::string("normalization: ") + key + " has " +
                      std::to_string(values->size()) + " values; give 1, or " +
                      std::to_string(channels) + " (one per channel of the model's input)");
    for (float value : *values)
      if (!std::isfinite(value) || (values == &std && !(value > 0.0f)))
        throw DataError(std::string("normalization: ") + key + " value " + format(value) +
                        (values == &std ? " is not a number > 0" : " is not a finite number"));
  }
}

void shift_image(Tensor sample, long dy, long dx) {
  const long height = static_cast<long>(sample.shape().height);
  const long width = static_cast<long>(sample.shape().width);
  // In place: rows (and columns within a row) are visited away from the ones they read,
  // so every value is read before it is overwritten.
  for (size_t c = 0; c < sample.shape().channel; ++c) {
    float* plane = sample.data() + c * static_cast<size_t>(height * width);
    for (long i = 0; i < height; ++i) {
      const long y = dy > 0 ? height - 1 - i : i;
      const long from_y = y - dy;
      for (long j = 0; j < width; ++j) {
        const long x = dx > 0 ? width - 1 - j : j;
        const long from_x = x - dx;
        const bool inside = from_y >= 0 && from_y < height && from_x >= 0 && from_x < width;
        plane[y * width + x] = inside ? plane[from_y * width + from_x] : 0.0f;
      }
    }
  }
}

void flip_image_horizontally(Tensor sample) {
  const size_t width = sample.shape().width;
  const size_t rows = sample.shape().channel * sample.shape().height;
  for (size_t row = 0; row < rows; ++row) {
    float* values = sample.data() + row * width;
    std::reverse(values, values + width);
  }
}

void cut_out_image(Tensor sample, long top, long left, size_t size) {
  const long height = static_cast<long>(sample.shape().height);
  const long width = static_cast<long>(sample.shape().width);
  const long side = static_cast<long>(size);
  const long y_begin = std::max(top, 0L), y_end = std::min(top + side, height);
  const long x_begin = std::max(left, 0L), x_end = std::min(left + side, width);
  for (size_t c = 0; c < sample.shape().channel; ++c) {
    float* plane = sample.data() + c * static_cast<size_t>(height * width);
    for (long y = y_begin; y < y_end; ++y)
      std::fill(plane + y * width + x_begin, plane + y * width + std::max(x_begin, x_end), 0.0f);
  }
}

void augment_image(Tensor sample, const Augmentation& augmentation, Rng& rng) {
  const size_t height = sample.shape().height, width = sample.shape().width;
  const size_t size = sample.shape().feature_size();
  float* values = sample.data();
  // A draw in [-limit, limit].
  auto offset = [&](size_t limit) {
    return static_cast<long>(rng.below(2 * limit + 1)) - static_cast<long>(limit);
  };
  if (augmentation.crop_padding > 0) {
    // The crop of the padded image at (oy, ox) in [0, 2 * pad] is the shift (pad - oy,
    // pad - ox): the same draw.
    const long dy = offset(augmentation.crop_padding);
    const long dx = offset(augmentation.crop_padding);
    shift_image(sample, dy, dx);
  }
  if (augmentation.shift > 0.0f) {
    const long dy = offset(static_cast<size_t>(augmentation.shift * static_cast<float>(height)));
    const long dx = offset(static_cast<size_t>(augmentation.shift * static_cast<float>(width)));
    shift_image(sample, dy, dx);
  }
  if (augmentation.flip_probability > 0.0f && rng.uniform() < augmentation.flip_probability)
    flip_image_horizontally(sample);
  bool clamp = false;
  if (augmentation.brightness > 0.0f) {
    const float delta = rng.uniform(-augmentation.brightness, augmentation.brightness);
    for (size_t i = 0; i < size; ++i) values[i] += delta;
    clamp = true;
  }
  if (augmentation.contrast > 0.0f) {
    const float factor = rng.uniform(1.0f - augmentation.contrast, 1.0f + augmentation.contrast);
    double sum = 0.0;
    for (size_t i = 0; i < size; ++i) sum += values[i];
    const float mean = static_cast<float>(sum / static_cast<double>(size));
    for (size_t i = 0; i < size; ++i) values[i] = mean + (values[i] - mean) * factor;
    clamp = true;
  }
  if (augmentation.noise_std > 0.0f) {
    for (size_t i = 0; i < size; ++i) values[i] += augmentation.noise_std * rng.normal();
    clamp = true;
  }
  if (clamp)
    for (size_t i = 0; i < size; ++i) values[i] = std::clamp(values[i], 0.0f, 1.0f);
  if (augmentation.cutout > 0) {
    const long side = static_cast<long>(augmentation.cutout);
    const long top = static_cast<long>(rng.below(height)) - side / 2;
    const long left = static_cast<long>(rng.below(width)) - side / 2;
    cut_out_image(sample, top, left, augmentation.cutout);
  }
}

void normalize_image(Tensor sample, const Normalization& normalization) {
  if (!normalization.enabled()) return;
  const size_t plane = sample.shape().height * sample.shape().width;
  for (size_t c = 0; c < sample.shape().channel; ++c) {
    const float mean = normalization.mean[normalization.mean.size() == 1 ? 0 : c];
    const float scale = 1.0f / normalization.std[normalization.std.size() == 1 ? 0 : c];
    float* values = sample.data() + c * plane;
    for (size_t i = 0; i < plane; ++i) values[i] = (values[i] - mean) * scale;
  }
}

}  // namespace edgetrain
