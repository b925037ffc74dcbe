#include "layers/multiout.h"

#include "edgetrain/properties.h"
#include "kernels/elementwise.h"

namespace edgetrain {

bool MultiOutLayer::set_property(const std::string& key, const std::string& value,
                                 const std::string& owner) {
  if (key != "outputs") return false;
  outputs_ = parse_positive(value, owner, key);
  return true;
}

void MultiOutLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  context.set_output_shapes(std::vector<TensorShape>(outputs_, context.input_shape()));
}

void MultiOutLayer::calc_derivative(RunContext& context) {
  Tensor& sum = context.input_grad();
  sum.copy_from(context.output_grad(0));
  for (size_t i = 1; i < context.num_outputs(); ++i)
    kernels::add_inplace(sum.data(), context.output_grad(i).data(), sum.size());
}

}  // namespace edgetrain
