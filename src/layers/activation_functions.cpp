#include "layers/activation_functions.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/threads.h"

namespace edgetrain {
namespace {

constexpr float kLeakySlope = 0.01f;
constexpr float kEluAlpha = 1.0f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;

struct NamedActivation {
  const char* name;
  ActivationType type;
};

const std::vector<NamedActivation>& names() {
  static const std::vector<NamedActivation> list = {
      {"none", ActivationType::none},
      {"linear", ActivationType::none},
      {"relu", ActivationType::relu},
      {"leaky_relu", ActivationType::leaky_relu},
      {"elu", ActivationType::elu},
      {"selu", ActivationType::selu},
      {"sigmoid", ActivationType::sigmoid},
      {"tanh", ActivationType::tanh},
      {"softmax", ActivationType::softmax},
      {"swish", ActivationType::swish},
      {"silu", ActivationType::swish},
      {"gelu", ActivationType::gelu},
      {"relu6", ActivationType::relu6},
      {"hard_swish", ActivationType::hard_swish},
      {"hard_sigmoid", ActivationType::hard_sigmoid},
  };
  return list;
}

float sigmoid(float x) {
  // Stable in both tails.
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.0f + e);
}

// Calls f(i) for every i in [0, n), split over threads when n * cost is large enough;
// every element is independent, so the results do not depend on the thread count.
template <typename F>
void each_index(size_t n, size_t cost, F f) {
  kernels::parallel_ranges(n, cost, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) f(i);
  });
}

// Calls f(row_start) for every row of length row_length in [0, n).
template <typename F>
void each_row(size_t n, size_t row_length, size_t cost, F f) {
  kernels::parallel_ranges(n / row_length, row_length * cost, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) f(r * row_length);
  });
}

void softmax_rows(const float* x, float* y, size_t n, size_t row_length) {
  each_row(n, row_length, 8, [&](size_t row) {
    const float max = *std::max_element(x + row, x + row + row_length);
    double sum = 0.0;
    for (size_t i = row; i < row + row_length; ++i) {
      y[i] = std::exp(x[i] - max);
      sum += y[i];
    }
    const float inverse = static_cast<float>(1.0 / sum);
    for (size_t i = row; i < row + row_length; ++i) y[i] *= inverse;
  });
}

// Calls body(first, count, word) for every mask word of the layout in
// activation_forward_masked: `count` values from `first` in the value arrays, the word's
// index in the mask. Threads split the words, so each writes whole words of its own.
template <typename Body>
void each_mask_word(size_t rows, size_t row_size, size_t row_words, Body body) {
  const size_t used = mask_words(row_size);
  kernels::parallel_ranges(rows * used, kMaskBits, [&](size_t begin, size_t end) {
    for (size_t w = begin; w < end; ++w) {
      const size_t row = w / used;
      const size_t word = w - row * used;
      const size_t count = std::min(kMaskBits, row_size - word * kMaskBits);
      body(row * row_size + word * kMaskBits, count, row * row_words + word);
    }
  });
}

// Bit j of a mask word, from a table rather than 1u << j: a vector of table entries
// needs no per-lane shift (SSE2 has none), so the loops below vectorize.
alignas(64) constexpr uint32_t kBit[kMaskBits] = {
    1u << 0,  1u << 1,  1u << 2,  1u << 3,  1u << 4,  1u << 5,  1u << 6,  1u << 7,
    1u << 8,  1u << 9,  1u << 10, 1u << 11, 1u << 12, 1u << 13, 1u << 14, 1u << 15,
    1u << 16, 1u << 17, 1u << 18, 1u << 19, 1u << 20, 1u << 21, 1u << 22, 1u << 23,
    1u << 24, 1u << 25, 1u << 26, 1u << 27, 1u << 28, 1u << 29, 1u << 30, 1u << 31};

// y = value(x) and the bits bit(y), word by word, without branches (an OR of selected
// table bits); a full word has a constant trip count. Measured on 64 x 6272 values, one
// thread: 2.3x the time of relu's plain forward (0.12 vs 0.05 ms), backward as fast as
// the plain one; with 1u << j instead of the table, 6x and 10x.
template <typename Value, typename Bit>
void forward_masked(const float* x, float* y, float* mask, size_t rows, size_t row_size,
                    size_t row_words, Value value, Bit bit) {
  each_mask_word(rows, row_size, row_words, [&](size_t first, size_t count, size_t word) {
    // Two loops: the first is safe in place (y == x) and vectorizes without a runtime
    // aliasing check; the second only reads.
    const auto pack = [&](size_t n) {
      const float* in = x + first;
      float* out = y + first;
      for (size_t j = 0; j < n; ++j) out[j] = value(in[j]);
      uint32_t bits = 0;
      // An AND with an all-ones or all-zeros mask, not a ?: the compiler turned the
      // select into a mispredicted branch inside the OpenMP region (8x slower there).
      for (size_t j = 0; j < n; ++j) bits |= kBit[j] & (0u - static_cast<uint32_t>(bit(out[j])));
      return bits;
    };
    const uint32_t bits = count == kMaskBits ? pack(kMaskBits) : pack(count);
    std::memcpy(mask + word, &bits, sizeof bits);
  });
}

// dx = bit ? on(dy) : off(dy), word by word.
template <typename On, typename Off>
void backward_masked(const float* mask, const float* dy, float* dx, size_t rows, size_t row_size,
                     size_t row_words, On on, Off off) {
  each_mask_word(rows, row_size, row_words, [&](size_t first, size_t count, size_t word) {
    uint32_t bits;
    std::memcpy(&bits, mask + word, sizeof bits);
    const auto unpack = [&](size_t n) {
      const float* in = dy + first;
      float* out = dx + first;
      for (size_t j = 0; j < n; ++j) {
        const float g = in[j];
        out[j] = (bits & kBit[j]) != 0 ? on(g) : off(g);
      }
    };
    if (count == kMaskBits)
      unpack(kMaskBits);
    else
      unpack(count);
  });
}

float relu_value(float x) { return x > 0.0f ? x : 0.0f; }
float leaky_relu_value(float x) { return x > 0.0f ? x : kLeakySlope * x; }
float relu6_value(float x) { return std::min(std::max(x, 0.0f), 6.0f); }
float hard_sigmoid_value(float x) { return std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f; }

}  // namespace

ActivationType parse_activation(const std::string& value, const std::string& owner,
                                const std::string& key) {
  std::vector<std::string> choices;
  for (const NamedActivation& entry : names()) choices.push_back(entry.name);
  std::string name = parse_choice(value, choices, owner, key);
  for (const NamedActivation& entry : names())
    if (name == entry.name) return entry.type;
  ET_ASSERT(false, "activation list is inconsistent");
}

const char* activation_name(ActivationType type) {
  for (const NamedActivation& entry : names())
    if (entry.type == type) return entry.name;
  return "unknown";
}

std::string activation_names() {
  std::string list;
  for (const NamedActivation& entry : names())
    list += (list.empty() ? "" : ", ") + std::string(entry.name);
  return list;
}

bool activation_derivative_needs_input(ActivationType type) {
  return type == ActivationType::swish || type == ActivationType::gelu ||
         type == ActivationType::hard_swish;
}

bool activation_derivative_from_mask(ActivationType type) {
  return type == ActivationType::relu || type == ActivationType::leaky_relu ||
         type == ActivationType::relu6 || type == ActivationType::hard_sigmoid;
}

void activation_forward_masked(ActivationType type, const float* x, float* y, float* mask,
                               size_t rows, size_t row_size, size_t row_words) {
  switch (type) {
    case ActivationType::relu:
      forward_masked(
          x, y, mask, rows, row_size, row_words, [](float v) { return relu_value(v); },
          [](float v) { return v > 0.0f; });
      break;
    case ActivationType::leaky_relu:
      forward_masked(
          x, y, mask, rows, row_size, row_words, [](float v) { return leaky_relu_value(v); },
          [](float v) { return v > 0.0f; });
      break;
    case ActivationType::relu6:
      forward_masked(
          x, y, mask, rows, row_size, row_words, [](float v) { return relu6_value(v); },
          [](float v) { return (v > 0.0f) & (v < 6.0f); });
      break;
    case ActivationType::hard_sigmoid:
      forward_masked(
          x, y, mask, rows, row_size, row_words, [](float v) { return hard_sigmoid_value(v); },
          [](float v) { return (v > 0.0f) & (v < 1.0f); });
      break;
    default:
      ET_ASSERT(false,
                "activation_forward_masked: the derivative of this activation needs more "
                "than a bit");
  }
}

void activation_backward_masked(ActivationType type, const float* mask, const float* dy, float* dx,
                                size_t rows, size_t row_size, size_t row_words) {
  const auto same = [](float g) { return g; };
  const auto zero = [](float) { return 0.0f; };
  switch (type) {
    case ActivationType::relu:
    case ActivationType::relu6:
      backward_masked(mask, dy, dx, rows, row_size, row_words, same, zero);
      break;
    case ActivationType::leaky_relu:
      backward_masked(mask, dy, dx, rows, row_size, row_words, same,
                      [](float g) { return kLeakySlope * g; });
      break;
    case ActivationType::hard_sigmoid:
      backward_masked(
          mask, dy, dx, rows, row_size, row_words, [](float g) { return g / 6.0f; }, zero);
      break;
    default:
      ET_ASSERT(false,
                "activation_backward_masked: the derivative of this activation needs more "
                "than a bit");
  }
}

void activation_forward(ActivationType type, const float* x, float* y, size_t n,
                        size_t row_length) {
  switch (type) {
    case ActivationType::none:
      if (x != y) std::copy(x, x + n, y);
      break;
    case ActivationType::relu:
      each_index(n, 1, [&](size_t i) { y[i] = relu_value(x[i]); });
      break;
    case ActivationType::leaky_relu:
      each_index(n, 1, [&](size_t i) { y[i] = leaky_relu_value(x[i]); });
      break;
    case ActivationType::elu:
      each_index(n, 8, [&](size_t i) { y[i] = x[i] > 0.0f ? x[i] : kEluAlpha * std::expm1(x[i]); });
      break;
    case ActivationType::selu:
      each_index(n, 8, [&](size_t i) {
        y[i] = kSeluScale * (x[i] > 0.0f ? x[i] : kSeluAlpha * std::expm1(x[i]));
      });
      break;
    case ActivationType::sigmoid:
      each_index(n, 8, [&](size_t i) { y[i] = sigmoid(x[i]); });
      break;
    case ActivationType::tanh:
      each_index(n, 8, [&](size_t i) { y[i] = std::tanh(x[i]); });
      break;
    case ActivationType::softmax:
      softmax_rows(x, y, n, row_length);
      break;
    case ActivationType::swish:
      each_index(n, 8, [&](size_t i) { y[i] = x[i] * sigmoid(x[i]); });
      break;
    case ActivationType::gelu:
      each_index(n, 8, [&](size_t i) {
        y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * static_cast<float>(std::numbers::sqrt2 / 2)));
      });
      break;
    case ActivationType::relu6:
      each_index(n, 1, [&](size_t i) { y[i] = relu6_value(x[i]); });
      break;
    case ActivationType::hard_swish:
      each_index(n, 1, [&](size_t i) {
        y[i] = x[i] * std::min(std::max(x[i] + 3.0f, 0.0f), 6.0f) / 6.0f;
      });
      break;
    case ActivationType::hard_sigmoid:
      each_index(n, 1, [&](size_t i) { y[i] = hard_sigmoid_value(x[i]); });
      break;
  }
}

void activation_backward(ActivationType type, const float* x, const float* y, const float* dy,
                         float* dx, size_t n, size_t row_length) {
  switch (type) {
    case ActivationType::none:
      if (dx != dy) std::copy(dy, dy + n, dx);
      break;
    case ActivationType::relu:
      each_index(n, 1, [&](size_t i) {
        const float g = dy[i];  // read unconditionally: the select vectorizes
        dx[i] = y[i] > 0.0f ? g : 0.0f;
      });
      break;
    case ActivationType::leaky_relu:
      each_index(n, 1, [&](size_t i) {
        const float g = dy[i];
        dx[i] = y[i] > 0.0f ? g : kLeakySlope * g;
      });
      break;
    case ActivationType::elu:
      each_index(n, 1, [&](size_t i) {
        const float g = dy[i];
        dx[i] = y[i] > 0.0f ? g : g * (y[i] + kEluAlpha);
      });
      break;
    case ActivationType::selu:
      each_index(n, 1, [&](size_t i) {
        const float g = dy[i];
        dx[i] = y[i] > 0.0f ? g * kSeluScale : g * (y[i] + kSeluScale * kSeluAlpha);
      });
      break;
    case ActivationType::sigmoid:
      each_index(n, 1, [&](size_t i) { dx[i] = dy[i] * y[i] * (1.0f - y[i]); });
      break;
    case ActivationType::tanh:
      each_index(n, 1, [&](size_t i) { dx[i] = dy[i] * (1.0f - y[i] * y[i]); });
      break;
    case ActivationType::softmax:
      each_row(n, row_length, 2, [&](size_t row) {
        double dot = 0.0;
        for (size_t i = row; i < row + row_length; ++i) dot += static_cast<double>(dy[i]) * y[i];
        for (size_t i = row; i < row + row_length; ++i)
          dx[i] = y[i] * (dy[i] - static_cast<float>(dot));
      });
      break;
    case ActivationType::swish:
      each_index(n, 8, [&](size_t i) {
        float s = sigmoid(x[i]);
        dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
      });
      break;
    case ActivationType::gelu: {
      const float inv_sqrt2 = static_cast<float>(std::numbers::sqrt2 / 2);
      const float inv_sqrt_2pi =
          static_cast<float>(std::numbers::inv_sqrtpi * std::numbers::sqrt2 / 2);
      each_index(n, 8, [&](size_t i) {
        float cdf = 0.5f * (1.0f + std::erf(x[i] * inv_sqrt2));
        float pdf = inv_sqrt_2pi * std::exp(-0.5f * x[i] * x[i]);
        dx[i] = dy[i] * (cdf + x[i] * pdf);
      });
      break;
    }
    case ActivationType::relu6:
      each_index(n, 1, [&](size_t i) {
        const float g = dy[i];
        dx[i] = (y[i] > 0.0f && y[i] < 6.0f) ? g : 0.0f;
      });
      break;
    case ActivationType::hard_swish:
      each_index(n, 1, [&](size_t i) {
        const float g = dy[i];
        dx[i] = x[i] < -3.0f ? 0.0f : (x[i] <= 3.0f ? g * (x[i] / 3.0f + 0.5f) : g);
      });
      break;
    case ActivationType::hard_sigmoid:
      each_index(n, 1, [&](size_t i) {
        const float g = dy[i];
        dx[i] = (y[i] > 0.0f && y[i] < 1.0f) ? g / 6.0f : 0.0f;
      });
      break;
  }
}

}  // namespace edgetrain
