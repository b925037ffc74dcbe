#include "edgetrain/error.h"

#include <sstream>

namespace edgetrain::detail {

void assert_failed(const char* condition, const char* file, int line, const std::string& message) {
  std::ostringstream text;
  text << "edgetrain internal error at " << file << ":" << line << ": (" << condition << ") "
       << message;
  throw std::logic_error(text.str());
}

}  // namespace edgetrain::detail
