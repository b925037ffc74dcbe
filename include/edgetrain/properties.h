// Parsing of "key=value" property strings. Objects (layers, losses, optimizers)
// receive one key and its value at a time and parse it into typed fields with
// these helpers, which throw PropertyError naming the owner, key and value.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace edgetrain {

// "key=value" split at the first '='; key lower-cased and both trimmed.
// Throws PropertyError (naming `owner`) when there is no '=' or the key is empty.
std::pair<std::string, std::string> split_property(const std::string& text,
                                                   const std::string& owner);

// Trimmed, lower-cased copy of text.
std::string to_lower(std::string text);
std::string trim(const std::string& text);
// Splits on `separator`, trimming each piece; empty input gives no pieces.
std::vector<std::string> split_list(const std::string& text, char separator = ',');

// The typed parsers. `owner` names the layer or object ("layer 'conv1' (conv2d)").
int parse_int(const std::string& value, const std::string& owner, const std::string& key);
// A positive integer (>= 1).
size_t parse_positive(const std::string& value, const std::string& owner, const std::string& key);
// A non-negative integer.
size_t parse_count(const std::string& value, const std::string& owner, const std::string& key);
float parse_float(const std::string& value, const std::string& owner, const std::string& key);
// A finite number >= 0, e.g. a learning rate.
float parse_non_negative_float(const std::string& value, const std::string& owner,
                               const std::string& key);
// A finite number > 0, e.g. an epsilon.
float parse_positive_float(const std::string& value, const std::string& owner,
                           const std::string& key);
// A number in [0, 1), e.g. a decay rate such as Adam's beta1 or a dropout rate.
float parse_fraction(const std::string& value, const std::string& owner, const std::string& key);
// A number in [0, 1], e.g. batch norm's momentum.
float parse_unit_interval(const std::string& value, const std::string& owner,
                          const std::string& key);
// A size in bytes: "4194304", "4MiB", "512 KiB", "1.5GiB", "2MB" (KiB/MiB/GiB and K/M/G are
// powers of 1024, KB/MB/GB of 1000; B is bytes). Case-insensitive; 0 is allowed.
size_t parse_byte_size(const std::string& value, const std::string& owner, const std::string& key);
bool parse_bool(const std::string& value, const std::string& owner, const std::string& key);
// One or two non-negative integers "3" or "3,3"; one value is used for both.
std::array<size_t, 2> parse_pair(const std::string& value, const std::string& owner,
                                 const std::string& key);
// One or two positive integers "3" or "3,5"; one value is used for both.
std::array<size_t, 2> parse_positive_pair(const std::string& value, const std::string& owner,
                                          const std::string& key);
// One of `choices` (case-insensitive); the error lists the choices.
std::string parse_choice(const std::string& value, const std::vector<std::string>& choices,
                         const std::string& owner, const std::string& key);

// The message for a key the owner does not know.
[[noreturn]] void throw_unknown_property(const std::string& owner, const std::string& key,
                                         const std::string& known_keys);

}  // namespace edgetrain
