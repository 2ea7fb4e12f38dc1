#include "server/api_token.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cachet/util/bytes.hpp>
#include <cachet/util/durable_file.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace cachet::server {

std::string_view trim_token(std::string_view token) {
  constexpr std::string_view kWhitespace = " \t\r\n";
  const auto first = token.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  return token.substr(first, token.find_last_not_of(kWhitespace) - first + 1);
}

std::expected<std::string, std::string> load_or_create_token(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path);
    if (!in) return std::unexpected("cannot read the token file " + path.string());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string content = ss.str();
    std::string token(trim_token(content));
    secure_wipe(content.data(), content.size());
    if (token.empty()) return std::unexpected("the token file " + path.string() + " is empty");
    if (token.size() < kMinTokenLength) {
      const auto length = token.size();
      secure_wipe(token.data(), token.size());
      return std::unexpected("the token in " + path.string() + " has " + std::to_string(length) +
                             " characters; at least " + std::to_string(kMinTokenLength) +
                             " are needed (delete the file to have a random one generated)");
    }
    return token;
  }
  Bytes32 random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
    return std::unexpected("no randomness for the API token");
  std::string token = to_hex(random, false);
  secure_wipe(random.data(), random.size());
  if (auto made = ensure_directory(path.parent_path()); !made) return std::unexpected(made.error());
  if (auto written = write_file_durably(path, token + "\n", 0600); !written) return std::unexpected(written.error());
  return token;
}

std::optional<std::string> token_file_permission_warning(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & (S_IRGRP | S_IROTH)) == 0) return std::nullopt;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return "--keymanager-token-file " + path.string() + " is readable by users other than its owner (mode " + mode +
         "); chmod 600 it";
}

AuthResult check_bearer(std::string_view authorization, std::string_view token) {
  if (authorization.empty()) return AuthResult::Missing;
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() < scheme.size()) return AuthResult::Wrong;
  // The scheme name is case-insensitive (RFC 9110 §11.1); the token is not.
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(scheme[i])))
      return AuthResult::Wrong;
  const auto given = trim_token(authorization.substr(scheme.size()));
  if (given.size() != token.size()) return AuthResult::Wrong;
  return CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0 ? AuthResult::Ok : AuthResult::Wrong;
}

}  // namespace cachet::server
