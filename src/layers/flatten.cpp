#include "layers/flatten.h"

namespace edgetrain {

void FlattenLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  const TensorShape& input = context.input_shape();
  context.set_output_shape(TensorShape(input.batch, 1, 1, input.feature_size()));
}

}  // namespace edgetrain
