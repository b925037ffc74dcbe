// multiout: the graph inserts one where an output feeds several layers. Forward is a
// view (every output is the input); backward sums the consumers' gradients.
#pragma once

#include "edgetrain/layer.h"

namespace edgetrain {

class MultiOutLayer : public Layer {
 public:
  explicit MultiOutLayer(size_t outputs = 2) : outputs_(outputs) {}

  std::string type() const override { return "multiout"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override { return "outputs"; }
  void finalize(FinalizeContext& context) override;
  void forward(RunContext&) override {}
  void calc_derivative(RunContext& context) override;
  bool backward_needs_input(size_t) const override { return false; }
  bool output_is_input_view() const override { return true; }
  // The sum may be written over the first consumer's gradient.
  bool supports_in_place_derivative(size_t) const override { return true; }

 private:
  size_t outputs_;
};

}  // namespace edgetrain
