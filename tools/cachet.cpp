// `cachet`: the remote signer, and its slashing-protection interchange commands.
#include <cstdio>
#include <functional>

#include "server/process_hardening.hpp"
#include "tools/command_line.hpp"
#include "tools/config_file.hpp"
#include "tools/settings.hpp"

extern char** environ;

int main(int argc, char** argv) {
  using namespace cachet;
  // Before any key or token is read: no core dumps, not dumpable.
  server::harden_process();

  // First the command line alone: --help, --version, its own errors, and which settings it gives
  // (tools/settings.hpp).
  tools::CommandLine given;
  try {
    given.app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help and --version
    return given.app.exit(e);
  } catch (const CLI::ParseError& e) {
    return tools::fail(e.what());
  }
  std::string config_file = given.config_file;
  if (config_file.empty()) {
    if (const char* from_environment = std::getenv("CACHET_CONFIG_FILE")) config_file = from_environment;
  }
  std::vector<tools::Setting> file;
  if (!config_file.empty()) {
    auto read = tools::read_config_file(config_file);
    if (!read) return tools::fail(read.error());
    file = std::move(*read);
  }
  const auto environment = tools::settings_from_environment(environ);
  // Every value is checked, also one that a higher layer overrides: a bad file is an error before it matters.
  for (const auto& layer : {std::cref(file), std::cref(environment)}) {
    for (const auto& setting : layer.get()) {
      if (auto checked = tools::check_setting(setting); !checked) return tools::fail(checked.error());
    }
  }

  const auto layered = tools::layer_settings(given.app, argc, argv, file, environment);
  std::vector<const char*> args;
  for (const auto& a : layered.args) args.push_back(a.c_str());
  tools::CommandLine cli;
  try {
    cli.app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {  // only combinations are left: a flag that excludes another layer's
    return tools::fail(e.what());
  }
  if (cli.print_config) {
    std::fputs(tools::describe_settings(cli.app, layered.sources).c_str(), stdout);
    return 0;
  }
  if (cli.slashing.selected()) return cli.slashing.run();
  return tools::run_signer(cli.options);
}
