#include "optim/scheduler_properties.h"

#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {

void throw_missing_property(const std::string& owner, const std::string& key) {
  throw PropertyError(owner + ": property '" + key + "' is required");
}

std::vector<size_t> parse_increasing_counts(const std::string& value, const std::string& owner,
                                            const std::string& key) {
  const std::string expected = "': expected iterations like 10,30,60, in increasing order";
  std::vector<size_t> counts;
  for (const std::string& piece : split_list(value)) {
    size_t count = 0;
    try {
      count = parse_count(piece, owner, key);
    } catch (const PropertyError&) {
      // The whole list says more than the one piece that is not a number.
      throw PropertyError(owner + ": property '" + key + "' has bad value '" + value + expected);
    }
    if (!counts.empty() && count <= counts.back())
      throw PropertyError(owner + ": property '" + key + "' has bad value '" + value + expected);
    counts.push_back(count);
  }
  if (counts.empty())
    throw PropertyError(owner + ": property '" + key + "' has bad value '" + value + expected);
  return counts;
}

std::vector<float> parse_non_negative_floats(const std::string& value, const std::string& owner,
                                             const std::string& key) {
  std::vector<float> numbers;
  for (const std::string& piece : split_list(value))
    numbers.push_back(parse_non_negative_float(piece, owner, key));
  if (numbers.empty())
    throw PropertyError(owner + ": property '" + key + "' has bad value '" + value +
                        "': expected one or more numbers >= 0");
  return numbers;
}

}  // namespace edgetrain
