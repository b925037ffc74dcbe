// Counts C++ heap allocations (operator new) made while a counter is alive, to check
// that training steps run out of the planned arena.
#pragma once

#include <cstddef>

namespace edgetrain::testing {

class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  size_t count() const;
};

}  // namespace edgetrain::testing
