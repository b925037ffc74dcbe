// The properties of layers with a weight and an optional bias (fully_connected, conv2d,
// conv2dtranspose): bias (true; NNTrainer's disable_bias=true also works), weight_initializer
// (xavier_uniform, NNTrainer's default), bias_initializer (zeros).
#pragma once

#include <string>

#include "edgetrain/initializer.h"

namespace edgetrain {

struct WeightProperties {
  bool bias = true;
  Initializer weight_initializer = Initializer::xavier_uniform;
  Initializer bias_initializer = Initializer::zeros;

  // Returns false for keys that are not these; throws PropertyError on a bad value.
  bool set_property(const std::string& key, const std::string& value, const std::string& owner);
  static constexpr const char* kKeys = "bias, disable_bias, weight_initializer, bias_initializer";
};

}  // namespace edgetrain
