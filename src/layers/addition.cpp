#include "layers/addition.h"

#include "edgetrain/error.h"
#include "kernels/elementwise.h"

namespace edgetrain {

void AdditionLayer::finalize(FinalizeContext& context) {
  if (context.num_inputs() < 2)
    throw ShapeError(context.owner() + " has " + std::to_string(context.num_inputs()) +
                     " input(s), expected at least 2 (set input_layers)");
  const TensorShape& first = context.input_shape(0);
  for (size_t i = 1; i < context.num_inputs(); ++i)
    if (!(context.input_shape(i) == first))
      context.shape_error(i,
                          first.str() + " like input 0 from layer '" + context.input_name(0) + "'");
  context.set_output_shape(first);
}

void AdditionLayer::forward(RunContext& context) {
  Tensor& output = context.output();
  kernels::add(context.input(0).data(), context.input(1).data(), output.data(), output.size());
  for (size_t i = 2; i < context.num_inputs(); ++i)
    kernels::add_inplace(output.data(), context.input(i).data(), output.size());
}

void AdditionLayer::calc_derivative(RunContext& context) {
  for (size_t i = 0; i < context.num_inputs(); ++i)
    if (context.needs_input_grad(i)) context.input_grad(i).copy_from(context.output_grad());
}

}  // namespace edgetrain
