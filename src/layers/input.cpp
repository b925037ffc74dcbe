#include "layers/input.h"

#include "edgetrain/error.h"

namespace edgetrain {

bool InputLayer::set_property(const std::string& key, const std::string& value,
                              const std::string& owner) {
  if (key != "input_shape") return false;
  try {
    shape_ = TensorShape::parse(value);
  } catch (const PropertyError& error) {
    throw PropertyError(owner + ": property 'input_shape': " + error.what());
  }
  has_shape_ = true;
  return true;
}

void InputLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(0, 0);
  if (!has_shape_)
    throw PropertyError(context.owner() + ": input_shape is not set (e.g. input_shape=1:28:28)");
  context.set_output_shape(shape_.with_batch(context.batch()));
}

}  // namespace edgetrain
