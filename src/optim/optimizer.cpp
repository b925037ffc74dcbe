// What every optimizer shares.
#include "edgetrain/optimizer.h"

#include "edgetrain/properties.h"

namespace edgetrain {

bool Optimizer::set_common_property(const std::string& key, const std::string& value,
                                    const std::string& owner) {
  if (key != "clip_grad_norm") return false;
  clip_grad_norm_ = parse_positive_float(value, owner, key);
  return true;
}

}  // namespace edgetrain
