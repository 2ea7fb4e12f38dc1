// The signer's settings from four layers: command line > environment (CACHET_PORT) > config file (port = 9000) >
// default. Every signer flag is a setting; its key is the flag without the dashes, its environment variable
// CACHET_ and the key in upper case with underscores.
//
// CLI11 can read a config file and environment variables itself, but it lets the file beat the environment, and its
// errors do not say which layer a bad value came from. So `cachet` parses the command line alone first (which flags
// it sets, --config-file, --print-config), checks every file and environment value on its own as its flag would
// (an error names the key and the layer), then parses once more with the winning file and environment values put
// before the command line as --key=value.
#pragma once

#include <CLI/CLI.hpp>
#include <expected>
#include <map>
#include <string>
#include <vector>

namespace cachet::tools {

struct SettingSource {
  enum class Layer { Default, File, Environment, CommandLine };
  Layer layer = Layer::Default;
  std::string name;  // the file's path or the environment variable's name

  /// "default", "file PATH", "env NAME" or "command line".
  std::string describe() const;
};

struct Setting {
  std::string key;  // "port"
  std::string value;
  SettingSource source;
};

/// The keys of every signer flag, as add_signer_options defines them.
std::vector<std::string> setting_keys();

/// "CACHET_METRICS_PORT" for "metrics-port".
std::string environment_name(const std::string& key);

/// The settings the environment gives (CACHET_* variables of known keys; other variables are not read).
std::vector<Setting> settings_from_environment(char** environment);

/// An error naming the key and its source when `setting`'s value is not one its flag accepts.
std::expected<void, std::string> check_setting(const Setting& setting);

struct LayeredArguments {
  std::vector<std::string> args;                 // argv[0], the file and environment settings, the command line
  std::map<std::string, SettingSource> sources;  // by key, for every key not at its default
};

/// The arguments for the final parse: `given` is the command line parsed alone (its flags win), `file` and
/// `environment` the other layers (environment beats file), each already checked.
LayeredArguments layer_settings(const CLI::App& given, int argc, const char* const* argv,
                                const std::vector<Setting>& file, const std::vector<Setting>& environment);

/// --print-config: one line a setting, `key = value  # source`, in flag order; a PostgreSQL URL's password redacted.
std::string describe_settings(const CLI::App& parsed, const std::map<std::string, SettingSource>& sources);

}  // namespace cachet::tools
