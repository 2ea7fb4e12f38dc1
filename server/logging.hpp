// Process-wide logging set-up: text for people, JSON lines for log pipelines.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace cachet::server {

enum class LogFormat { Text, Json };

/// Parses a level name in any case (trace, debug, info, warn|warning, error, critical, off).
std::expected<int, std::string> parse_log_level(std::string_view name);
std::expected<LogFormat, std::string> parse_log_format(std::string_view name);

/// Installs the default logger (stderr) with the level and format.
void setup_logging(int level, LogFormat format);

}  // namespace cachet::server
