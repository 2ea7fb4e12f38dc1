#include "support/database_lock.hpp"

#include <sqlite3.h>

namespace cachet::test {

DatabaseLock::DatabaseLock(const std::filesystem::path& sqlite_file) {
  held_ = sqlite3_open(sqlite_file.c_str(), &db_) == SQLITE_OK &&
          sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK;
}

void DatabaseLock::release() {
  if (!db_) return;
  if (held_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db_);
  db_ = nullptr;
  held_ = false;
}

}  // namespace cachet::test
