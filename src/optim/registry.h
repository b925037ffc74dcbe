// Optimizers and schedulers created by type name without their properties, for callers
// that set properties one at a time and then call validate(): the model file (which
// reports each key at its line) and schedulers that own another (warmup).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "edgetrain/optimizer.h"

namespace edgetrain {

// The optimizer or scheduler of `type` (any case) with its defaults, no property set or
// checked yet. Throws UnknownTypeError listing the known types.
std::unique_ptr<Optimizer> new_optimizer(const std::string& type);
std::unique_ptr<LearningRateScheduler> new_scheduler(const std::string& type);
// Every scheduler type name, sorted.
std::vector<std::string> scheduler_types();

}  // namespace edgetrain
