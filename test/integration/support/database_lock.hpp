// Holds a SQLite slashing database's write lock from another connection (BEGIN EXCLUSIVE), as a stuck or competing
// writer would: the signer cannot commit until the lock is released.
#pragma once

#include <filesystem>

struct sqlite3;

namespace cachet::test {

class DatabaseLock {
 public:
  explicit DatabaseLock(const std::filesystem::path& sqlite_file);
  ~DatabaseLock() { release(); }
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

  bool held() const { return held_; }
  void release();

 private:
  sqlite3* db_ = nullptr;
  bool held_ = false;
};

}  // namespace cachet::test
