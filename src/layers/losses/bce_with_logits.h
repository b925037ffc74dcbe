// bce_with_logits: binary cross-entropy on logits, as torch.nn.BCEWithLogitsLoss
// (reduction='mean', no weight or pos_weight).
//   input  N:C:H:W logits x, label the same shape with targets y in [0, 1]
//   loss   (1 / n) * sum of max(x, 0) - x * y + log(1 + exp(-|x|)), n = all elements
//   dL/dx = (sigmoid(x) - y) / n
// The form above equals -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) but never
// exponentiates a positive number, so it stays finite for any |x|. No properties.
#pragma once

#include "layers/losses/loss_layer.h"

namespace edgetrain {

class BceWithLogitsLoss : public LossLayer {
 public:
  std::string type() const override { return "bce_with_logits"; }
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
};

}  // namespace edgetrain
