#include "io/ini_parser.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {
namespace {

[[noreturn]] void fail(const std::string& source, size_t line, const std::string& message) {
  throw ModelFileError(source + ":" + std::to_string(line) + ": " + message);
}

// What follows a section's ']' or a value's closing quote may only be a comment.
bool only_comment(const std::string& rest) {
  const std::string tail = trim(rest);
  return tail.empty() || tail[0] == '#';
}

// The text after '=': a quoted value without its quotes, or the text before any '#'.
std::string parse_value(const std::string& text, const std::string& source, size_t line) {
  const std::string value = trim(text);
  if (value.empty() || (value[0] != '"' && value[0] != '\''))
    return trim(value.substr(0, value.find('#')));
  const size_t close = value.find(value[0], 1);
  if (close == std::string::npos)
    fail(source, line, std::string("missing closing quote (") + value[0] + ") in '" + value + "'");
  if (!only_comment(value.substr(close + 1)))
    fail(source, line, "unexpected text after the closing quote in '" + value + "'");
  return value.substr(1, close - 1);
}

}  // namespace

IniDocument parse_ini(const std::string& text, const std::string& source) {
  IniDocument document;
  std::map<std::string, size_t> section_lines;  // lower-case name -> line
  std::map<std::string, size_t> key_lines;      // of the current section, by lower-case key
  std::istringstream stream(text);
  std::string raw;
  for (size_t number = 1; std::getline(stream, raw); ++number) {
    if (number == 1 && raw.starts_with("\xEF\xBB\xBF")) raw.erase(0, 3);  // UTF-8 byte order mark
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;

    if (line[0] == '[') {
      const size_t close = line.find(']');
      if (close == std::string::npos) fail(source, number, "missing ']' in '" + line + "'");
      if (!only_comment(line.substr(close + 1)))
        fail(source, number, "unexpected text after ']' in '" + line + "'");
      const std::string name = trim(line.substr(1, close - 1));
      if (name.empty()) fail(source, number, "empty section name '[]'");
      auto [first, added] = section_lines.emplace(to_lower(name), number);
      if (!added)
        fail(source, number,
             "duplicate section [" + name + "] (first at line " + std::to_string(first->second) +
                 "; section names ignore case)");
      document.sections.push_back({name, number, {}});
      key_lines.clear();
      continue;
    }

    const size_t equals = line.find('=');
    if (equals == std::string::npos)
      fail(source, number,
           "expected '[section]', 'key = value' or a comment, found '" + line + "'");
    const std::string key = trim(line.substr(0, equals));
    if (key.empty()) fail(source, number, "missing key before '=' in '" + line + "'");
    if (document.sections.empty())
      fail(source, number, "key '" + key + "' comes before the first [section]");
    IniSection& section = document.sections.back();
    auto [first, added] = key_lines.emplace(to_lower(key), number);
    if (!added)
      fail(source, number,
           "duplicate key '" + key + "' in [" + section.name + "] (first at line " +
               std::to_string(first->second) + "; keys ignore case)");
    section.entries.push_back({key, parse_value(line.substr(equals + 1), source, number), number});
  }
  return document;
}

IniDocument read_ini_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error))
    throw ModelFileError("cannot open '" + path + "': no such file");
  if (std::filesystem::is_directory(path, error))
    throw ModelFileError("cannot open '" + path + "': it is a directory");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ModelFileError("cannot read '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  return parse_ini(text.str(), path);
}

}  // namespace edgetrain
