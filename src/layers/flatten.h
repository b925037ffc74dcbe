// flatten: each sample as one row, as torch.nn.Flatten().
//   input N:C:H:W  ->  output N:1:1:(C*H*W)
// No properties. A view: the output is the input's memory seen with another shape, so
// the graph binds it without calling forward, and dL/d(input) is dL/d(output) without a
// call to calc_derivative. Nothing is copied either way.
#pragma once

#include "edgetrain/layer.h"

namespace edgetrain {

class FlattenLayer : public Layer {
 public:
  std::string type() const override { return "flatten"; }
  void finalize(FinalizeContext& context) override;
  // Never called: the graph binds views (see output_is_input_view).
  void forward(RunContext&) override {}
  void calc_derivative(RunContext&) override {}
  bool backward_needs_input(size_t) const override { return false; }
  bool output_is_input_view() const override { return true; }
};

}  // namespace edgetrain
