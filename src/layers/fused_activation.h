// The activation= property of layers that apply an activation to their own output
// (fully_connected, conv2d, conv2dtranspose), without a separate layer and tensor in the graph.
//
// The owning layer writes its pre-activation result Z to pre_activation(), calls
// apply() to get Y = f(Z) in its output, and in backward reads dL/dZ from
// pre_activation_grad(). Z is kept only when f' needs it (gelu, swish, hard_swish);
// otherwise Z lives in the output memory and f' is computed from Y, or, for relu,
// leaky_relu, relu6 and hard_sigmoid, from one bit per value that apply() keeps
// ("activation_mask", forward to backward: one row of whole 32-bit words per sample, so
// that per-sample loops on several threads never share a word). The owner's backward
// then reads neither Z nor Y.
#pragma once

#include <string>

#include "edgetrain/layer.h"
#include "layers/activation_functions.h"

namespace edgetrain {

class FusedActivation {
 public:
  // Handles the "activation" key.
  bool set_property(const std::string& key, const std::string& value, const std::string& owner);
  ActivationType type() const { return type_; }
  bool active() const { return type_ != ActivationType::none; }
  // Whether the owner's backward reads its output.
  bool needs_output() const {
    return active() && !activation_derivative_needs_input(type_) &&
           !activation_derivative_from_mask(type_);
  }

  // Declares Z (saved) or the mask (saved), and dL/dZ (backward scratch) as needed for `output`
  // shape. With `slots` > 0 the dL/dZ scratch holds `slots` samples, one per thread of the owner's
  // per-sample loops (sample_pre_activation_grad), instead of the whole batch.
  void finalize(FinalizeContext& context, const TensorShape& output, size_t slots = 0);
  // Where the owner writes Z.
  float* pre_activation(RunContext& context);
  // Output = f(Z).
  void apply(RunContext& context);
  // Output = f(Z) for sample n alone, for per-sample loops on several threads (each
  // sample's mask bits are whole words of its own).
  void apply_sample(RunContext& context, size_t n);
  // dL/dZ, computed into scratch when an activation is fused (finalize with slots 0).
  const float* pre_activation_grad(RunContext& context);
  // dL/dZ of sample n alone, computed into slot `slot` of the scratch when an activation is
  // fused (finalize with slots > 0); else sample n of the output gradient itself.
  const float* sample_pre_activation_grad(RunContext& context, size_t n, size_t slot);

 private:
  ActivationType type_ = ActivationType::none;
  int saved_input_ = -1;     // index of Z in the layer's tensors
  int grad_scratch_ = -1;    // index of dL/dZ
  int mask_ = -1;            // index of the mask (activation_derivative_from_mask)
  size_t sample_size_ = 0;   // values per sample
  size_t sample_words_ = 0;  // mask words per sample
};

}  // namespace edgetrain
