// Lookup of scheduler types by name, for schedulers that own another (warmup).
#pragma once

#include <memory>
#include <string>

#include "edgetrain/optimizer.h"

namespace edgetrain {

// The scheduler named `type` (lower-case) with its defaults, before any property is set
// or checked; nullptr when no scheduler has that name.
std::unique_ptr<LearningRateScheduler> new_scheduler(const std::string& type);
// Every scheduler type name, comma-separated, for messages.
std::string scheduler_type_names();

}  // namespace edgetrain
