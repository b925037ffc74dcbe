#include "optim/adamw.h"

namespace edgetrain {

// PyTorch's AdamW decays by default, unlike Adam.
AdamW::AdamW() : Adam(WeightDecay::kDecoupled, 0.01f) {}

}  // namespace edgetrain
