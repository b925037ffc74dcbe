// Base of the loss layers: one input (the prediction), a label of the same shape, and a
// 1:1:1:1 output holding the loss averaged as PyTorch's reduction='mean' does.
// calc_derivative writes dL/d(prediction); losses end the graph, so there is no
// incoming gradient. A loss with more inputs overrides finalize; the graph gives only
// input 0 a label (see Layer::is_loss).
#pragma once

#include "edgetrain/layer.h"

namespace edgetrain {

class LossLayer : public Layer {
 public:
  bool is_loss() const override { return true; }
  void finalize(FinalizeContext& context) override {
    context.expect_inputs(1, 1);
    context.set_output_shape(TensorShape(1, 1, 1, 1));
  }
};

}  // namespace edgetrain
