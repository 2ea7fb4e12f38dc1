#include "server/commit_boost_auth.hpp"

#include <jwt.h>
#include <spdlog/spdlog.h>

#include <cachet/commit_boost/proxy_key_store.hpp>
#include <cachet/util/bytes.hpp>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <memory>

namespace cachet::server {
namespace {

// jsonwebtoken's default (Commit-Boost's signer validates with it): clocks a minute apart still agree.
constexpr long kExpLeewaySeconds = 60;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

struct JwtFree {
  void operator()(jwt_t* j) const noexcept { jwt_free(j); }
};

}  // namespace

std::expected<std::map<std::string, std::string>, std::string> load_module_secrets(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::unexpected("cannot read " + file.string());
  std::map<std::string, std::string> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto text = trim(line);
    if (text.empty() || text.starts_with('#')) continue;
    const auto eq = text.find('=');
    const auto where = file.string() + " line " + std::to_string(number);
    if (eq == std::string_view::npos) return std::unexpected(where + ": expected MODULE_ID=SECRET");
    const std::string module(trim(text.substr(0, eq)));
    const std::string secret(trim(text.substr(eq + 1)));
    if (!commit_boost::is_valid_module_id(module))
      return std::unexpected(where + ": a module id is 1 to 64 of A-Z, a-z, 0-9, _ and -");
    if (secret.empty()) return std::unexpected(where + ": empty secret");
    if (!out.emplace(module, secret).second) return std::unexpected(where + ": module " + module + " listed twice");
  }
  secure_wipe(line.data(), line.size());
  if (out.empty()) return std::unexpected(file.string() + ": no module");
  return out;
}

ModuleAuthenticator::ModuleAuthenticator(std::map<std::string, std::string> secrets, unsigned fail_limit,
                                         std::chrono::seconds fail_timeout)
    : secrets_(std::move(secrets)), fail_limit_(fail_limit), fail_timeout_(fail_timeout) {}

ModuleAuthenticator::~ModuleAuthenticator() {
  for (auto& [module, secret] : secrets_) secure_wipe(secret.data(), secret.size());
}

std::expected<std::string, std::string> ModuleAuthenticator::verify(std::string_view token) const {
  const std::string text(token);
  // The token is checked against each module's secret rather than trusting its unverified `module` claim to pick
  // one: only a token one of the secrets signed is read at all, and it must then name that secret's module.
  for (const auto& [module, secret] : secrets_) {
    jwt_t* raw = nullptr;
    if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                   static_cast<int>(secret.size())) != 0) {
      if (raw) jwt_free(raw);
      continue;
    }
    std::unique_ptr<jwt_t, JwtFree> jwt(raw);
    if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return std::unexpected("the token is not HS256");
    const char* claimed = jwt_get_grant(jwt.get(), "module");
    if (!claimed) return std::unexpected("the token has no module claim");
    if (claimed != module) return std::unexpected("the token's module claim does not match its secret");
    errno = 0;
    const long exp = jwt_get_grant_int(jwt.get(), "exp");
    if (errno == 0) {
      if (exp + kExpLeewaySeconds < static_cast<long>(std::time(nullptr))) return std::unexpected("the token expired");
    } else if (errno != ENOENT) {
      return std::unexpected("the token's exp claim is not a number");
    }
    return module;
  }
  return std::unexpected("the token is not signed by any module's secret");
}

std::expected<std::string, AuthFailure> ModuleAuthenticator::authenticate(std::string_view authorization,
                                                                          const std::string& client) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (auto it = failures_.find(client); it != failures_.end()) {
      const auto elapsed = now - it->second.last;
      if (elapsed > fail_timeout_) {
        failures_.erase(it);
      } else if (it->second.count >= fail_limit_) {
        const auto left = std::chrono::ceil<std::chrono::seconds>(fail_timeout_ - elapsed);
        return std::unexpected(AuthFailure{
            true, left,
            "too many failed authentications from this client; retry in " + std::to_string(left.count()) + " s"});
      }
    }
  }
  std::expected<std::string, std::string> result = std::unexpected("missing bearer token");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && authorization.substr(0, kBearer.size()) == kBearer)
    result = verify(trim(authorization.substr(kBearer.size())));
  if (result) return *result;
  {
    std::lock_guard lock(mutex_);
    auto& f = failures_[client];
    ++f.count;
    f.last = now;
    // Entries of clients that stopped failing go once their timeout passed (at the next failure of anyone).
    if (failures_.size() > 4096)
      std::erase_if(failures_, [&](const auto& e) { return now - e.second.last > fail_timeout_; });
  }
  spdlog::info("commit-boost: unauthorized request from {}: {}", client, result.error());
  return std::unexpected(AuthFailure{false, {}, "unauthorized"});
}

}  // namespace cachet::server
