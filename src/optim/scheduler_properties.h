// Property helpers shared by the learning-rate schedulers.
#pragma once

#include <string>
#include <vector>

namespace edgetrain {

// Throws PropertyError: "OWNER: property 'KEY' is required".
[[noreturn]] void throw_missing_property(const std::string& owner, const std::string& key);
// Comma-separated non-negative integers in strictly increasing order, e.g. "10,30,60",
// each iteration once.
std::vector<size_t> parse_increasing_counts(const std::string& value, const std::string& owner,
                                            const std::string& key);
// Comma-separated numbers >= 0, at least one.
std::vector<float> parse_non_negative_floats(const std::string& value, const std::string& owner,
                                             const std::string& key);

}  // namespace edgetrain
