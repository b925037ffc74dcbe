// A small INI reader that keeps the line of every section and key, so that whoever reads
// the result can point each error at its line. (Debian's inih and iniparser do not report
// key lines.) The dialect is the one NNTrainer's model files use:
//
//   [section]          a section header; "[name]  # comment" is fine too
//   key = value        an entry of the section above it
//   # ... or ; ...     a comment line (after optional whitespace)
//   value  # ...       a '#' ends a value: NNTrainer files comment after values
//   "value"            quotes around a whole value are removed; a '#' inside them is kept
//
// Names, keys and values are trimmed of surrounding whitespace; blank lines are skipped.
// Section names are unique and keys are unique within a section, both compared without
// regard to case (as iniparser, which NNTrainer uses, lower-cases both); the names and
// keys themselves are kept as written. Any other line is an error.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace edgetrain {

struct IniEntry {
  std::string key;    // as written
  std::string value;  // trimmed, quotes removed; may be empty
  size_t line = 0;    // 1-based
};

struct IniSection {
  std::string name;  // as written, without the brackets
  size_t line = 0;
  std::vector<IniEntry> entries;  // in file order
};

struct IniDocument {
  std::vector<IniSection> sections;  // in file order
};

// Parses INI text. `source` names it in messages, which read "source:line: message".
// Throws ModelFileError.
IniDocument parse_ini(const std::string& text, const std::string& source);

// Reads and parses the file at `path` (named as given in messages). Throws ModelFileError
// when the file is missing or unreadable, or does not parse.
IniDocument read_ini_file(const std::string& path);

}  // namespace edgetrain
