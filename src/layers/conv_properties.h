// The properties conv2d and conv2dtranspose share, parsed and checked in one place:
//   filters (required), kernel_size (required; "3" or "3,3"), stride (1,1),
//   dilation (1,1), groups (1), padding (valid; see padding2d.h), bias and the
//   initializers (weight_properties.h), activation (fused_activation.h).
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "edgetrain/layer.h"
#include "layers/fused_activation.h"
#include "layers/padding2d.h"
#include "layers/weight_properties.h"

namespace edgetrain {

class ConvProperties {
 protected:
  // Returns false for keys that are not these; throws PropertyError on a bad value.
  bool set_conv_property(const std::string& key, const std::string& value,
                         const std::string& owner);
  static std::string conv_property_keys();
  // filters and kernel_size set; filters and the input channels divisible by groups.
  void check_conv_properties(const FinalizeContext& context) const;

  size_t filters_ = 0;
  std::array<size_t, 2> kernel_size_ = {0, 0};
  std::array<size_t, 2> stride_ = {1, 1};
  std::array<size_t, 2> dilation_ = {1, 1};
  size_t groups_ = 1;
  Padding2D padding_;
  WeightProperties weights_;
  FusedActivation activation_;
};

}  // namespace edgetrain
