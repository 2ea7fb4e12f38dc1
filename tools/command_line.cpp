#include "tools/command_line.hpp"

#include <cachet/crypto/bls.hpp>

namespace cachet::tools {

CommandLine::CommandLine()
    : app("Cachet: a remote BLS signer for Ethereum validators (Web3Signer API)", "cachet"), slashing(app, options) {
  app.set_version_flag("--version",
                       std::string("cachet ") + CACHET_VERSION + " (blst " + std::string(crypto::blst_version()) + ")");
  add_signer_options(app, options);
  app.add_option("--config-file", config_file,
                 "TOML file of settings: every signer flag is a key (port = 9000); the environment (CACHET_PORT) "
                 "and the command line override it");
  app.add_flag("--print-config", print_config,
               "Print the effective settings and where each came from (secrets redacted), then exit");
}

}  // namespace cachet::tools
