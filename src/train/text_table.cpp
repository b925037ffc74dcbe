#include "train/text_table.h"

#include <algorithm>
#include <iomanip>
#include <ostream>

namespace edgetrain {

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  size_t line_width = 0;
  for (size_t width : widths) line_width += width + 2;
  const std::string rule(line_width, '=');
  out << rule << "\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c)
      out << std::left << std::setw(static_cast<int>(widths[c] + 2)) << rows[r][c];
    out << "\n";
    if (r == 0) out << std::string(line_width, '-') << "\n";
  }
  out << rule << "\n";
}

}  // namespace edgetrain
