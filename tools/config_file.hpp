// --config-file: a TOML file (toml.io v1.0) of signer settings, `key = value` with the flags' names as keys.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "tools/settings.hpp"

namespace cachet::tools {

/// The file's settings in file order. Errors (one line, naming the file and the key): a TOML syntax error, a key
/// that is not a signer flag (tables included), a value that is not a string, an integer or a boolean.
std::expected<std::vector<Setting>, std::string> read_config_file(const std::string& path);

}  // namespace cachet::tools
