// The memory this process uses, as Linux reports it in /proc/self/status.
#pragma once

#include <cstddef>

namespace edgetrain {

// VmHWM: the most resident memory so far ("peak RSS"), in KiB; 0 where /proc is unavailable.
size_t peak_rss_kib();
// VmRSS: the resident memory now, in KiB; 0 where /proc is unavailable.
size_t current_rss_kib();

}  // namespace edgetrain
