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

// y = f(x) for n values; softmax works on consecutive rows of `row_length` values.
// x and y may be the same array.
void activation_forward(ActivationType type, const float* x, float* y, size_t n, size_t row_length);

// dx = dy * f'(x). Reads x when activation_derivative_needs_input(type), else y.
// dx may alias dy.
void activation_backward(ActivationType type, const float* x, const float* y, const float* dy,
                         float* dx, size_t n, size_t row_length);

}  // namespace edgetrain
