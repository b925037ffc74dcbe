#include "layers/fused_activation.h"

namespace edgetrain {

bool FusedActivation::set_property(const std::string& key, const std::string& value,
                                   const std::string& owner) {
  if (key != "activation") return false;
  type_ = parse_activation(value, owner, key);
  return true;
}

void FusedActivation::finalize(FinalizeContext& context, const TensorShape& output, size_t slots) {
  saved_input_ = grad_scratch_ = mask_ = -1;
  if (!active()) return;
  sample_size_ = output.feature_size();
  sample_words_ = mask_words(sample_size_);
  if (activation_derivative_needs_input(type_))
    saved_input_ = static_cast<int>(
        context.request_tensor("pre_activation", output, Lifespan::forward_to_backward));
  if (activation_derivative_from_mask(type_))
    mask_ = static_cast<int>(
        context.request_tensor("activation_mask", TensorShape(context.batch(), 1, 1, sample_words_),
                               Lifespan::forward_to_backward));
  const TensorShape scratch = slots > 0 ? output.with_batch(slots) : output;
  grad_scratch_ =
      static_cast<int>(context.request_tensor("pre_activation_grad", scratch, Lifespan::backward));
}

float* FusedActivation::pre_activation(RunContext& context) {
  return saved_input_ >= 0 ? context.tensor(saved_input_).data() : context.output().data();
}

void FusedActivation::apply(RunContext& context) {
  if (!active()) return;
  Tensor& output = context.output();
  if (mask_ >= 0) {
    activation_forward_masked(type_, pre_activation(context), output.data(),
                              context.tensor(mask_).data(), output.batch(), sample_size_,
                              sample_words_);
    return;
  }
  activation_forward(type_, pre_activation(context), output.data(), output.size(),
                     output.shape().width);
}

void FusedActivation::apply_sample(RunContext& context, size_t n) {
  if (!active()) return;
  Tensor& output = context.output();
  const float* z = pre_activation(context) + n * sample_size_;
  float* y = output.data() + n * sample_size_;
  if (mask_ >= 0)
    activation_forward_masked(type_, z, y, context.tensor(mask_).data() + n * sample_words_, 1,
                              sample_size_, sample_words_);
  else
    activation_forward(type_, z, y, sample_size_, output.shape().width);
}

const float* FusedActivation::pre_activation_grad(RunContext& context) {
  const Tensor& grad = context.output_grad();
  if (!active()) return grad.data();
  float* scratch = context.tensor(grad_scratch_).data();
  if (mask_ >= 0) {
    activation_backward_masked(type_, context.tensor(mask_).data(), grad.data(), scratch,
                               grad.batch(), sample_size_, sample_words_);
    return scratch;
  }
  const float* z = saved_input_ >= 0 ? context.tensor(saved_input_).data() : nullptr;
  const Tensor& output = context.output();
  activation_backward(type_, z, output.data(), grad.data(), scratch, grad.size(),
                      output.shape().width);
  return scratch;
}

const float* FusedActivation::sample_pre_activation_grad(RunContext& context, size_t n,
                                                         size_t slot) {
  const Tensor& grad = context.output_grad();
  const size_t size = grad.shape().feature_size();
  if (!active()) return grad.data() + n * size;
  float* scratch = context.tensor(grad_scratch_).data() + slot * size;
  if (mask_ >= 0) {
    activation_backward_masked(type_, context.tensor(mask_).data() + n * sample_words_,
                               grad.data() + n * size, scratch, 1, size, sample_words_);
    return scratch;
  }
  const float* z = saved_input_ >= 0 ? context.tensor(saved_input_).data() + n * size : nullptr;
  const Tensor& output = context.output();
  activation_backward(type_, z, output.data() + n * size, grad.data() + n * size, scratch, size,
                      output.shape().width);
  return scratch;
}

}  // namespace edgetrain
