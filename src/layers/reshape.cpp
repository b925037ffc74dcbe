#include "layers/reshape.h"

#include <algorithm>

#include "edgetrain/error.h"

namespace edgetrain {

bool ReshapeLayer::set_property(const std::string& key, const std::string& value,
                                const std::string& owner) {
  if (key != "target_shape") return false;
  // TensorShape::parse would read a fourth dimension as the batch, which is not ours.
  if (std::count(value.begin(), value.end(), ':') > 2)
    throw PropertyError(owner + ": property 'target_shape' has bad value '" + value +
                        "': expected C:H:W without the batch, e.g. 1:4:9");
  try {
    target_ = TensorShape::parse(value);
  } catch (const PropertyError& error) {
    throw PropertyError(owner + ": property 'target_shape': " + error.what());
  }
  return true;
}

void ReshapeLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  if (!target_)
    throw PropertyError(context.owner() +
                        ": property 'target_shape' is required (e.g. target_shape=1:4:9)");
  const TensorShape& input = context.input_shape();
  if (target_->feature_size() != input.feature_size()) {
    const std::string target = std::to_string(target_->channel) + ":" +
                               std::to_string(target_->height) + ":" +
                               std::to_string(target_->width);
    context.shape_error(0, "C*H*W = " + std::to_string(target_->feature_size()) +
                               " to match target_shape " + target + ", not " +
                               std::to_string(input.feature_size()));
  }
  context.set_output_shape(target_->with_batch(input.batch));
}

}  // namespace edgetrain
