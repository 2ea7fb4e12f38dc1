// SlashingProtection::open: the database URL, the storage behind it and the service over it.
#include <cachet/slashing/slashing_protection.hpp>

#include "protection_service.hpp"
#include "sqlite_storage.hpp"

namespace cachet::slashing {

std::expected<std::unique_ptr<SlashingProtection>, std::string> SlashingProtection::open(std::string_view url,
                                                                                         const Options& options) {
  using Error = std::unexpected<std::string>;
  constexpr std::string_view kSqlite = "sqlite:";
  if (!url.starts_with(kSqlite) || url.size() == kSqlite.size())
    return Error("unsupported slashing protection database url '" + std::string(url) + "' (expected sqlite:PATH)");
  if (options.slots_per_epoch == 0) return Error("slots_per_epoch must be positive");
  try {
    // A write waits for a lock held elsewhere at most as long as a caller waits for its commit.
    const auto timeout = std::max(options.commit_timeout, std::chrono::milliseconds(1));
    auto storage = detail::SqliteStorage::open(std::string(url.substr(kSqlite.size())), options.read_only, timeout);
    if (!storage) return Error(storage.error());
    detail::ServiceConfig config{options,
                                 std::clamp(timeout, std::chrono::milliseconds(10), std::chrono::milliseconds(1000))};
    auto service = detail::ProtectionService::create(std::move(*storage), config);
    if (!service) return Error(service.error());
    return std::unique_ptr<SlashingProtection>(std::move(*service));
  } catch (const std::exception& e) {
    return Error(std::string("cannot open the slashing protection database: ") + e.what());
  }
}

}  // namespace cachet::slashing
