// `cachet`: the remote signer, and its slashing-protection interchange commands.
#include <cachet/crypto/bls.hpp>

#include "server/process_hardening.hpp"
#include "tools/options.hpp"
#include "tools/slashing_protection_command.hpp"

int main(int argc, char** argv) {
  using namespace cachet;
  // Before any key or token is read: no core dumps, not dumpable.
  server::harden_process();
  tools::Options opt;
  CLI::App app{"Cachet: a remote BLS signer for Ethereum validators (Web3Signer API)", "cachet"};
  app.set_version_flag("--version",
                       std::string("cachet ") + CACHET_VERSION + " (blst " + std::string(crypto::blst_version()) + ")");
  tools::add_signer_options(app, opt);
  tools::SlashingProtectionCommand slashing_command(app, opt);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help and --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return tools::fail(e.what());
  }
  if (slashing_command.selected()) return slashing_command.run();
  return tools::run_signer(opt);
}
