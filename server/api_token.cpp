#include "server/api_token.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cachet/util/bytes.hpp>
#include <cachet/util/durable_file.hpp>
#include <fstream>
#include <sstream>

namespace cachet::server {

std::expected<std::string, std::string> load_or_create_token(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path);
    if (!in) return std::unexpected("cannot read the token file " + path.string());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string token = ss.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) return std::unexpected("the token file " + path.string() + " is empty");
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

AuthResult check_bearer(std::string_view authorization, std::string_view token) {
  if (authorization.empty()) return AuthResult::Missing;
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() < scheme.size()) return AuthResult::Wrong;
  // The scheme name is case-insensitive (RFC 9110 §11.1); the token is not.
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(scheme[i])))
      return AuthResult::Wrong;
  auto given = authorization.substr(scheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  if (given.size() != token.size()) return AuthResult::Wrong;
  return CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0 ? AuthResult::Ok : AuthResult::Wrong;
}

}  // namespace cachet::server
