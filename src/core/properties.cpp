#include "edgetrain/properties.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "edgetrain/error.h"

namespace edgetrain {
namespace {

[[noreturn]] void throw_bad_value(const std::string& owner, const std::string& key,
                                  const std::string& value, const std::string& expected) {
  throw PropertyError(owner + ": property '" + key + "' has bad value '" + value + "': expected " +
                      expected);
}

}  // namespace

std::string trim(const std::string& text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return trim(text);
}

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> pieces;
  if (trim(text).empty()) return pieces;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    pieces.push_back(trim(text.substr(start, end == std::string::npos ? end : end - start)));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return pieces;
}

std::pair<std::string, std::string> split_property(const std::string& text,
                                                   const std::string& owner) {
  size_t equals = text.find('=');
  if (equals == std::string::npos || trim(text.substr(0, equals)).empty())
    throw PropertyError(owner + ": malformed property '" + text + "': expected key=value");
  return {to_lower(text.substr(0, equals)), trim(text.substr(equals + 1))};
}

int parse_int(const std::string& value, const std::string& owner, const std::string& key) {
  int result = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), result);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size())
    throw_bad_value(owner, key, value, "an integer");
  return result;
}

size_t parse_count(const std::string& value, const std::string& owner, const std::string& key) {
  int result = parse_int(value, owner, key);
  if (result < 0) throw_bad_value(owner, key, value, "a non-negative integer");
  return static_cast<size_t>(result);
}

size_t parse_positive(const std::string& value, const std::string& owner, const std::string& key) {
  int result = parse_int(value, owner, key);
  if (result < 1) throw_bad_value(owner, key, value, "a positive integer");
  return static_cast<size_t>(result);
}

size_t parse_byte_size(const std::string& value, const std::string& owner, const std::string& key) {
  const std::string text = to_lower(value);
  char* end = nullptr;
  const double number = std::strtod(text.c_str(), &end);
  const std::string unit = trim(std::string(end));
  double scale = 0.0;
  if (unit.empty() || unit == "b")
    scale = 1.0;
  else if (unit == "k" || unit == "kib")
    scale = 1024.0;
  else if (unit == "m" || unit == "mib")
    scale = 1024.0 * 1024.0;
  else if (unit == "g" || unit == "gib")
    scale = 1024.0 * 1024.0 * 1024.0;
  else if (unit == "kb")
    scale = 1e3;
  else if (unit == "mb")
    scale = 1e6;
  else if (unit == "gb")
    scale = 1e9;
  if (end == text.c_str() || scale == 0.0 || !std::isfinite(number) || number < 0.0 ||
      number * scale > 1e18)
    throw_bad_value(owner, key, value, "a size such as 4194304, 512KiB, 4MiB or 1GiB");
  return static_cast<size_t>(number * scale + 0.5);
}

float parse_float(const std::string& value, const std::string& owner, const std::string& key) {
  char* end = nullptr;
  float result = std::strtof(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(result))
    throw_bad_value(owner, key, value, "a finite number");
  return result;
}

float parse_non_negative_float(const std::string& value, const std::string& owner,
                               const std::string& key) {
  float result = parse_float(value, owner, key);
  if (result < 0.0f) throw_bad_value(owner, key, value, "a number >= 0");
  return result;
}

float parse_fraction(const std::string& value, const std::string& owner, const std::string& key) {
  float result = parse_float(value, owner, key);
  if (result < 0.0f || result >= 1.0f) throw_bad_value(owner, key, value, "a number in [0, 1)");
  return result;
}

float parse_positive_float(const std::string& value, const std::string& owner,
                           const std::string& key) {
  float result = parse_float(value, owner, key);
  if (result <= 0.0f) throw_bad_value(owner, key, value, "a number > 0");
  return result;
}

float parse_unit_interval(const std::string& value, const std::string& owner,
                          const std::string& key) {
  float result = parse_float(value, owner, key);
  if (result < 0.0f || result > 1.0f) throw_bad_value(owner, key, value, "a number in [0, 1]");
  return result;
}

bool parse_bool(const std::string& value, const std::string& owner, const std::string& key) {
  std::string lower = to_lower(value);
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  throw_bad_value(owner, key, value, "true or false");
}

std::array<size_t, 2> parse_pair(const std::string& value, const std::string& owner,
                                 const std::string& key) {
  std::vector<std::string> pieces = split_list(value);
  if (pieces.empty() || pieces.size() > 2)
    throw_bad_value(owner, key, value, "one or two non-negative integers like 3 or 3,3");
  size_t first = parse_count(pieces[0], owner, key);
  size_t second = pieces.size() == 2 ? parse_count(pieces[1], owner, key) : first;
  return {first, second};
}

std::array<size_t, 2> parse_positive_pair(const std::string& value, const std::string& owner,
                                          const std::string& key) {
  const std::vector<std::string> pieces = split_list(value);
  std::vector<size_t> numbers;
  for (const std::string& piece : pieces) {
    int number = 0;
    auto [ptr, ec] = std::from_chars(piece.data(), piece.data() + piece.size(), number);
    if (piece.empty() || ec != std::errc() || ptr != piece.data() + piece.size() || number < 1)
      break;
    numbers.push_back(static_cast<size_t>(number));
  }
  if (numbers.empty() || numbers.size() > 2 || numbers.size() != pieces.size())
    throw_bad_value(owner, key, value, "one or two positive integers like 3 or 3,3");
  return {numbers[0], numbers.back()};
}

std::string parse_choice(const std::string& value, const std::vector<std::string>& choices,
                         const std::string& owner, const std::string& key) {
  std::string lower = to_lower(value);
  if (std::find(choices.begin(), choices.end(), lower) != choices.end()) return lower;
  std::string list;
  for (const std::string& choice : choices) list += (list.empty() ? "" : ", ") + choice;
  throw_bad_value(owner, key, value, "one of: " + list);
}

void throw_unknown_property(const std::string& owner, const std::string& key,
                            const std::string& known_keys) {
  throw PropertyError(owner + ": unknown property '" + key + "' (known: " + known_keys + ")");
}

}  // namespace edgetrain
