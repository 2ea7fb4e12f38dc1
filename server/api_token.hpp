// The keymanager API's bearer token (keymanager-APIs: "Authorization: Bearer <token>").
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

namespace cachet::server {

/// Reads the token from `path`, or creates it (256 random bits as hex, mode 0600, written durably) when absent.
/// The error never contains the token.
std::expected<std::string, std::string> load_or_create_token(const std::filesystem::path& path);

enum class AuthResult { Ok, Missing, Wrong };
/// Checks an Authorization header value against the token, in constant time for equal lengths.
AuthResult check_bearer(std::string_view authorization, std::string_view token);

}  // namespace cachet::server
