// The whole `cachet` command line in one object: the signer's flags, --config-file and --print-config, --version,
// and the slashing-protection subcommands. `cachet` builds it twice (tools/settings.hpp says why).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "tools/options.hpp"
#include "tools/slashing_protection_command.hpp"

namespace cachet::tools {

class CommandLine {
 public:
  CommandLine();
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  Options options;
  std::string config_file;    // --config-file (or CACHET_CONFIG_FILE)
  bool print_config = false;  // --print-config
  CLI::App app;
  SlashingProtectionCommand slashing;
};

}  // namespace cachet::tools
