#include "tools/settings.hpp"

#include <algorithm>
#include <cachet/slashing/slashing_protection.hpp>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "tools/options.hpp"

namespace cachet::tools {
namespace {

using Layer = SettingSource::Layer;

std::string flag(const std::string& key) { return "--" + key; }

// Where an error came from, in the words an operator searches for.
std::string origin(const Setting& setting) {
  switch (setting.source.layer) {
    case Layer::File:
      return "config file " + setting.source.name;
    case Layer::Environment:
      return "environment variable " + setting.source.name;
    default:
      return setting.source.describe();
  }
}

// A value as TOML writes it: integers and booleans bare, anything else a basic string.
std::string toml_value(const std::string& value) {
  if (value == "true" || value == "false") return value;
  if (!value.empty() && value.size() < 19 && value.find_first_not_of("0123456789") == std::string::npos) return value;
  std::string quoted = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {  // one line a setting, whatever the value holds
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      quoted += escaped;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

}  // namespace

std::string SettingSource::describe() const {
  switch (layer) {
    case Layer::Default:
      return "default";
    case Layer::File:
      return "file " + name;
    case Layer::Environment:
      return "env " + name;
    case Layer::CommandLine:
      return "command line";
  }
  return {};
}

std::vector<std::string> setting_keys() {
  static const std::vector<std::string> keys = [] {
    Options scratch;
    CLI::App app;
    add_signer_options(app, scratch);
    std::vector<std::string> names;
    for (const auto* option : app.get_options()) {
      // get_name() is empty for a hidden flag; the long name is what the command line and the file use.
      const auto& long_names = option->get_lnames();
      if (!long_names.empty() && long_names.front() != "help") names.push_back(long_names.front());
    }
    return names;
  }();
  return keys;
}

std::string environment_name(const std::string& key) {
  std::string name = "CACHET_";
  for (const char c : key) name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::vector<Setting> settings_from_environment(char** environment) {
  std::vector<Setting> settings;
  for (const auto& key : setting_keys()) {
    const auto name = environment_name(key);
    for (char** entry = environment; entry && *entry; ++entry) {
      if (std::strncmp(*entry, name.c_str(), name.size()) == 0 && (*entry)[name.size()] == '=')
        settings.push_back({key, *entry + name.size() + 1, {Layer::Environment, name}});
    }
  }
  return settings;
}

std::expected<void, std::string> check_setting(const Setting& setting) {
  // The value alone through its flag, in a fresh parser: the same ranges and formats as on the command line.
  Options scratch;
  CLI::App app;
  add_signer_options(app, scratch);
  const std::string arg = flag(setting.key) + "=" + setting.value;
  const char* argv[] = {"cachet", arg.c_str()};
  try {
    app.parse(2, argv);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (const auto prefix = flag(setting.key) + ": "; message.starts_with(prefix)) message.erase(0, prefix.size());
    return std::unexpected(origin(setting) + ": " + setting.key + ": " + message);
  }
  return {};
}

LayeredArguments layer_settings(const CLI::App& given, int argc, const char* const* argv,
                                const std::vector<Setting>& file, const std::vector<Setting>& environment) {
  std::map<std::string, const Setting*> chosen;
  for (const auto& s : file) chosen[s.key] = &s;
  for (const auto& s : environment) chosen[s.key] = &s;  // the environment beats the file
  LayeredArguments out;
  out.args.emplace_back(argc > 0 ? argv[0] : "cachet");
  for (const auto& key : setting_keys()) {
    if (given.get_option(flag(key))->count() > 0) {
      out.sources[key] = {Layer::CommandLine, {}};
    } else if (const auto it = chosen.find(key); it != chosen.end()) {
      // --key=value: a value that starts with '-' stays a value.
      out.args.push_back(flag(key) + "=" + it->second->value);
      out.sources[key] = it->second->source;
    }
  }
  for (int i = 1; i < argc; ++i) out.args.emplace_back(argv[i]);
  return out;
}

std::string describe_settings(const CLI::App& parsed, const std::map<std::string, SettingSource>& sources) {
  std::string text;
  for (const auto& key : setting_keys()) {
    const auto* option = parsed.get_option(flag(key));
    const auto source = sources.find(key);
    std::string value;
    if (source != sources.end() && !option->results().empty()) {
      value = option->results().back();
    } else {
      value = option->get_default_str();
      if (option->get_type_name() == "BOOLEAN" && (value == "1" || value == "0"))
        value = value == "1" ? "true" : "false";
      if (option->get_items_expected_max() == 0 && value.empty()) value = "false";  // a flag without a value: off
    }
    // The one setting that may hold a secret's value: a PostgreSQL URL with a password.
    if (key == "slashing-protection-db-url") value = slashing::redact_database_url(value);
    std::string line =
        value.empty() && source == sources.end() ? "# " + key + " (not set)" : key + " = " + toml_value(value);
    line.resize(std::max<std::size_t>(line.size() + 2, 64), ' ');
    text += line + "# " + (source != sources.end() ? source->second.describe() : "default") + "\n";
  }
  return text;
}

}  // namespace cachet::tools
