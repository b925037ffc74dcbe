#include "edgetrain/process_memory.h"

#include <cstdio>
#include <cstring>

namespace edgetrain {
namespace {

// The "KEY:   1234 kB" line of /proc/self/status, in KiB; 0 when absent.
size_t status_kib(const char* key) {
  std::FILE* file = std::fopen("/proc/self/status", "r");
  if (file == nullptr) return 0;
  const size_t key_length = std::strlen(key);
  char line[256];
  size_t result = 0;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    if (std::strncmp(line, key, key_length) != 0 || line[key_length] != ':') continue;
    unsigned long long value = 0;
    if (std::sscanf(line + key_length + 1, "%llu", &value) == 1)
      result = static_cast<size_t>(value);
    break;
  }
  std::fclose(file);
  return result;
}

}  // namespace

size_t peak_rss_kib() { return status_kib("VmHWM"); }
size_t current_rss_kib() { return status_kib("VmRSS"); }

}  // namespace edgetrain
