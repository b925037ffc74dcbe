// Plain-text tables for the summary, memory and profile reports.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace edgetrain {

// Left-aligned columns; a rule under the first row (the header), above and below the table.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

}  // namespace edgetrain
