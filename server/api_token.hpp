// The keymanager API's bearer token (keymanager-APIs: "Authorization: Bearer <token>").
#pragma once

#include <cstddef>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cachet::server {

/// Shorter tokens are refused at start: a guessable token would open key import and deletion to anyone who can
/// reach the API. 32 characters is 128 bits of hex.
inline constexpr std::size_t kMinTokenLength = 32;

/// The token as it is compared: surrounding spaces, tabs, CR and LF removed. Applied to the file's content and to
/// the token a client sends alike, so the two sides never disagree about whitespace.
std::string_view trim_token(std::string_view token);

/// Reads the token from `path` (trimmed; shorter than kMinTokenLength is an error), or creates it (256 random bits
/// as hex, mode 0600, written durably) when absent. The error never contains the token.
std::expected<std::string, std::string> load_or_create_token(const std::filesystem::path& path);

/// A warning when users other than the file's owner may read the token file; nullopt when only the owner can.
std::optional<std::string> token_file_permission_warning(const std::filesystem::path& path);

enum class AuthResult { Ok, Missing, Wrong };
/// Checks an Authorization header value against the token, in constant time for equal lengths.
AuthResult check_bearer(std::string_view authorization, std::string_view token);

}  // namespace cachet::server
