#include "layers/weight_properties.h"

#include "edgetrain/properties.h"

namespace edgetrain {

bool WeightProperties::set_property(const std::string& key, const std::string& value,
                                    const std::string& owner) {
  if (key == "bias") {
    bias = parse_bool(value, owner, key);
  } else if (key == "disable_bias") {
    bias = !parse_bool(value, owner, key);
  } else if (key == "weight_initializer") {
    weight_initializer = parse_initializer(value, owner, key);
  } else if (key == "bias_initializer") {
    bias_initializer = parse_initializer(value, owner, key);
  } else {
    return false;
  }
  return true;
}

}  // namespace edgetrain
