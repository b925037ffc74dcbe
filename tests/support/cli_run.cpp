#include "support/cli_run.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace edgetrain::testing {
namespace {

std::string quoted(const std::string& text) { return "'" + text + "'"; }

}  // namespace

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

CliRun run_cli(const std::string& dir, const std::vector<std::string>& args) {
  std::string command = "cd " + quoted(dir) + " && ";
#ifdef EDGETRAIN_CLI_EMULATOR
  command += std::string(EDGETRAIN_CLI_EMULATOR) + " ";
#endif
  command += quoted(EDGETRAIN_CLI);
  for (const std::string& arg : args) command += " " + quoted(arg);
  command += " >" + quoted(dir + "cli.out") + " 2>" + quoted(dir + "cli.err");
  setenv("EDGETRAIN_RUNS_DIR", (dir + "runs").c_str(), 1);
  CliRun run;
  const int status = std::system(command.c_str());
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_text(dir + "cli.out");
  run.err = read_text(dir + "cli.err");
  return run;
}

}  // namespace edgetrain::testing
