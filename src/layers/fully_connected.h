// fully_connected: Y = X W^T + b on the last dimension, as torch.nn.Linear.
//   input  N:C:H:in  ->  output N:C:H:unit
//   weight 1:1:unit:in (PyTorch's [out, in] layout), bias 1:1:1:unit
// Properties: unit (required), bias (default true; NNTrainer's disable_bias=true also
// works), weight_initializer (xavier_uniform), bias_initializer (zeros), activation.
// A fused relu, leaky_relu, relu6 or hard_sigmoid keeps one bit per output value for
// backward instead of the output (layers/fused_activation.h).
#pragma once

#include "edgetrain/layer.h"
#include "layers/fused_activation.h"
#include "layers/weight_properties.h"

namespace edgetrain {

class FullyConnectedLayer : public Layer {
 public:
  std::string type() const override { return "fully_connected"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  void calc_gradient(RunContext& context) override;
  bool backward_needs_output(size_t) const override { return activation_.needs_output(); }
  // Only calc_gradient reads the input; a frozen layer does not.
  bool backward_needs_input(size_t) const override { return trainable_; }
  bool forward_is_repeatable() const override { return true; }
  bool supports_fused_update() const override { return true; }
  bool derivative_needs_input(size_t) const override { return false; }

 private:
  size_t unit_ = 0;
  WeightProperties weights_;
  FusedActivation activation_;
  size_t in_ = 0;
  bool trainable_ = true;
};

}  // namespace edgetrain
