// `cachet slashing-protection import --from FILE` and `export --to FILE [--pubkey ...]`: EIP-3076 interchange
// files in and out of the signer's database (--data-dir or --slashing-protection-db-url).
#pragma once

#include <string>
#include <vector>

#include "tools/options.hpp"

namespace cachet::tools {

class SlashingProtectionCommand {
 public:
  SlashingProtectionCommand(CLI::App& app, Options& options);
  bool selected() const;
  int run();

 private:
  int run_import();
  int run_export();

  Options& options_;
  CLI::App* command_ = nullptr;
  CLI::App* import_ = nullptr;
  CLI::App* export_ = nullptr;
  std::string from_, to_;
  std::vector<std::string> pubkeys_;
};

}  // namespace cachet::tools
