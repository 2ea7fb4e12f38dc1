// SlashingProtection::open: the database URL, the storage behind it and the service over it.
#include <cachet/slashing/slashing_protection.hpp>

#include "postgres_storage.hpp"
#include "protection_service.hpp"
#include "sqlite_storage.hpp"

namespace cachet::slashing {

std::expected<std::unique_ptr<SlashingProtection>, std::string> SlashingProtection::open(std::string_view url,
                                                                                         const Options& options) {
  using Error = std::unexpected<std::string>;
  constexpr std::string_view kSqlite = "sqlite:";
  const bool postgres = url.starts_with("postgresql://") || url.starts_with("postgres://");
  if (!postgres && (!url.starts_with(kSqlite) || url.size() == kSqlite.size()))
    return Error("unsupported slashing protection database url '" + detail::redact_database_url(url) +
                 "' (expected sqlite:PATH or postgresql://USER@HOST:PORT/DB)");
  if (options.slots_per_epoch == 0) return Error("slots_per_epoch must be positive");
  try {
    // A lock held elsewhere, or a statement, waits at most as long as a caller waits for its decision.
    const auto timeout = std::max(options.commit_timeout, std::chrono::milliseconds(1));
    std::unique_ptr<detail::Storage> storage;
    if (postgres) {
      auto pg = detail::PostgresStorage::open(std::string(url), options.database_pool_size, timeout);
      if (!pg) return Error(pg.error());
      storage = std::move(*pg);
    } else {
      auto sqlite = detail::SqliteStorage::open(std::string(url.substr(kSqlite.size())), options.read_only, timeout);
      if (!sqlite) return Error(sqlite.error());
      storage = std::move(*sqlite);
    }
    detail::ServiceConfig config{options,
                                 std::clamp(timeout, std::chrono::milliseconds(10), std::chrono::milliseconds(1000))};
    auto service = detail::ProtectionService::create(std::move(storage), config);
    if (!service) return Error(service.error());
    return std::unique_ptr<SlashingProtection>(std::move(*service));
  } catch (const std::exception& e) {
    return Error(std::string("cannot open the slashing protection database: ") + e.what());
  }
}

std::string redact_database_url(std::string_view url) { return detail::redact_database_url(url); }

}  // namespace cachet::slashing
