// dropout: inverted dropout, as torch.nn.Dropout. In training each value is zeroed with
// probability `rate` and the kept ones are scaled by 1 / (1 - rate), so the expected
// output equals the input; in evaluation the layer is the identity.
//   input N:C:H:W  ->  output N:C:H:W, no weights
// Properties: dropout_rate (also "rate"), in [0, 1); default 0.5 as in PyTorch.
// The mask is drawn from the run's seeded random stream and kept, one bit per value, until
// backward, which applies the same mask; backward reads neither input nor output. Backward
// follows the mode of the forward before it: after an evaluation forward it is the identity.
#pragma once

#include "edgetrain/layer.h"

namespace edgetrain {

class DropoutLayer : public Layer {
 public:
  std::string type() const override { return "dropout"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override { return "dropout_rate, rate"; }
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  bool backward_needs_input(size_t) const override { return false; }
  // Elementwise with the saved mask both ways, so both run in place.
  bool supports_in_place(size_t) const override { return true; }
  bool supports_in_place_derivative(size_t) const override { return true; }

 private:
  // Whether this run drops anything; otherwise forward and backward copy.
  bool dropping(const RunContext& context) const { return context.training() && rate_ > 0.0f; }

  float rate_ = 0.5f;
  int mask_ = -1;  // index of the scaled mask tensor; -1 when rate is 0
};

}  // namespace edgetrain
