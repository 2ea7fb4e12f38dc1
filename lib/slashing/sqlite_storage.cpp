#include "sqlite_storage.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

namespace cachet::slashing::detail {
namespace {

using Error = std::unexpected<std::string>;

// Migration N is kMigrations[N - 1]; a database records each applied one in schema_version.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE metadata(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  genesis_validators_root BLOB NOT NULL CHECK (length(genesis_validators_root) = 32));
CREATE TABLE validators(
  id INTEGER PRIMARY KEY,
  pubkey BLOB NOT NULL UNIQUE CHECK (length(pubkey) = 48));
CREATE TABLE signed_blocks(
  validator_id INTEGER NOT NULL REFERENCES validators(id),
  slot INTEGER NOT NULL,
  signing_root BLOB CHECK (signing_root IS NULL OR length(signing_root) = 32),
  PRIMARY KEY (validator_id, slot)) WITHOUT ROWID;
CREATE TABLE signed_attestations(
  validator_id INTEGER NOT NULL REFERENCES validators(id),
  source_epoch INTEGER NOT NULL,
  target_epoch INTEGER NOT NULL,
  signing_root BLOB CHECK (signing_root IS NULL OR length(signing_root) = 32),
  PRIMARY KEY (validator_id, target_epoch, source_epoch)) WITHOUT ROWID;
CREATE TABLE watermarks(
  validator_id INTEGER PRIMARY KEY REFERENCES validators(id),
  import_min_slot INTEGER, import_min_source INTEGER, import_min_target INTEGER,
  pruned_max_slot INTEGER, pruned_max_source INTEGER, pruned_max_target INTEGER);
)sql",
    // 2: decisions are made inside the transaction. Two attestations with roots at one target are a double vote:
    // imported ones lose their roots (they refuse everything either would), then a unique index makes any second
    // one fail its transaction. The source index serves the surrounding-vote read.
    R"sql(
UPDATE signed_attestations SET signing_root = NULL WHERE (validator_id, target_epoch) IN (
  SELECT validator_id, target_epoch FROM signed_attestations GROUP BY validator_id, target_epoch HAVING count(*) > 1);
CREATE UNIQUE INDEX signed_attestations_one_root_per_target ON signed_attestations(validator_id, target_epoch)
  WHERE signing_root IS NOT NULL;
CREATE INDEX signed_attestations_by_source ON signed_attestations(validator_id, source_epoch, target_epoch);
)sql",
};
constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations));

std::string db_error(sqlite3* db, std::string_view what) {
  return std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
}

/// A failed statement, typed: a constraint (the backstop) means a lost race, retried; anything else fails closed.
std::unexpected<DbError> failed(sqlite3* db, std::string_view what) {
  const int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
  if (code == SQLITE_CONSTRAINT) return db_retryable(db_error(db, what));
  return db_unavailable(db_error(db, what));
}

/// A prepared statement, reset after every use.
class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }

  Stmt& u64(int i, std::uint64_t v) {
    sqlite3_bind_int64(s_, i, encode_u64(v));
    return *this;
  }
  Stmt& opt_u64(int i, const std::optional<std::uint64_t>& v) {
    if (v) return u64(i, *v);
    sqlite3_bind_null(s_, i);
    return *this;
  }
  Stmt& id(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  template <std::size_t N>
  Stmt& blob(int i, const std::array<std::uint8_t, N>& b) {
    sqlite3_bind_blob(s_, i, b.data(), static_cast<int>(N), SQLITE_STATIC);
    return *this;
  }
  Stmt& opt_root(int i, const std::optional<Bytes32>& r) {
    if (r) return blob(i, *r);
    sqlite3_bind_null(s_, i);
    return *this;
  }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  /// Runs to completion (an INSERT, UPDATE or DELETE).
  DbResult<void> run(sqlite3* db, std::string_view what) {
    const int rc = step();
    DbResult<void> out;
    if (rc != SQLITE_DONE) out = failed(db, what);
    reset();
    return out;
  }
  /// Steps through every row, calling `row(*this)`; resets at the end.
  template <class F>
  DbResult<void> rows(sqlite3* db, std::string_view what, F&& row) {
    int rc;
    while ((rc = step()) == SQLITE_ROW) row(*this);
    DbResult<void> out;
    if (rc != SQLITE_DONE) out = failed(db, what);
    reset();
    return out;
  }

  std::int64_t column_id(int c) const { return sqlite3_column_int64(s_, c); }
  std::uint64_t column_u64(int c) const { return decode_u64(sqlite3_column_int64(s_, c)); }
  std::optional<std::uint64_t> column_opt_u64(int c) const {
    if (sqlite3_column_type(s_, c) == SQLITE_NULL) return std::nullopt;
    return column_u64(c);
  }
  std::string_view column_text(int c) const {
    const auto* text = sqlite3_column_text(s_, c);
    return text ? std::string_view(reinterpret_cast<const char*>(text)) : std::string_view{};
  }
  template <std::size_t N>
  std::optional<std::array<std::uint8_t, N>> column_blob(int c) const {
    if (sqlite3_column_type(s_, c) == SQLITE_NULL || sqlite3_column_bytes(s_, c) != static_cast<int>(N))
      return std::nullopt;
    std::array<std::uint8_t, N> out;
    std::memcpy(out.data(), sqlite3_column_blob(s_, c), N);
    return out;
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

std::expected<Stmt, std::string> prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
      SQLITE_OK)
    return Error(db_error(db, "cannot prepare '" + std::string(sql.substr(0, 60)) + "'"));
  return Stmt(s);
}

std::expected<void, std::string> exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return Error(text);
  }
  return {};
}

void rollback_if_open(sqlite3* db) {
  if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
}

/// The highest applied migration, 0 for a new database; an error if the file is not a database.
std::expected<int, std::string> schema_version(sqlite3* db) {
  auto table = prepare(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!table) return Error(table.error());
  if (table->step() != SQLITE_ROW) return Error(db_error(db, "cannot read the schema"));
  if (table->column_id(0) == 0) return 0;
  auto version = prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
  if (!version) return Error(version.error());
  if (version->step() != SQLITE_ROW) return Error(db_error(db, "cannot read the schema version"));
  return static_cast<int>(version->column_id(0));
}

std::expected<void, std::string> check_version(int version, const std::string& path) {
  if (version > kLatestVersion)
    return Error("slashing protection database " + path + " has schema version " + std::to_string(version) +
                 ", newer than this cachet's " + std::to_string(kLatestVersion));
  return {};
}

std::expected<void, std::string> migrate(sqlite3* db, const std::string& path) {
  if (auto r = exec(db, "BEGIN IMMEDIATE"); !r) return Error("cannot lock " + path + ": " + r.error());
  auto body = [&]() -> std::expected<void, std::string> {
    auto version = schema_version(db);
    if (!version) return Error(version.error());
    if (*version == 0) {  // a new database, or someone else's: never add our tables to another program's file
      auto tables = prepare(db, "SELECT count(*) FROM sqlite_master");
      if (!tables) return Error(tables.error());
      if (tables->step() != SQLITE_ROW) return Error(db_error(db, "cannot read the schema"));
      if (tables->column_id(0) != 0) return Error(path + " is not a slashing protection database (no schema)");
    }
    if (auto r = exec(db, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"); !r) return r;
    if (auto r = check_version(*version, path); !r) return r;
    for (int v = *version + 1; v <= kLatestVersion; ++v) {
      if (auto r = exec(db, kMigrations[v - 1]); !r) return Error("migration " + std::to_string(v) + ": " + r.error());
      auto record = prepare(db, "INSERT INTO schema_version(version) VALUES (?1)");
      if (!record) return Error(record.error());
      if (record->id(1, v).step() != SQLITE_DONE) return Error(db_error(db, "cannot record the schema version"));
    }
    return exec(db, "COMMIT");
  }();
  if (!body) rollback_if_open(db);
  return body;
}

std::expected<sqlite3*, std::string> open_connection(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    auto err = db_error(db, "cannot open slashing protection database " + path);
    sqlite3_close(db);
    return Error(err);
  }
  sqlite3_extended_result_codes(db, 0);
  return db;
}

// Rows as the read queries select them, from column `c` on.
SignedBlock block_row(const Stmt& s, int c) { return {s.column_u64(c), s.column_blob<32>(c + 1)}; }
SignedAttestation attestation_row(const Stmt& s, int c) {
  return {s.column_u64(c), s.column_u64(c + 1), s.column_blob<32>(c + 2)};
}
Watermarks watermark_row(const Stmt& s, int c) {
  return {s.column_opt_u64(c),     s.column_opt_u64(c + 1), s.column_opt_u64(c + 2),
          s.column_opt_u64(c + 3), s.column_opt_u64(c + 4), s.column_opt_u64(c + 5)};
}

}  // namespace

/// One connection and its prepared statements.
struct SqliteStorage::Connection {
  sqlite3* db = nullptr;
  Stmt begin_read, begin_write, commit, get_gvr, insert_gvr, insert_validator, validator_id, list_validators, block_at,
      relevant_attestations, watermarks_of, blocks_of, attestations_of, insert_block, insert_attestation, delete_blocks,
      delete_attestations, delete_watermarks, insert_watermarks;

  ~Connection() {
    // Statements first: a connection with live statements does not close.
    for (Stmt* s :
         {&begin_read, &begin_write, &commit, &get_gvr, &insert_gvr, &insert_validator, &validator_id, &list_validators,
          &block_at, &relevant_attestations, &watermarks_of, &blocks_of, &attestations_of, &insert_block,
          &insert_attestation, &delete_blocks, &delete_attestations, &delete_watermarks, &insert_watermarks})
      *s = Stmt();
    sqlite3_close_v2(db);
  }

  std::expected<void, std::string> prepare_all(bool write) {
    struct Item {
      Stmt& stmt;
      const char* sql;
      bool write;
    };
    const Item items[] = {
        {begin_read, "BEGIN", false},
        // IMMEDIATE: the write lock is taken at BEGIN, so every read in the transaction is under it.
        {begin_write, "BEGIN IMMEDIATE", true},
        {commit, "COMMIT", false},
        {get_gvr, "SELECT genesis_validators_root FROM metadata WHERE id = 1", false},
        {insert_gvr, "INSERT INTO metadata(id, genesis_validators_root) VALUES (1, ?1) ON CONFLICT(id) DO NOTHING",
         true},
        {insert_validator, "INSERT INTO validators(pubkey) VALUES (?1) ON CONFLICT(pubkey) DO NOTHING", true},
        {validator_id, "SELECT id FROM validators WHERE pubkey = ?1", false},
        {list_validators, "SELECT id, pubkey FROM validators WHERE id > ?1 ORDER BY id LIMIT ?2", false},
        {block_at, "SELECT slot, signing_root FROM signed_blocks WHERE validator_id = ?1 AND slot = ?2", false},
        // The rows History::check_attestation looks at: the same target, a surrounding one (greater target,
        // smaller source) and a surrounded one (smaller target, greater source). Each part is an index range
        // that an honest history leaves empty but for the first.
        {relevant_attestations,
         "SELECT source_epoch, target_epoch, signing_root FROM signed_attestations "
         "WHERE validator_id = ?1 AND target_epoch = ?3 "
         "UNION ALL SELECT source_epoch, target_epoch, signing_root FROM signed_attestations "
         "WHERE validator_id = ?1 AND target_epoch > ?3 AND source_epoch < ?2 "
         "UNION ALL SELECT source_epoch, target_epoch, signing_root FROM signed_attestations "
         "INDEXED BY signed_attestations_by_source WHERE validator_id = ?1 AND source_epoch > ?2 AND target_epoch < ?3",
         false},
        {watermarks_of,
         "SELECT import_min_slot, import_min_source, import_min_target, pruned_max_slot, pruned_max_source, "
         "pruned_max_target FROM watermarks WHERE validator_id = ?1",
         false},
        {blocks_of, "SELECT slot, signing_root FROM signed_blocks WHERE validator_id = ?1 ORDER BY slot", false},
        {attestations_of,
         "SELECT source_epoch, target_epoch, signing_root FROM signed_attestations WHERE validator_id = ?1 "
         "ORDER BY target_epoch, source_epoch",
         false},
        {insert_block, "INSERT INTO signed_blocks(validator_id, slot, signing_root) VALUES (?1, ?2, ?3)", true},
        {insert_attestation,
         "INSERT INTO signed_attestations(validator_id, source_epoch, target_epoch, signing_root) "
         "VALUES (?1, ?2, ?3, ?4)",
         true},
        {delete_blocks, "DELETE FROM signed_blocks WHERE validator_id = ?1", true},
        {delete_attestations, "DELETE FROM signed_attestations WHERE validator_id = ?1", true},
        {delete_watermarks, "DELETE FROM watermarks WHERE validator_id = ?1", true},
        {insert_watermarks,
         "INSERT INTO watermarks(validator_id, import_min_slot, import_min_source, import_min_target, "
         "pruned_max_slot, pruned_max_source, pruned_max_target) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
         true},
    };
    for (const auto& item : items) {
      if (item.write && !write) continue;
      auto stmt = prepare(db, item.sql);
      if (!stmt) return Error(stmt.error());
      item.stmt = std::move(*stmt);
    }
    return {};
  }
};

/// A transaction on one connection, holding that connection's mutex for its whole life.
class SqliteStorage::Txn final : public Transaction {
 public:
  Txn(SqliteStorage& storage, Connection& c, std::unique_lock<std::mutex> lock, bool write)
      : storage_(storage), c_(c), lock_(std::move(lock)), write_(write) {}
  ~Txn() override { rollback_if_open(c_.db); }

  DbResult<std::optional<Bytes32>> genesis_root() override {
    std::optional<Bytes32> out;
    auto r = c_.get_gvr.rows(c_.db, "genesis root", [&](const Stmt& s) { out = s.column_blob<32>(0); });
    if (!r) return std::unexpected(r.error());
    return out;
  }

  DbResult<void> insert_genesis_root(const Bytes32& root) override {
    if (!write_) return db_unavailable("read-only transaction");
    return c_.insert_gvr.blob(1, root).run(c_.db, "genesis root");
  }

  DbResult<std::vector<std::optional<std::int64_t>>> lock_validators(std::span<const Bytes48> pubkeys,
                                                                     bool create) override {
    // The write lock taken at BEGIN IMMEDIATE covers every validator: nothing else to lock.
    std::vector<std::optional<std::int64_t>> out;
    out.reserve(pubkeys.size());
    for (const auto& pk : pubkeys) {
      // Ids never change once assigned, and this process is the file's only writer: the writer keeps them (under
      // the writer mutex this transaction holds) and asks the database once per validator.
      if (write_)
        if (auto known = storage_.ids_.find(pk); known != storage_.ids_.end()) {
          out.push_back(known->second);
          continue;
        }
      if (create && write_)
        if (auto r = c_.insert_validator.blob(1, pk).run(c_.db, "validator"); !r) return std::unexpected(r.error());
      std::optional<std::int64_t> id;
      auto r = c_.validator_id.blob(1, pk).rows(c_.db, "validator", [&](const Stmt& s) { id = s.column_id(0); });
      if (!r) return std::unexpected(r.error());
      if (id && write_) pending_ids_.emplace_back(pk, *id);  // kept once committed
      out.push_back(id);
    }
    return out;
  }

  DbResult<std::vector<std::pair<std::int64_t, Bytes48>>> list_validators(std::int64_t after_id,
                                                                          std::size_t limit) override {
    std::vector<std::pair<std::int64_t, Bytes48>> out;
    bool malformed = false;
    auto r = c_.list_validators.id(1, after_id)
                 .id(2, static_cast<std::int64_t>(limit))
                 .rows(c_.db, "validators", [&](const Stmt& s) {
                   auto pk = s.column_blob<48>(1);
                   if (!pk)
                     malformed = true;
                   else
                     out.emplace_back(s.column_id(0), *pk);
                 });
    if (!r) return std::unexpected(r.error());
    if (malformed) return db_unavailable("a validator has a malformed pubkey");
    return out;
  }

  DbResult<Rows> read_relevant(std::span<const RelevantQuery> queries) override {
    Rows out;
    std::set<std::int64_t> validators;
    for (const auto& q : queries) {
      validators.insert(q.validator_id);
      DbResult<void> r;
      if (q.is_block) {
        r = c_.block_at.id(1, q.validator_id).u64(2, q.slot).rows(c_.db, "signed_blocks", [&](const Stmt& s) {
          out.blocks.emplace_back(q.validator_id, block_row(s, 0));
        });
      } else {
        r = c_.relevant_attestations.id(1, q.validator_id)
                .u64(2, q.source)
                .u64(3, q.target)
                .rows(c_.db, "signed_attestations",
                      [&](const Stmt& s) { out.attestations.emplace_back(q.validator_id, attestation_row(s, 0)); });
      }
      if (!r) return std::unexpected(r.error());
    }
    if (auto r = read_watermarks(validators, out); !r) return std::unexpected(r.error());
    return out;
  }

  DbResult<Rows> read_full(std::span<const std::int64_t> ids) override {
    Rows out;
    for (const auto id : ids) {
      auto r = c_.blocks_of.id(1, id).rows(c_.db, "signed_blocks",
                                           [&](const Stmt& s) { out.blocks.emplace_back(id, block_row(s, 0)); });
      if (r)
        r = c_.attestations_of.id(1, id).rows(c_.db, "signed_attestations", [&](const Stmt& s) {
          out.attestations.emplace_back(id, attestation_row(s, 0));
        });
      if (!r) return std::unexpected(r.error());
    }
    if (auto r = read_watermarks(ids, out); !r) return std::unexpected(r.error());
    return out;
  }

  DbResult<void> insert_signed(std::span<const std::pair<std::int64_t, SignedBlock>> blocks,
                               std::span<const std::pair<std::int64_t, SignedAttestation>> attestations) override {
    if (!write_) return db_unavailable("read-only transaction");
    for (const auto& [id, b] : blocks)
      if (auto r = insert_block(id, b.slot, b.signing_root); !r) return r;
    for (const auto& [id, a] : attestations)
      if (auto r = insert_attestation(id, a.source_epoch, a.target_epoch, a.signing_root); !r) return r;
    return {};
  }

  DbResult<void> replace_history(std::int64_t id, const StoredHistory& history) override {
    if (!write_) return db_unavailable("read-only transaction");
    for (Stmt* s : {&c_.delete_blocks, &c_.delete_attestations, &c_.delete_watermarks})
      if (auto r = s->id(1, id).run(c_.db, "history"); !r) return r;
    if (auto r = insert_signed(history.blocks, history.attestations); !r) return r;
    const auto& w = history.watermarks;
    if (w == Watermarks{}) return {};
    return c_.insert_watermarks.id(1, id)
        .opt_u64(2, w.import_min_slot)
        .opt_u64(3, w.import_min_source)
        .opt_u64(4, w.import_min_target)
        .opt_u64(5, w.pruned_max_slot)
        .opt_u64(6, w.pruned_max_source)
        .opt_u64(7, w.pruned_max_target)
        .run(c_.db, "watermarks");
  }

  DbResult<void> commit() override {
    if (write_)
      if (auto same = storage_.check_identity(); !same) return same;
    if (auto r = c_.commit.run(c_.db, "commit"); !r) return r;
    for (const auto& [pk, id] : pending_ids_) storage_.ids_.emplace(pk, id);
    return {};
  }

 private:
  template <class Ids>
  DbResult<void> read_watermarks(const Ids& ids, Rows& out) {
    for (const auto id : ids)
      if (auto r = c_.watermarks_of.id(1, id).rows(
              c_.db, "watermarks", [&](const Stmt& s) { out.watermarks.emplace_back(id, watermark_row(s, 0)); });
          !r)
        return r;
    return {};
  }
  DbResult<void> insert_block(std::int64_t id, std::uint64_t slot, const std::optional<Bytes32>& root) {
    return c_.insert_block.id(1, id).u64(2, slot).opt_root(3, root).run(c_.db, "block");
  }
  DbResult<void> insert_attestation(std::int64_t id, std::uint64_t source, std::uint64_t target,
                                    const std::optional<Bytes32>& root) {
    return c_.insert_attestation.id(1, id).u64(2, source).u64(3, target).opt_root(4, root).run(c_.db, "attestation");
  }

  SqliteStorage& storage_;
  Connection& c_;
  std::unique_lock<std::mutex> lock_;
  const bool write_;
  std::vector<std::pair<Bytes48, std::int64_t>> pending_ids_;  // ids read or created here, cached after commit
};

int SqliteStorage::latest_schema_version() { return kLatestVersion; }

std::expected<std::unique_ptr<SqliteStorage>, std::string> SqliteStorage::open(const std::string& path, bool read_only,
                                                                               std::chrono::milliseconds busy_timeout) {
  std::unique_ptr<SqliteStorage> s(new SqliteStorage());
  s->path_ = path;
  std::error_code ec;
  if (read_only) {
    if (!std::filesystem::exists(path, ec)) return Error("slashing protection database " + path + " does not exist");
  } else {
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
      return Error("directory " + dir.string() + " of slashing protection database " + path + " does not exist");
    if (auto r = s->open_writer(path, busy_timeout); !r) return Error(r.error());
  }
  auto reader = open_connection(path, SQLITE_OPEN_READONLY);
  if (!reader) return Error(reader.error());
  s->reader_ = std::make_unique<Connection>();
  s->reader_->db = *reader;
  sqlite3_busy_timeout(s->reader_->db, static_cast<int>(std::max<std::int64_t>(busy_timeout.count(), 1)));
  auto version = schema_version(s->reader_->db);
  if (!version) return Error(path + ": " + version.error());
  if (*version == 0) return Error(path + " is not a slashing protection database (no schema)");
  if (auto r = check_version(*version, path); !r) return Error(r.error());
  if (*version < kLatestVersion)  // read-only: an older schema cannot be migrated here
    return Error("slashing protection database " + path + " has schema version " + std::to_string(*version) +
                 "; open it once with a writer (the signer, or an import) to migrate it");
  if (auto r = s->reader_->prepare_all(false); !r) return Error(r.error());
  return s;
}

std::expected<void, std::string> SqliteStorage::open_writer(const std::string& path,
                                                            std::chrono::milliseconds busy_timeout) {
  // The lock is on the database file itself (its inode): see the header.
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return Error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Error("slashing protection database " + path + " is in use by another process");
    return Error("cannot lock " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(lock_fd_, &st) != 0) return Error("cannot stat " + path + ": " + std::strerror(errno));
  device_ = st.st_dev;
  inode_ = st.st_ino;
  auto db = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return Error(db.error());
  writer_ = std::make_unique<Connection>();
  writer_->db = *db;
  sqlite3_busy_timeout(writer_->db, static_cast<int>(std::max<std::int64_t>(busy_timeout.count(), 1)));
  // WAL: readers (an export) never block the writer; synchronous=FULL: a commit is on disk when COMMIT returns.
  {
    auto wal = prepare(writer_->db, "PRAGMA journal_mode=WAL");
    if (!wal) return Error(wal.error());
    if (wal->step() != SQLITE_ROW || wal->column_text(0) != "wal")
      return Error(db_error(writer_->db, "cannot switch " + path + " to WAL mode"));
  }
  for (const char* pragma : {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"})
    if (auto r = exec(writer_->db, pragma); !r) return Error(path + ": " + r.error());
  if (auto r = migrate(writer_->db, path); !r) return r;
  return writer_->prepare_all(true);
}

SqliteStorage::~SqliteStorage() {
  writer_.reset();
  reader_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

DbResult<void> SqliteStorage::check_identity() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0)
    return db_unavailable("slashing protection database " + path_ + " is gone (" + std::strerror(errno) + ")");
  if (st.st_dev != device_ || st.st_ino != inode_)
    return db_unavailable("slashing protection database " + path_ + " was replaced by another file");
  return {};
}

DbResult<std::unique_ptr<Transaction>> SqliteStorage::begin(bool write) {
  if (write && !writer_) return db_unavailable("slashing protection database " + path_ + " is open read-only");
  Connection& c = write ? *writer_ : *reader_;
  std::unique_lock lock(write ? writer_mutex_ : reader_mutex_);
  if (write)
    if (auto same = check_identity(); !same) return std::unexpected(same.error());
  if (auto r = (write ? c.begin_write : c.begin_read).run(c.db, "cannot start a transaction on " + path_); !r) {
    rollback_if_open(c.db);
    return std::unexpected(r.error());
  }
  return std::make_unique<Txn>(*this, c, std::move(lock), write);
}

DbResult<void> SqliteStorage::probe() {
  if (!writer_) return db_unavailable("slashing protection database " + path_ + " is open read-only");
  std::lock_guard lock(writer_mutex_);
  if (auto same = check_identity(); !same) return same;
  // A real write (and fsync): a lock held elsewhere, a full disk or an I/O error makes it fail.
  if (auto r = exec(writer_->db, "BEGIN IMMEDIATE; UPDATE schema_version SET version = version; COMMIT"); !r) {
    rollback_if_open(writer_->db);
    return db_unavailable("slashing protection database " + path_ + ": " + r.error());
  }
  return {};
}

}  // namespace cachet::slashing::detail
