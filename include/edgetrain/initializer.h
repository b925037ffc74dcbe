// Weight initializers, with PyTorch's formulas (torch.nn.init).
#pragma once

#include <cstddef>
#include <string>

#include "edgetrain/rng.h"
#include "edgetrain/tensor.h"

namespace edgetrain {

enum class Initializer {
  zeros,
  ones,
  xavier_uniform,  // U(-a, a), a = sqrt(6 / (fan_in + fan_out)); also "glorot_uniform"
  xavier_normal,   // N(0, 2 / (fan_in + fan_out)); also "glorot_normal"
  he_uniform,      // U(-a, a), a = sqrt(6 / fan_in); also "kaiming_uniform"
  he_normal,       // N(0, 2 / fan_in); also "kaiming_normal"
  lecun_uniform,   // U(-a, a), a = sqrt(3 / fan_in)
  lecun_normal,    // N(0, 1 / fan_in)
};

// Parses a name above; throws PropertyError listing the names.
Initializer parse_initializer(const std::string& value, const std::string& owner,
                              const std::string& key);
const char* initializer_name(Initializer initializer);

// Fills `tensor`. fan_in/fan_out are those of PyTorch's _calculate_fan_in_and_fan_out.
void initialize(Tensor& tensor, Initializer initializer, size_t fan_in, size_t fan_out, Rng& rng);

}  // namespace edgetrain
