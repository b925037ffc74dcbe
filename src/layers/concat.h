// concat: the inputs joined along one axis, as torch.cat(inputs, dim=axis).
//   2 or more inputs, equal in every dimension but the axis, e.g. for axis=3:
//   N:C:H:W0, N:C:H:W1, ...  ->  output N:C:H:(W0+W1+...)
// Property: axis = 1 (channel) | 2 (height) | 3 (width), default 3.
//   NNTrainer's default depends on the input (width when input 0 has more than one
//   channel, channel otherwise); edgetrain's is always width, so that the output shape
//   does not change with the input's. Set axis explicitly when porting an NNTrainer model.
// Backward splits dL/d(output) among the inputs that need a gradient; it reads no input.
#pragma once

#include <vector>

#include "edgetrain/layer.h"

namespace edgetrain {

class ConcatLayer : public Layer {
 public:
  std::string type() const override { return "concat"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override { return "axis"; }
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  bool backward_needs_input(size_t) const override { return false; }
  bool forward_is_repeatable() const override { return true; }

 private:
  void check_shapes(const FinalizeContext& context) const;

  size_t axis_ = 3;
  // Seen as rows (everything before the axis, batch included), each tensor is a sequence
  // of blocks (the axis and everything after it). The output's block is the inputs'
  // blocks side by side.
  std::vector<size_t> input_blocks_;
  size_t output_block_ = 0;
};

}  // namespace edgetrain
