// addition: the element-wise sum of its inputs, as x0 + x1 + ... in PyTorch (without
// broadcasting).
//   2 or more inputs N:C:H:W of one shape  ->  output N:C:H:W
// No properties. Backward gives each input that needs a gradient a copy of dL/d(output);
// it reads no input.
#pragma once

#include "edgetrain/layer.h"

namespace edgetrain {

class AdditionLayer : public Layer {
 public:
  std::string type() const override { return "addition"; }
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  bool backward_needs_input(size_t) const override { return false; }
  bool forward_is_repeatable() const override { return true; }
  // Forward writes x0 + x1 first, so only inputs 0 and 1 may share the output's memory.
  bool supports_in_place(size_t i) const override { return i < 2; }
  // One input gradient may be dL/d(output) itself; the others are copied from it.
  bool supports_in_place_derivative(size_t) const override { return true; }
};

}  // namespace edgetrain
