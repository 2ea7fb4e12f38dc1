#include "tools/config_file.hpp"

#include <toml++/toml.h>

#include <algorithm>

namespace cachet::tools {
namespace {

std::string where(const std::string& path, const toml::source_region& region) {
  // Line 0: the file itself (missing, unreadable).
  return "config file " + path + (region.begin.line > 0 ? " line " + std::to_string(region.begin.line) : "");
}

}  // namespace

std::expected<std::vector<Setting>, std::string> read_config_file(const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return std::unexpected(where(path, e.source()) + ": " + std::string(e.description()));
  }
  const auto keys = setting_keys();
  std::vector<std::pair<std::size_t, Setting>> found;  // by line: the table keeps its keys sorted
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    const auto line = where(path, key.source());
    if (std::ranges::find(keys, name) == keys.end())
      return std::unexpected(line + ": unknown key '" + name + "' (keys are the signer's flags without the dashes)");
    std::string value;
    if (const auto* s = node.as_string()) {
      value = s->get();
    } else if (const auto* i = node.as_integer()) {
      value = std::to_string(i->get());
    } else if (const auto* b = node.as_boolean()) {
      value = b->get() ? "true" : "false";
    } else {
      return std::unexpected(line + ": key '" + name + "': a string, an integer or a boolean is expected");
    }
    found.emplace_back(key.source().begin.line, Setting{name, std::move(value), {SettingSource::Layer::File, path}});
  }
  std::ranges::stable_sort(found, {}, &std::pair<std::size_t, Setting>::first);
  std::vector<Setting> settings;
  for (auto& [line, setting] : found) settings.push_back(std::move(setting));
  return settings;
}

}  // namespace cachet::tools
