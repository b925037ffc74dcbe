// Runs the built CLI from a test, as a user would from a shell.
#pragma once

#include <string>
#include <vector>

namespace edgetrain::testing {

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

// The whole file, or "" when it cannot be read.
std::string read_text(const std::string& path);

// Runs `edgetrain ARGS...` (under the cross build's emulator, if any) in the folder `dir`
// (ending in '/'), its output in dir/cli.out and dir/cli.err, and the run folders of
// trainings without --run-dir in dir/runs.
CliRun run_cli(const std::string& dir, const std::vector<std::string>& args);

}  // namespace edgetrain::testing
