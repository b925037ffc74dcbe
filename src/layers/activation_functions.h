// The activation functions, shared by the activation layer and by layers that fuse an
// activation= property (fully_connected, conv2d). Gradients follow PyTorch's formulas.
#pragma once

#include <cstddef>
#include <string>

namespace edgetrain {

enum class ActivationType {
  none,
  relu,
  leaky_relu,  // slope 0.01 (PyTorch's default)
  elu,         // alpha 1
  selu,
  sigmoid,
  tanh,
  softmax,  // over the last (width) dimension
  swish,    // x * sigmoid(x), PyTorch's SiLU
  gelu,     // exact: x * Phi(x)
  relu6,
  hard_swish,    // x * relu6(x + 3) / 6
  hard_sigmoid,  // relu6(x + 3) / 6
};

// Parses a name (also "silu" for swish, "linear"/"none" for none); the error lists them.
ActivationType parse_activation(const std::string& value, const std::string& owner,
                                const std::string& key);
const char* activation_name(ActivationType type);
// Names for the property_keys/help text.
std::string activation_names();

// Whether the derivative is computed from the input x, or else from the output y.
bool activation_derivative_needs_input(ActivationType type);

// Whether f'(x) is one of two constant factors chosen by one bit per value, a function of
// y: relu (y > 0), leaky_relu (y > 0), relu6 (0 < y < 6), hard_sigmoid (0 < y < 1). Backward
// then keeps that bit (activation_forward_masked) instead of x or y: 1/32 of the memory.
// elu and selu need y itself, the others x or y.
bool activation_derivative_from_mask(ActivationType type);

// Mask bits in one 32-bit word (a float's memory in the arena).
constexpr size_t kMaskBits = 32;
// Words holding one bit for each of `values` values.
constexpr size_t mask_words(size_t values) { return (values + kMaskBits - 1) / kMaskBits; }

// Mask layout: `rows` rows of `row_size` values; row r's bits start at word r * row_words
// (row_words >= mask_words(row_size)), value j of a row is bit j % 32 of the row's word
// j / 32, and the bits past row_size in a row's last word are 0. Rows starting on whole
// words let per-sample loops on several threads each write only their own words.
//
// y = f(x) for rows * row_size values as activation_forward, and the bits f' needs into
// `mask` (words in the arena's float memory). Only for activation_derivative_from_mask
// types. x and y may be the same array.
void activation_forward_masked(ActivationType type, const float* x, float* y, float* mask,
                               size_t rows, size_t row_size, size_t row_words);
// dx = dy * f'(x) from the mask activation_forward_masked wrote; the same values as
// activation_backward. dx may alias dy.
void activation_backward_masked(ActivationType type, const float* mask, const float* dy, float* dx,
                                size_t rows, size_t row_size, size_t row_words);

// y = f(x) for n values; softmax works on consecutive rows of `row_length` values.
// x and y may be the same array.
void activation_forward(ActivationType type, const float* x, float* y, size_t n, size_t row_length);

// dx = dy * f'(x). Reads x when activation_derivative_needs_input(type), else y.
// dx may alias dy.
void activation_backward(ActivationType type, const float* x, const float* y, const float* dy,
                         float* dx, size_t n, size_t row_length);

}  // namespace edgetrain
