// activation: Y = f(X) elementwise (softmax: over the width dimension), as the
// torch.nn activation modules (ReLU, LeakyReLU, ELU, SELU, Sigmoid, Tanh, Softmax(dim=-1),
// SiLU, GELU, ReLU6, Hardswish, Hardsigmoid).
//   input N:C:H:W  ->  output N:C:H:W, no weights
// Properties: activation (required): one of activation_names(), e.g. relu, gelu, softmax.
// Backward reads the input or the output, whichever the derivative is computed from
// (activation_derivative_needs_input), so the planner can free the other; relu, leaky_relu,
// relu6 and hard_sigmoid read neither but keep one bit per value ("mask", forward to
// backward; activation_derivative_from_mask), so their output may die as soon as its
// readers' forwards have run. Runs in place
// (output over input) unless the derivative reads the input (swish, gelu, hard_swish); the
// input gradient may always share the output gradient's memory.
#pragma once

#include "edgetrain/layer.h"
#include "layers/activation_functions.h"

namespace edgetrain {

class ActivationLayer : public Layer {
 public:
  std::string type() const override { return "activation"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override { return "activation"; }
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  bool backward_needs_input(size_t) const override { return derivative_reads_input(); }
  bool forward_is_repeatable() const override { return true; }
  bool backward_needs_output(size_t) const override { return derivative_reads_output(); }
  // activation_forward/backward work in place; the derivative must not read the input.
  bool supports_in_place(size_t) const override { return !derivative_reads_input(); }
  bool supports_in_place_derivative(size_t) const override { return true; }

 private:
  bool derivative_reads_input() const;
  bool derivative_reads_output() const;
  bool derivative_from_mask() const { return activation_derivative_from_mask(activation_); }

  bool has_activation_ = false;  // the property is required; "none" is a valid value
  ActivationType activation_ = ActivationType::none;
  int mask_ = -1;  // index of the mask tensor, for derivative_from_mask()
};

}  // namespace edgetrain
