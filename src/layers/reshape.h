// reshape: each sample seen with another C:H:W shape, as torch.reshape(x, (N, C, H, W)).
//   input N:C:H:W  ->  output N:target_shape, with C*H*W equal on both sides
// Property: target_shape = C:H:W, or H:W or W with the leading dims 1 (required; NNTrainer's
// name). Sizes are exact: no -1 dimension to infer.
// A view: the output is the input's memory seen with another shape, so the graph binds it
// without calling forward, and dL/d(input) is dL/d(output) without a call to
// calc_derivative. Nothing is copied either way.
#pragma once

#include <optional>

#include "edgetrain/layer.h"

namespace edgetrain {

class ReshapeLayer : public Layer {
 public:
  std::string type() const override { return "reshape"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override { return "target_shape"; }
  void finalize(FinalizeContext& context) override;
  // Never called: the graph binds views (see output_is_input_view).
  void forward(RunContext&) override {}
  void calc_derivative(RunContext&) override {}
  bool backward_needs_input(size_t) const override { return false; }
  bool output_is_input_view() const override { return true; }

 private:
  std::optional<TensorShape> target_;  // batch 1; the batch comes from the input
};

}  // namespace edgetrain
