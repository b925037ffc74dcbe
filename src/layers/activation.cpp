#include "layers/activation.h"

#include "edgetrain/error.h"

namespace edgetrain {

bool ActivationLayer::set_property(const std::string& key, const std::string& value,
                                   const std::string& owner) {
  if (key != "activation") return false;
  activation_ = parse_activation(value, owner, key);
  has_activation_ = true;
  return true;
}

bool ActivationLayer::derivative_reads_input() const {
  return activation_derivative_needs_input(activation_);
}

// The identity ("none") reads neither its input nor its output, nor do the activations
// that keep a mask.
bool ActivationLayer::derivative_reads_output() const {
  return activation_ != ActivationType::none && !derivative_reads_input() &&
         !derivative_from_mask();
}

void ActivationLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  if (!has_activation_)
    throw PropertyError(context.owner() +
                        ": property 'activation' is required (one of: " + activation_names() + ")");
  context.set_output_shape(context.input_shape());
  // One bit per value, 32 to a float's memory, as one row over the batch. Requested
  // tensors keep their declared shape: sized for the compiled batch, of which a smaller
  // last batch uses the first bits.
  mask_ = -1;
  if (derivative_from_mask()) {
    const size_t words = mask_words(context.input_shape().with_batch(context.batch()).size());
    mask_ = static_cast<int>(
        context.request_tensor("mask", TensorShape(1, 1, 1, words), Lifespan::forward_to_backward));
  }
}

void ActivationLayer::forward(RunContext& context) {
  const Tensor& input = context.input();
  Tensor& output = context.output();
  if (mask_ >= 0) {
    const size_t n = output.size();
    activation_forward_masked(activation_, input.data(), output.data(),
                              context.tensor(mask_).data(), 1, n, mask_words(n));
    return;
  }
  activation_forward(activation_, input.data(), output.data(), output.size(), output.shape().width);
}

void ActivationLayer::calc_derivative(RunContext& context) {
  if (!context.needs_input_grad()) return;
  const Tensor& output_grad = context.output_grad();
  if (mask_ >= 0) {
    const size_t n = output_grad.size();
    activation_backward_masked(activation_, context.tensor(mask_).data(), output_grad.data(),
                               context.input_grad().data(), 1, n, mask_words(n));
    return;
  }
  // Hand over only what backward declared: reading anything else would be a planner bug.
  const float* x = derivative_reads_input() ? context.input().data() : nullptr;
  const float* y = derivative_reads_output() ? context.output().data() : nullptr;
  activation_backward(activation_, x, y, output_grad.data(), context.input_grad().data(),
                      output_grad.size(), output_grad.shape().width);
}

}  // namespace edgetrain
