// mse: mean over all elements of (prediction - label)^2, as torch.nn.MSELoss.
#pragma once

#include "layers/losses/loss_layer.h"

namespace edgetrain {

class MseLoss : public LossLayer {
 public:
  std::string type() const override { return "mse"; }
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
};

}  // namespace edgetrain
