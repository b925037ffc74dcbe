// input: where data enters the graph. The loader writes into its output; forward does
// nothing. Property: input_shape = C:H:W (or any 1-3 dims; the batch comes from the model).
#pragma once

#include "edgetrain/layer.h"

namespace edgetrain {

class InputLayer : public Layer {
 public:
  InputLayer() = default;
  explicit InputLayer(TensorShape shape) : shape_(shape), has_shape_(true) {}

  std::string type() const override { return "input"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override { return "input_shape"; }
  void finalize(FinalizeContext& context) override;
  void forward(RunContext&) override {}
  void calc_derivative(RunContext&) override {}
  bool backward_needs_input(size_t) const override { return false; }

 private:
  TensorShape shape_;
  bool has_shape_ = false;
};

}  // namespace edgetrain
