// Commit-Boost's module authentication: each module has its own secret (a file of `MODULE_ID=SECRET` lines) and
// sends `Authorization: Bearer <JWT>`, HS256 over that secret, with the claim `module` naming itself (and `exp`,
// checked when present). A client address with too many failures within the timeout is refused for the rest of it,
// as Commit-Boost's signer does (jwt_auth_fail_limit, jwt_auth_fail_timeout_seconds: 3 and 300 by default).
#pragma once

#include <chrono>
#include <expected>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cachet::server {

/// Reads `MODULE_ID=SECRET` lines (blank lines and `#` comments skipped); the error names the line.
std::expected<std::map<std::string, std::string>, std::string> load_module_secrets(const std::filesystem::path& file);

struct AuthFailure {
  bool rate_limited = false;
  std::chrono::seconds retry_after{0};  // rate_limited only
  std::string message;
};

class ModuleAuthenticator {
 public:
  ModuleAuthenticator(std::map<std::string, std::string> secrets, unsigned fail_limit,
                      std::chrono::seconds fail_timeout);
  ~ModuleAuthenticator();
  ModuleAuthenticator(const ModuleAuthenticator&) = delete;
  ModuleAuthenticator& operator=(const ModuleAuthenticator&) = delete;

  /// The module the request authenticates as, or why not. `client` is the peer's address (the rate limit's key).
  std::expected<std::string, AuthFailure> authenticate(std::string_view authorization, const std::string& client);

  std::size_t module_count() const { return secrets_.size(); }
  const std::map<std::string, std::string>& secrets() const { return secrets_; }

 private:
  struct Failures {
    unsigned count = 0;
    std::chrono::steady_clock::time_point last;
  };
  std::expected<std::string, std::string> verify(std::string_view token) const;

  std::map<std::string, std::string> secrets_;
  const unsigned fail_limit_;
  const std::chrono::seconds fail_timeout_;
  std::mutex mutex_;
  std::unordered_map<std::string, Failures> failures_;
};

}  // namespace cachet::server
