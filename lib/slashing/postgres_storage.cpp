#include "postgres_storage.hpp"

#include <algorithm>

namespace cachet::slashing::detail {
namespace {

using Error = std::unexpected<std::string>;
using Clock = PgConnection::Clock;

// Migration N is kMigrations[N - 1]; schema_version records each applied one. The same tables as SQLite's.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE metadata(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  genesis_validators_root BYTEA NOT NULL CHECK (length(genesis_validators_root) = 32));
CREATE TABLE validators(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pubkey BYTEA NOT NULL UNIQUE CHECK (length(pubkey) = 48));
CREATE TABLE signed_blocks(
  validator_id BIGINT NOT NULL REFERENCES validators(id),
  slot BIGINT NOT NULL,
  signing_root BYTEA CHECK (signing_root IS NULL OR length(signing_root) = 32),
  PRIMARY KEY (validator_id, slot));
CREATE TABLE signed_attestations(
  validator_id BIGINT NOT NULL REFERENCES validators(id),
  source_epoch BIGINT NOT NULL,
  target_epoch BIGINT NOT NULL,
  signing_root BYTEA CHECK (signing_root IS NULL OR length(signing_root) = 32),
  PRIMARY KEY (validator_id, target_epoch, source_epoch));
CREATE UNIQUE INDEX signed_attestations_one_root_per_target ON signed_attestations(validator_id, target_epoch)
  WHERE signing_root IS NOT NULL;
CREATE INDEX signed_attestations_by_source ON signed_attestations(validator_id, source_epoch, target_epoch);
CREATE TABLE watermarks(
  validator_id BIGINT PRIMARY KEY REFERENCES validators(id),
  import_min_slot BIGINT, import_min_source BIGINT, import_min_target BIGINT,
  pruned_max_slot BIGINT, pruned_max_source BIGINT, pruned_max_target BIGINT);
)sql",
};
constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations));
// Session advisory lock held while migrating ('cachet' in ASCII).
constexpr const char* kMigrationLock = "SELECT pg_advisory_lock(109231110137972)";
constexpr const char* kMigrationUnlock = "SELECT pg_advisory_unlock(109231110137972)";

// Statements prepared on every connection. Arrays travel as text: bigint[] of encoded u64, text[] of hex.
struct Named {
  const char* name;
  const char* sql;
};
constexpr Named kStatements[] = {
    {"gvr", "SELECT encode(genesis_validators_root, 'hex') FROM metadata WHERE id = 1"},
    {"insert_gvr",
     "INSERT INTO metadata(id, genesis_validators_root) VALUES (1, decode($1, 'hex')) ON CONFLICT (id) DO NOTHING"},
    // Keys sorted by the caller: transactions lock in one order.
    {"lock", "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS t(k)"},
    {"upsert_validators",
     "WITH wanted AS (SELECT decode(h, 'hex') AS pubkey FROM unnest($1::text[]) AS t(h)), "
     "added AS (INSERT INTO validators(pubkey) SELECT pubkey FROM wanted ON CONFLICT (pubkey) DO NOTHING "
     "RETURNING id, pubkey) "
     "SELECT id, encode(pubkey, 'hex') FROM added UNION ALL "
     "SELECT v.id, encode(v.pubkey, 'hex') FROM validators v JOIN wanted USING (pubkey)"},
    {"find_validators",
     "SELECT v.id, encode(v.pubkey, 'hex') FROM validators v "
     "JOIN (SELECT decode(h, 'hex') AS pubkey FROM unnest($1::text[]) AS t(h)) wanted USING (pubkey)"},
    {"list_validators", "SELECT id, encode(pubkey, 'hex') FROM validators WHERE id > $1 ORDER BY id LIMIT $2"},
    // The rows History::check_block / check_attestation look at (kind 0 blocks, 1 attestations) and the watermarks
    // (kind 2), for every query at once. Columns: kind, validator, c1..c6, root.
    {"read_relevant",
     "WITH q AS (SELECT * FROM unnest($1::bigint[], $2::boolean[], $3::bigint[], $4::bigint[], $5::bigint[]) "
     "AS t(vid, is_block, slot, source, target)) "
     "SELECT 0, b.validator_id, b.slot, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, "
     "encode(b.signing_root, 'hex') FROM q JOIN signed_blocks b ON q.is_block AND b.validator_id = q.vid "
     "AND b.slot = q.slot "
     "UNION ALL SELECT 1, a.validator_id, a.source_epoch, a.target_epoch, NULL, NULL, NULL, NULL, "
     "encode(a.signing_root, 'hex') FROM q JOIN signed_attestations a ON NOT q.is_block AND a.validator_id = q.vid "
     "AND (a.target_epoch = q.target OR (a.target_epoch > q.target AND a.source_epoch < q.source)) "
     "UNION ALL SELECT 1, a.validator_id, a.source_epoch, a.target_epoch, NULL, NULL, NULL, NULL, "
     "encode(a.signing_root, 'hex') FROM q JOIN signed_attestations a ON NOT q.is_block AND a.validator_id = q.vid "
     "AND a.source_epoch > q.source AND a.target_epoch < q.target "
     "UNION ALL SELECT 2, w.validator_id, w.import_min_slot, w.import_min_source, w.import_min_target, "
     "w.pruned_max_slot, w.pruned_max_source, w.pruned_max_target, NULL FROM watermarks w "
     "WHERE w.validator_id IN (SELECT vid FROM q)"},
    {"read_full",
     "SELECT 0, validator_id, slot, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, "
     "encode(signing_root, 'hex') FROM signed_blocks WHERE validator_id = ANY($1::bigint[]) "
     "UNION ALL SELECT 1, validator_id, source_epoch, target_epoch, NULL, NULL, NULL, NULL, "
     "encode(signing_root, 'hex') FROM signed_attestations WHERE validator_id = ANY($1::bigint[]) "
     "UNION ALL SELECT 2, validator_id, import_min_slot, import_min_source, import_min_target, pruned_max_slot, "
     "pruned_max_source, pruned_max_target, NULL FROM watermarks WHERE validator_id = ANY($1::bigint[])"},
    // Plain INSERTs: a conflict is the backstop failing the transaction, never a merge.
    {"insert_rows",
     "WITH b AS (INSERT INTO signed_blocks(validator_id, slot, signing_root) "
     "SELECT v, s, decode(r, 'hex') FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS t(v, s, r)), "
     "a AS (INSERT INTO signed_attestations(validator_id, source_epoch, target_epoch, signing_root) "
     "SELECT v, s, g, decode(r, 'hex') FROM unnest($4::bigint[], $5::bigint[], $6::bigint[], $7::text[]) "
     "AS t(v, s, g, r)) SELECT 1"},
    {"delete_history",
     "WITH b AS (DELETE FROM signed_blocks WHERE validator_id = $1), "
     "a AS (DELETE FROM signed_attestations WHERE validator_id = $1) "
     "DELETE FROM watermarks WHERE validator_id = $1"},
    {"insert_watermarks",
     "INSERT INTO watermarks(validator_id, import_min_slot, import_min_source, import_min_target, pruned_max_slot, "
     "pruned_max_source, pruned_max_target) VALUES ($1, $2, $3, $4, $5, $6, $7)"},
};

/// A Postgres array literal of the given elements ("NULL" for none).
template <class T, class F>
std::string array_literal(const std::vector<T>& items, F&& element) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += element(items[i]);
  }
  return out + "}";
}

std::string root_element(const std::optional<Bytes32>& r) { return r ? to_hex(*r, false) : "NULL"; }
std::string u64_text(std::uint64_t v) { return std::to_string(encode_u64(v)); }
PgParam opt_u64_param(const std::optional<std::uint64_t>& v) {
  return v ? PgParam(u64_text(*v)) : PgParam(std::nullopt);
}

/// The advisory lock key of a pubkey: 8 of its random bytes (byte 0 carries flag bits). Two validators sharing a
/// key only serialize.
std::int64_t lock_key(const Bytes48& pk) {
  std::uint64_t k = 0;
  for (int i = 1; i <= 8; ++i) k = (k << 8) | pk[i];
  return static_cast<std::int64_t>(k);
}

std::optional<std::uint64_t> opt_u64_column(const PgRows& rows, int row, int col) {
  if (rows.null(row, col)) return std::nullopt;
  return decode_u64(rows.i64(row, col));
}

/// Rows of the read_relevant / read_full shape.
DbResult<Rows> parse_rows(const PgRows& r) {
  Rows out;
  for (int i = 0; i < r.size(); ++i) {
    const auto kind = r.i64(i, 0);
    const auto vid = r.i64(i, 1);
    std::optional<Bytes32> root;
    if (!r.null(i, 8)) {
      auto parsed = from_hex_fixed<32>(r.text(i, 8));
      if (!parsed) return db_unavailable("a stored signing root is malformed");
      root = *parsed;
    }
    if (kind == 0) {
      out.blocks.emplace_back(vid, SignedBlock{decode_u64(r.i64(i, 2)), root});
    } else if (kind == 1) {
      out.attestations.emplace_back(vid, SignedAttestation{decode_u64(r.i64(i, 2)), decode_u64(r.i64(i, 3)), root});
    } else {
      out.watermarks.emplace_back(
          vid, Watermarks{opt_u64_column(r, i, 2), opt_u64_column(r, i, 3), opt_u64_column(r, i, 4),
                          opt_u64_column(r, i, 5), opt_u64_column(r, i, 6), opt_u64_column(r, i, 7)});
    }
  }
  return out;
}

}  // namespace

namespace {

// libpq also takes the password as a query parameter (postgresql://host/db?password=...): its value, up to the next
// '&' or '#', becomes "***".
std::string redact_password_parameter(std::string url) {
  const auto query = url.find('?');
  if (query == std::string::npos) return url;
  for (std::size_t at = query + 1; at < url.size();) {
    const auto end = url.find_first_of("&#", at);
    const auto param_end = end == std::string::npos ? url.size() : end;
    constexpr std::string_view kKey = "password=";
    if (std::string_view(url).substr(at, kKey.size()) == kKey) {
      url.replace(at + kKey.size(), param_end - at - kKey.size(), "***");
      at += kKey.size() + 3;
    } else {
      at = param_end;
    }
    if (at < url.size() && url[at] == '#') break;
    ++at;
  }
  return url;
}

}  // namespace

std::string redact_database_url(std::string_view url) {
  // scheme://user:password@host...: the password is between the first ':' after "//" and the last '@' before the
  // path.
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto authority_start = scheme + 3;
  const auto authority_end = url.find_first_of("/?", authority_start);
  const auto authority = url.substr(authority_start, authority_end - authority_start);
  const auto at = authority.rfind('@');
  const auto colon = at == std::string_view::npos ? std::string_view::npos : authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return redact_password_parameter(std::string(url));
  return redact_password_parameter(std::string(url.substr(0, authority_start + colon + 1)) + "***" +
                                   std::string(url.substr(authority_start + at)));
}

/// Statements whose results are not needed (BEGIN, the locks, inserts) wait and go out with the next statement whose
/// result is (libpq's pipeline mode): a decision costs three round trips (BEGIN + locks + ids, the rows, the inserts
/// + COMMIT). They still run in order on the server, and an error in any of them fails the statement that sent it.
class PostgresStorage::Txn final : public Transaction {
 public:
  Txn(PostgresStorage& storage, std::unique_ptr<PgConnection> c, bool write)
      : storage_(storage), c_(std::move(c)), write_(write) {
    pending_.push_back({{}, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}});
  }
  ~Txn() override {
    if (begun_ && !done_ && c_->usable()) (void)c_->exec("ROLLBACK", {}, deadline());
    storage_.release(std::move(c_));
  }

  DbResult<std::optional<Bytes32>> genesis_root() override {
    auto r = run("gvr", {});
    if (!r) return std::unexpected(r.error());
    if (r->size() == 0) return std::optional<Bytes32>{};
    auto root = from_hex_fixed<32>(r->text(0, 0));
    if (!root) return db_unavailable("the stored genesis validators root is malformed");
    return std::optional<Bytes32>(*root);
  }

  DbResult<void> insert_genesis_root(const Bytes32& root) override {
    auto r = run("insert_gvr", {to_hex(root, false)});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  DbResult<std::vector<std::optional<std::int64_t>>> lock_validators(std::span<const Bytes48> pubkeys,
                                                                     bool create) override {
    std::vector<std::optional<std::int64_t>> out(pubkeys.size());
    if (pubkeys.empty()) return out;
    if (write_) {
      std::vector<std::int64_t> keys;
      for (const auto& pk : pubkeys) keys.push_back(lock_key(pk));
      std::ranges::sort(keys);
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      // Its own statement, before any read: the reads that follow take their snapshots after the locks are held.
      defer("lock", {array_literal(keys, [](std::int64_t k) { return std::to_string(k); })});
    }
    std::vector<Bytes48> list(pubkeys.begin(), pubkeys.end());
    const auto hex = array_literal(list, [](const Bytes48& pk) { return to_hex(pk, false); });
    auto found = run("find_validators", {hex});
    if (!found) return std::unexpected(found.error());
    std::size_t known = 0;
    auto take = [&](const PgRows& r) -> DbResult<void> {
      for (int i = 0; i < r.size(); ++i) {
        auto pk = from_hex_fixed<48>(r.text(i, 1));
        if (!pk) return db_unavailable("a stored pubkey is malformed");
        const auto at = std::ranges::lower_bound(pubkeys, *pk);
        if (at != pubkeys.end() && *at == *pk) {
          auto& slot = out[static_cast<std::size_t>(at - pubkeys.begin())];
          if (!slot) ++known;
          slot = r.i64(i, 0);
        }
      }
      return {};
    };
    if (auto t = take(*found); !t) return std::unexpected(t.error());
    if (known == pubkeys.size() || !(create && write_)) return out;
    // New validators (their first message): rows created under the locks just taken.
    auto added = run("upsert_validators", {hex});
    if (!added) return std::unexpected(added.error());
    if (auto t = take(*added); !t) return std::unexpected(t.error());
    return out;
  }

  DbResult<std::vector<std::pair<std::int64_t, Bytes48>>> list_validators(std::int64_t after_id,
                                                                          std::size_t limit) override {
    auto r = run("list_validators", {std::to_string(after_id), std::to_string(limit)});
    if (!r) return std::unexpected(r.error());
    std::vector<std::pair<std::int64_t, Bytes48>> out;
    for (int i = 0; i < r->size(); ++i) {
      auto pk = from_hex_fixed<48>(r->text(i, 1));
      if (!pk) return db_unavailable("a stored pubkey is malformed");
      out.emplace_back(r->i64(i, 0), *pk);
    }
    return out;
  }

  DbResult<Rows> read_relevant(std::span<const RelevantQuery> queries) override {
    std::vector<RelevantQuery> q(queries.begin(), queries.end());
    auto r = run("read_relevant",
                 {array_literal(q, [](const RelevantQuery& x) { return std::to_string(x.validator_id); }),
                  array_literal(q, [](const RelevantQuery& x) { return std::string(x.is_block ? "t" : "f"); }),
                  array_literal(q, [](const RelevantQuery& x) { return u64_text(x.slot); }),
                  array_literal(q, [](const RelevantQuery& x) { return u64_text(x.source); }),
                  array_literal(q, [](const RelevantQuery& x) { return u64_text(x.target); })});
    if (!r) return std::unexpected(r.error());
    return parse_rows(*r);
  }

  DbResult<Rows> read_full(std::span<const std::int64_t> ids) override {
    std::vector<std::int64_t> list(ids.begin(), ids.end());
    auto r = run("read_full", {array_literal(list, [](std::int64_t id) { return std::to_string(id); })});
    if (!r) return std::unexpected(r.error());
    return parse_rows(*r);
  }

  DbResult<void> insert_signed(std::span<const std::pair<std::int64_t, SignedBlock>> blocks,
                               std::span<const std::pair<std::int64_t, SignedAttestation>> attestations) override {
    if (blocks.empty() && attestations.empty()) return {};
    std::vector<std::pair<std::int64_t, SignedBlock>> b(blocks.begin(), blocks.end());
    std::vector<std::pair<std::int64_t, SignedAttestation>> a(attestations.begin(), attestations.end());
    using B = std::pair<std::int64_t, SignedBlock>;
    using A = std::pair<std::int64_t, SignedAttestation>;
    defer("insert_rows", {array_literal(b, [](const B& x) { return std::to_string(x.first); }),
                          array_literal(b, [](const B& x) { return u64_text(x.second.slot); }),
                          array_literal(b, [](const B& x) { return root_element(x.second.signing_root); }),
                          array_literal(a, [](const A& x) { return std::to_string(x.first); }),
                          array_literal(a, [](const A& x) { return u64_text(x.second.source_epoch); }),
                          array_literal(a, [](const A& x) { return u64_text(x.second.target_epoch); }),
                          array_literal(a, [](const A& x) { return root_element(x.second.signing_root); })});
    return {};
  }

  DbResult<void> replace_history(std::int64_t id, const StoredHistory& history) override {
    defer("delete_history", {std::to_string(id)});
    if (auto r = insert_signed(history.blocks, history.attestations); !r) return r;
    const auto& w = history.watermarks;
    if (w == Watermarks{}) return {};
    defer("insert_watermarks",
          {std::to_string(id), opt_u64_param(w.import_min_slot), opt_u64_param(w.import_min_source),
           opt_u64_param(w.import_min_target), opt_u64_param(w.pruned_max_slot), opt_u64_param(w.pruned_max_source),
           opt_u64_param(w.pruned_max_target)});
    return {};
  }

  DbResult<void> commit() override {
    pending_.push_back({{}, "COMMIT", {}});
    auto r = flush();
    if (!r) return std::unexpected(r.error());  // the destructor's ROLLBACK ends the failed transaction
    done_ = true;
    return {};
  }

 private:
  Clock::time_point deadline() const { return Clock::now() + storage_.timeout_; }
  void defer(const char* name, std::vector<PgParam> params) { pending_.push_back({name, {}, std::move(params)}); }
  /// Sends everything deferred; the last statement's rows.
  DbResult<PgRows> flush() {
    begun_ = true;
    auto r = c_->pipeline(pending_, deadline());
    pending_.clear();
    return r;
  }
  DbResult<PgRows> run(const char* name, std::vector<PgParam> params) {
    defer(name, std::move(params));
    return flush();
  }

  PostgresStorage& storage_;
  std::unique_ptr<PgConnection> c_;
  const bool write_;
  std::vector<PgStatement> pending_;
  bool begun_ = false, done_ = false;
};

int PostgresStorage::latest_schema_version() { return kLatestVersion; }

std::expected<std::unique_ptr<PostgresStorage>, std::string> PostgresStorage::open(const std::string& url,
                                                                                   unsigned pool_size,
                                                                                   std::chrono::milliseconds timeout) {
  std::unique_ptr<PostgresStorage> s(new PostgresStorage(url, std::max(pool_size, 1u), timeout));
  if (auto r = s->migrate(); !r) return Error(r.error());
  return s;
}

PostgresStorage::~PostgresStorage() = default;

std::expected<void, std::string> PostgresStorage::migrate() {
  // Connecting at start may wait for a server that is still starting: a few timeouts' worth.
  const auto deadline = Clock::now() + std::max(timeout_ * 5, std::chrono::milliseconds(10'000));
  auto conn = PgConnection::connect(url_, deadline);
  if (!conn) return Error("slashing protection database " + redact_database_url(url_) + ": " + conn.error().message);
  auto& c = **conn;
  auto run = [&](const std::string& sql) -> std::expected<PgRows, std::string> {
    auto r = c.exec(sql, {}, deadline);
    if (!r) return Error(r.error().message);
    return *r;
  };
  if (auto r = run(kMigrationLock); !r) return Error("cannot lock the schema for migration: " + r.error());
  // The version, or 0 when there is no schema_version table in the current schema.
  auto exists = run("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!exists) return Error("cannot read the schema: " + exists.error());
  int version = 0;
  if (exists->text(0, 0) == "t") {
    auto v = run("SELECT COALESCE(max(version), 0) FROM schema_version");
    if (!v) return Error("cannot read the schema version: " + v.error());
    version = static_cast<int>(v->i64(0, 0));
  } else {
    // Never add our tables beside someone else's of the same names.
    auto ours =
        run("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN "
            "('metadata', 'validators', 'signed_blocks', 'signed_attestations', 'watermarks')");
    if (!ours) return Error("cannot read the schema: " + ours.error());
    if (ours->i64(0, 0) != 0)
      return Error("slashing protection database " + redact_database_url(url_) +
                   " has tables of another program (no schema_version)");
  }
  if (version > kLatestVersion)
    return Error("slashing protection database " + redact_database_url(url_) + " has schema version " +
                 std::to_string(version) + ", newer than this cachet's " + std::to_string(kLatestVersion));
  for (int v = version + 1; v <= kLatestVersion; ++v) {
    const std::string sql = std::string("BEGIN; CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);") +
                            kMigrations[v - 1] + "; INSERT INTO schema_version(version) VALUES (" + std::to_string(v) +
                            "); COMMIT";
    if (auto r = run(sql); !r) {
      (void)run("ROLLBACK");
      return Error("migration " + std::to_string(v) + ": " + r.error());
    }
  }
  (void)run(kMigrationUnlock);
  return {};
}

DbResult<std::unique_ptr<PgConnection>> PostgresStorage::acquire(Clock::time_point deadline) {
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      if (open_ < pool_size_) {
        ++open_;
        break;
      }
      if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= pool_size_)
        return db_unavailable("all " + std::to_string(pool_size_) + " slashing protection database connections busy");
    }
  }
  // A new connection (outside the lock: connecting takes a round trip or a timeout).
  auto c = PgConnection::connect(url_, deadline);
  auto prepared = [&]() -> DbResult<void> {
    if (!c) return std::unexpected(c.error());
    for (const auto& s : kStatements)
      if (auto r = (*c)->prepare(s.name, s.sql, deadline); !r) return r;
    return {};
  }();
  if (!prepared) {
    std::lock_guard lock(mutex_);
    --open_;
    returned_.notify_one();
    return std::unexpected(prepared.error());
  }
  return std::move(*c);
}

void PostgresStorage::release(std::unique_ptr<PgConnection> c) {
  std::lock_guard lock(mutex_);
  if (c && c->usable()) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
  }
  returned_.notify_one();
}

DbResult<std::unique_ptr<Transaction>> PostgresStorage::begin(bool write) {
  auto c = acquire(Clock::now() + timeout_);
  if (!c) return std::unexpected(c.error());
  return std::make_unique<Txn>(*this, std::move(*c), write);  // BEGIN goes out with the first statement
}

DbResult<void> PostgresStorage::probe() {
  const auto deadline = Clock::now() + timeout_;
  auto c = acquire(deadline);
  if (!c) return std::unexpected(c.error());
  // A real write transaction: a server that is up but read-only (a standby) fails it too.
  auto r = (*c)->exec("BEGIN; UPDATE schema_version SET version = version; COMMIT", {}, deadline);
  if (!r && (*c)->usable()) (void)(*c)->exec("ROLLBACK", {}, deadline);
  release(std::move(*c));
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace cachet::slashing::detail
