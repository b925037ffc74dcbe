#include "layers/conv_properties.h"

#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {

bool ConvProperties::set_conv_property(const std::string& key, const std::string& value,
                                       const std::string& owner) {
  if (key == "filters") {
    filters_ = parse_positive(value, owner, key);
  } else if (key == "kernel_size") {
    kernel_size_ = parse_positive_pair(value, owner, key);
  } else if (key == "stride") {
    stride_ = parse_positive_pair(value, owner, key);
  } else if (key == "dilation") {
    dilation_ = parse_positive_pair(value, owner, key);
  } else if (key == "groups") {
    groups_ = parse_positive(value, owner, key);
  } else if (key == "padding") {
    padding_ = Padding2D::parse(value, owner, key);
  } else {
    return weights_.set_property(key, value, owner) || activation_.set_property(key, value, owner);
  }
  return true;
}

std::string ConvProperties::conv_property_keys() {
  return std::string("filters, kernel_size, stride, dilation, groups, padding, ") +
         WeightProperties::kKeys + ", activation";
}

void ConvProperties::check_conv_properties(const FinalizeContext& context) const {
  if (filters_ == 0)
    throw PropertyError(context.owner() + ": property 'filters' is required (e.g. filters=8)");
  if (kernel_size_[0] == 0)
    throw PropertyError(context.owner() +
                        ": property 'kernel_size' is required (e.g. kernel_size=3,3)");
  if (filters_ % groups_ != 0)
    throw PropertyError(context.owner() + ": filters=" + std::to_string(filters_) +
                        " is not divisible by groups=" + std::to_string(groups_));
  if (context.input_shape().channel % groups_ != 0)
    context.shape_error(0, "a channel count divisible by groups=" + std::to_string(groups_));
}

}  // namespace edgetrain
