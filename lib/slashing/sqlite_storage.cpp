#include "sqlite_storage.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_map>
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
};
constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations));

std::string db_error(sqlite3* db, std::string_view what) {
  return std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
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
  std::expected<void, std::string> run(sqlite3* db, std::string_view what) {
    const int rc = step();
    auto err = rc == SQLITE_DONE ? std::expected<void, std::string>{} : Error(db_error(db, what));
    reset();
    return err;
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
      if (auto r = record->id(1, v).run(db, "cannot record the schema version"); !r) return r;
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
  sqlite3_extended_result_codes(db, 1);
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
constexpr const char* kWatermarkColumns =
    "import_min_slot, import_min_source, import_min_target, pruned_max_slot, pruned_max_source, pruned_max_target";

}  // namespace

struct SqliteStorage::Statements {
  Stmt get_gvr, insert_gvr, insert_validator, upsert_block, upsert_attestation, import_watermarks, prune_watermarks,
      delete_blocks, delete_attestations;
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
  s->reader_ = *reader;
  sqlite3_busy_timeout(s->reader_, static_cast<int>(std::max<std::int64_t>(busy_timeout.count(), 1)));
  if (read_only) {
    auto version = schema_version(s->reader_);
    if (!version) return Error(path + ": " + version.error());
    if (*version == 0) return Error(path + " is not a slashing protection database (no schema)");
    if (auto r = check_version(*version, path); !r) return Error(r.error());
  }
  return s;
}

std::expected<void, std::string> SqliteStorage::open_writer(const std::string& path,
                                                            std::chrono::milliseconds busy_timeout) {
  const std::string lock_path = path + ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return Error("cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Error("slashing protection database " + path + " is in use by another process");
    return Error("cannot lock " + lock_path + ": " + std::strerror(errno));
  }
  auto db = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return Error(db.error());
  writer_ = *db;
  sqlite3_busy_timeout(writer_, static_cast<int>(std::max<std::int64_t>(busy_timeout.count(), 1)));
  // WAL: readers (an export) never block the writer; synchronous=FULL: a commit is on disk when COMMIT returns.
  {
    auto wal = prepare(writer_, "PRAGMA journal_mode=WAL");
    if (!wal) return Error(wal.error());
    if (wal->step() != SQLITE_ROW || wal->column_text(0) != "wal")
      return Error(db_error(writer_, "cannot switch " + path + " to WAL mode"));
  }
  for (const char* pragma : {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"})
    if (auto r = exec(writer_, pragma); !r) return Error(path + ": " + r.error());
  if (auto r = migrate(writer_, path); !r) return r;

  statements_ = std::make_unique<Statements>();
  auto& st = *statements_;
  struct Item {
    Stmt& stmt;
    const char* sql;
  };
  const Item items[] = {
      {st.get_gvr, "SELECT genesis_validators_root FROM metadata WHERE id = 1"},
      {st.insert_gvr, "INSERT INTO metadata(id, genesis_validators_root) VALUES (1, ?1)"},
      {st.insert_validator, "INSERT INTO validators(id, pubkey) VALUES (?1, ?2) ON CONFLICT(id) DO NOTHING"},
      {st.upsert_block,
       "INSERT INTO signed_blocks(validator_id, slot, signing_root) VALUES (?1, ?2, ?3) "
       "ON CONFLICT(validator_id, slot) DO UPDATE SET signing_root = CASE "
       "WHEN signed_blocks.signing_root = excluded.signing_root THEN signed_blocks.signing_root ELSE NULL END"},
      {st.upsert_attestation,
       "INSERT INTO signed_attestations(validator_id, source_epoch, target_epoch, signing_root) "
       "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(validator_id, target_epoch, source_epoch) DO UPDATE SET signing_root = "
       "CASE WHEN signed_attestations.signing_root = excluded.signing_root THEN signed_attestations.signing_root "
       "ELSE NULL END"},
      {st.import_watermarks,
       "INSERT INTO watermarks(validator_id, import_min_slot, import_min_source, import_min_target) "
       "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(validator_id) DO UPDATE SET import_min_slot = excluded.import_min_slot, "
       "import_min_source = excluded.import_min_source, import_min_target = excluded.import_min_target"},
      {st.prune_watermarks,
       "INSERT INTO watermarks(validator_id, pruned_max_slot, pruned_max_source, pruned_max_target) "
       "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(validator_id) DO UPDATE SET pruned_max_slot = excluded.pruned_max_slot, "
       "pruned_max_source = excluded.pruned_max_source, pruned_max_target = excluded.pruned_max_target"},
      {st.delete_blocks, "DELETE FROM signed_blocks WHERE validator_id = ?1 AND slot <= ?2"},
      {st.delete_attestations, "DELETE FROM signed_attestations WHERE validator_id = ?1 AND target_epoch <= ?2"},
  };
  for (const auto& item : items) {
    auto stmt = prepare(writer_, item.sql);
    if (!stmt) return Error(stmt.error());
    item.stmt = std::move(*stmt);
  }
  return {};
}

SqliteStorage::~SqliteStorage() {
  statements_.reset();
  sqlite3_close_v2(writer_);
  sqlite3_close_v2(reader_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::expected<void, std::string> SqliteStorage::write(const WriteBatch& batch) {
  if (!writer_) return Error("slashing protection database " + path_ + " is open read-only");
  if (auto r = exec(writer_, "BEGIN IMMEDIATE"); !r) {
    rollback_if_open(writer_);
    return Error("cannot start a transaction on " + path_ + ": " + r.error());
  }
  auto body = write_in_transaction(batch);
  if (body) body = exec(writer_, "COMMIT");
  if (!body) {
    rollback_if_open(writer_);
    return Error("cannot write " + path_ + ": " + body.error());
  }
  return {};
}

std::expected<void, std::string> SqliteStorage::write_in_transaction(const WriteBatch& batch) {
  auto& st = *statements_;
  if (batch.genesis_validators_root) {
    const int rc = st.get_gvr.step();
    std::optional<Bytes32> stored;
    if (rc == SQLITE_ROW) stored = st.get_gvr.column_blob<32>(0);
    st.get_gvr.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(db_error(writer_, "cannot read the genesis root"));
    if (stored && *stored != *batch.genesis_validators_root)
      return Error("the database's genesis validators root is " + to_hex(*stored));
    if (!stored)
      if (auto r = st.insert_gvr.blob(1, *batch.genesis_validators_root).run(writer_, "genesis root"); !r) return r;
  }
  for (const auto& v : batch.validators)
    if (auto r = st.insert_validator.id(1, v.id).blob(2, v.pubkey).run(writer_, "validator"); !r) return r;
  for (const auto& b : batch.blocks)
    if (auto r = st.upsert_block.id(1, b.validator_id)
                     .u64(2, b.block.slot)
                     .opt_root(3, b.block.signing_root)
                     .run(writer_, "block");
        !r)
      return r;
  for (const auto& a : batch.attestations)
    if (auto r = st.upsert_attestation.id(1, a.validator_id)
                     .u64(2, a.attestation.source_epoch)
                     .u64(3, a.attestation.target_epoch)
                     .opt_root(4, a.attestation.signing_root)
                     .run(writer_, "attestation");
        !r)
      return r;
  // One statement per group of watermark columns: (validator, slot, source, target).
  auto watermarks = [&](Stmt& stmt, std::int64_t id, const auto& slot, const auto& source, const auto& target) {
    return stmt.id(1, id).opt_u64(2, slot).opt_u64(3, source).opt_u64(4, target).run(writer_, "watermarks");
  };
  for (const auto& w : batch.import_watermarks)
    if (auto r = watermarks(st.import_watermarks, w.validator_id, w.min_slot, w.min_source, w.min_target); !r) return r;
  for (const auto& p : batch.prunes) {
    if (auto r = watermarks(st.prune_watermarks, p.validator_id, p.max_slot, p.max_source, p.max_target); !r) return r;
    if (p.max_slot)
      if (auto r = st.delete_blocks.id(1, p.validator_id).u64(2, *p.max_slot).run(writer_, "pruning"); !r) return r;
    if (p.max_target)
      if (auto r = st.delete_attestations.id(1, p.validator_id).u64(2, *p.max_target).run(writer_, "pruning"); !r)
        return r;
  }
  return {};
}

std::expected<void, std::string> SqliteStorage::probe() {
  if (!writer_) return Error("slashing protection database " + path_ + " is open read-only");
  // A real write (and fsync): a lock held elsewhere, a full disk or an I/O error makes it fail.
  if (auto r = exec(writer_, "BEGIN IMMEDIATE; UPDATE schema_version SET version = version; COMMIT"); !r) {
    rollback_if_open(writer_);
    return Error("slashing protection database " + path_ + ": " + r.error());
  }
  return {};
}

std::expected<ScanSummary, std::string> SqliteStorage::scan(std::span<const Bytes48> pubkeys, const Visitor& visit) {
  std::lock_guard lock(read_mutex_);
  ScanSummary out;
  if (auto r = exec(reader_, "BEGIN"); !r) return Error("cannot read " + path_ + ": " + r.error());
  auto body = [&]() -> std::expected<void, std::string> {
    auto gvr = prepare(reader_, "SELECT genesis_validators_root FROM metadata WHERE id = 1");
    if (!gvr) return Error(gvr.error());
    if (gvr->step() == SQLITE_ROW) out.genesis_validators_root = gvr->column_blob<32>(0);
    auto max_id = prepare(reader_, "SELECT COALESCE(MAX(id), 0) FROM validators");
    if (!max_id) return Error(max_id.error());
    if (max_id->step() != SQLITE_ROW) return Error(db_error(reader_, "cannot read validators"));
    out.max_validator_id = max_id->column_id(0);
    if (pubkeys.empty()) return scan_all(visit);
    for (const auto& pk : pubkeys)
      if (auto r = scan_one(pk, visit); !r) return r;
    return {};
  }();
  rollback_if_open(reader_);  // ends the read transaction
  if (!body) return Error("cannot read " + path_ + ": " + body.error());
  return out;
}

std::expected<void, std::string> SqliteStorage::scan_all(const Visitor& visit) {
  // Four cursors ordered by validator id, merged: one validator's rows at a time.
  struct Cursor {
    Stmt stmt;
    int rc = SQLITE_DONE;
    const char* what;
  };
  const std::string sql[] = {
      "SELECT id, pubkey FROM validators ORDER BY id",
      "SELECT validator_id, slot, signing_root FROM signed_blocks ORDER BY validator_id, slot",
      "SELECT validator_id, source_epoch, target_epoch, signing_root FROM signed_attestations "
      "ORDER BY validator_id, target_epoch, source_epoch",
      std::string("SELECT validator_id, ") + kWatermarkColumns + " FROM watermarks ORDER BY validator_id",
  };
  const char* names[] = {"validators", "signed_blocks", "signed_attestations", "watermarks"};
  Cursor c[4];
  for (int i = 0; i < 4; ++i) {
    auto stmt = prepare(reader_, sql[i]);
    if (!stmt) return Error(stmt.error());
    c[i].stmt = std::move(*stmt);
    c[i].what = names[i];
    c[i].rc = c[i].stmt.step();
  }
  auto& [validators, blocks, atts, marks] = c;
  // Calls `take` for each row of `cursor` belonging to validator `id`, skipping rows of unknown validators.
  auto rows_of = [&](Cursor& cursor, std::int64_t id, auto take) -> std::expected<void, std::string> {
    while (cursor.rc == SQLITE_ROW && cursor.stmt.column_id(0) <= id) {
      if (cursor.stmt.column_id(0) == id) take(cursor.stmt);
      cursor.rc = cursor.stmt.step();
    }
    if (cursor.rc != SQLITE_ROW && cursor.rc != SQLITE_DONE) return Error(db_error(reader_, cursor.what));
    return {};
  };
  for (; validators.rc == SQLITE_ROW; validators.rc = validators.stmt.step()) {
    const std::int64_t id = validators.stmt.column_id(0);
    auto pk = validators.stmt.column_blob<48>(1);
    if (!pk) return Error("validator " + std::to_string(id) + " has a malformed pubkey");
    StoredValidator v{id, *pk, {}, {}, {}};
    if (auto r = rows_of(blocks, id, [&](const Stmt& s) { v.blocks.push_back(block_row(s, 1)); }); !r) return r;
    if (auto r = rows_of(atts, id, [&](const Stmt& s) { v.attestations.push_back(attestation_row(s, 1)); }); !r)
      return r;
    if (auto r = rows_of(marks, id, [&](const Stmt& s) { v.watermarks = watermark_row(s, 1); }); !r) return r;
    visit(std::move(v));
  }
  if (validators.rc != SQLITE_DONE) return Error(db_error(reader_, "validators"));
  return {};
}

std::expected<void, std::string> SqliteStorage::scan_one(const Bytes48& pubkey, const Visitor& visit) {
  auto validator = prepare(reader_, "SELECT id FROM validators WHERE pubkey = ?1");
  if (!validator) return Error(validator.error());
  validator->blob(1, pubkey);
  if (validator->step() != SQLITE_ROW) return {};  // unknown: left out
  StoredValidator v{validator->column_id(0), pubkey, {}, {}, {}};
  auto blocks = prepare(reader_, "SELECT slot, signing_root FROM signed_blocks WHERE validator_id = ?1 ORDER BY slot");
  if (!blocks) return Error(blocks.error());
  blocks->id(1, v.id);
  int rc;
  while ((rc = blocks->step()) == SQLITE_ROW) v.blocks.push_back(block_row(*blocks, 0));
  if (rc != SQLITE_DONE) return Error(db_error(reader_, "signed_blocks"));
  auto atts =
      prepare(reader_,
              "SELECT source_epoch, target_epoch, signing_root FROM signed_attestations WHERE validator_id = ?1 "
              "ORDER BY target_epoch, source_epoch");
  if (!atts) return Error(atts.error());
  atts->id(1, v.id);
  while ((rc = atts->step()) == SQLITE_ROW) v.attestations.push_back(attestation_row(*atts, 0));
  if (rc != SQLITE_DONE) return Error(db_error(reader_, "signed_attestations"));
  auto marks =
      prepare(reader_, std::string("SELECT ") + kWatermarkColumns + " FROM watermarks WHERE validator_id = ?1");
  if (!marks) return Error(marks.error());
  marks->id(1, v.id);
  if (marks->step() == SQLITE_ROW) v.watermarks = watermark_row(*marks, 0);
  visit(std::move(v));
  return {};
}

}  // namespace cachet::slashing::detail
