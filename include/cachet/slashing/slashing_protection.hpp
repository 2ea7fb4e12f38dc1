// Slashing protection (EIP-3076 rules over the complete signing history), the part of the signer that decides
// whether a block or attestation may be signed, and records it durably before the signature is released.
#pragma once

#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace cachet::slashing {

struct BlockProposal {
  std::uint64_t slot;
};
struct AttestationVote {
  std::uint64_t source_epoch;
  std::uint64_t target_epoch;
};

/// A message of a protected type (BLOCK, BLOCK_V2, ATTESTATION) about to be signed.
struct ProtectedMessage {
  Bytes48 pubkey;
  Bytes32 genesis_validators_root;  // from the request's fork_info
  Bytes32 signing_root;
  std::variant<BlockProposal, AttestationVote> what;
};

struct Decision {
  enum class Kind {
    Sign,         // safe, and recorded durably: the signature may leave the process
    Refuse,       // slashable or below a watermark (answer 412)
    Unavailable,  // the database cannot be read or written (answer 503); nothing was recorded durably
  };
  Kind kind = Kind::Unavailable;
  /// For Refuse: a metric label, one of "double_block", "double_vote", "surrounding_vote", "surrounded_vote",
  /// "source_after_target", "below_watermark", "genesis_mismatch"; for Unavailable: "database".
  std::string_view reason_code;
  std::string message;  // one line for the client and the log
};

/// When a queued message's transaction should run.
enum class Urgency {
  /// At once: the caller signs meanwhile and needs the decision within about one signature.
  Now,
  /// Later: the caller queued the message when its request arrived and signs it only when a signing thread is free,
  /// so messages of many requests can share one transaction (one disk sync). Committed when any caller calls
  /// expedite() (the signing thread reached a request still undecided), when a Now message or a full batch is
  /// queued, or Options::max_deferral after it was queued, whichever comes first.
  Deferred,
};

struct Options {
  /// Attestations and blocks older than this many epochs behind each validator's newest are pruned into low
  /// watermarks (never dropping what is needed to refuse a slashable message). 0 disables pruning.
  std::uint64_t pruning_epochs_to_keep = 256;
  std::uint64_t slots_per_epoch = 32;
  std::chrono::seconds pruning_interval{3600};
  /// Longest a caller waits for its decision before it gets Unavailable (a hung disk or database server: fail
  /// closed); also the bound on every PostgreSQL operation, connecting included.
  std::chrono::milliseconds commit_timeout{5000};
  /// Longest a Deferred message waits for its transaction when nobody calls expedite() (a safety net: a signer
  /// expedites as soon as it is about to sign an undecided message).
  std::chrono::microseconds max_deferral{5000};
  /// PostgreSQL: connections kept open, and so the decision transactions that may run at once.
  unsigned database_pool_size = 4;
  /// A read-only open (export while the signer runs, SQLite) takes no lock and can only export. Writers of one
  /// SQLite database exclude each other (a lock on the database file itself); PostgreSQL takes any number.
  bool read_only = false;
  /// Called on a writer thread after each decision transaction commits: its time from the first begin to the
  /// commit (reruns of a Retryable error included) and how many messages it decided. For metrics; it must be quick
  /// and never block (the batch's callers wait for it). Not called for failed transactions.
  std::function<void(std::chrono::steady_clock::duration, std::size_t)> on_batch_committed;
};

struct ImportReport {
  std::size_t validators = 0, blocks = 0, attestations = 0;
};

class SlashingProtection {
 public:
  virtual ~SlashingProtection() = default;

  /// Opens (creating and migrating as needed) the database named by `url`: "sqlite:PATH" (PATH's directory must
  /// exist; a writer holds an exclusive lock on the file until destroyed, and a second writer gets "slashing
  /// protection database PATH is in use by another process") or "postgresql://..." / "postgres://..." (libpq's URI;
  /// shared by any number of signers). Every decision is made inside the database transaction that records it. A
  /// new database has no genesis validators root until the first import or signature: importing an empty
  /// interchange pins it.
  static std::expected<std::unique_ptr<SlashingProtection>, std::string> open(std::string_view url,
                                                                              const Options& options = {});

  /// Checks `message` against the history and against every concurrent request (of this process or of any other
  /// sharing the database), and if it is safe records it. `done` is called exactly once, from any thread: with Sign
  /// or Refuse after the transaction that decided it committed (group commit: one transaction for all the requests
  /// that arrived meanwhile); with Refuse or Unavailable possibly at once, on the calling thread. No lock is held
  /// while the caller signs. Re-signing the very same message (same slot and root, or same source, target and
  /// root) is allowed.
  /// `done` runs on a database writer thread, one call after another for a whole batch: it must be short and never
  /// block (hand the signing to another thread), and must not call import_interchange, export_interchange or
  /// prune. Calling check_and_record from it is fine.
  /// `urgency`: Deferred lets the writer gather this message with later ones (see Urgency); the caller must then
  /// call expedite() before it waits for the decision.
  virtual void check_and_record(const ProtectedMessage& message, std::move_only_function<void(Decision)> done,
                                Urgency urgency = Urgency::Now) = 0;
  /// Starts the transaction for every queued message now, Deferred ones included. Cheap when nothing is queued.
  virtual void expedite() = 0;

  /// Merges an interchange (EIP-3076 v5) into the history. Refuses a different genesis validators root than the
  /// database's (the first import or signature records it). Slashable data is imported safely (as watermarks),
  /// never by dropping it. `only` restricts the import to those pubkeys (empty: all).
  virtual std::expected<ImportReport, std::string> import_interchange(const Interchange& interchange,
                                                                      std::span<const Bytes48> only = {}) = 0;

  /// The history of `pubkeys` (empty: every validator), with watermarks written as synthetic entries so that an
  /// importer refuses what this database refuses. Consistent with every Sign decision made before the call.
  virtual std::expected<Interchange, std::string> export_interchange(std::span<const Bytes48> pubkeys = {}) = 0;

  /// Whether the database answered its last transaction (for /healthcheck). False after a failed or late one, and
  /// then every check_and_record answers Unavailable at once (another chain's root still Refuse), until a probe of
  /// the database (about every commit_timeout, at most every second) or a transaction succeeds.
  virtual bool healthy() const = 0;

  /// Prunes now (it also runs every pruning_interval on a background thread, never blocking signing).
  virtual std::expected<void, std::string> prune() = 0;
};

/// `url` with any password replaced by "***" (for logs and messages).
std::string redact_database_url(std::string_view url);

/// One synthetic maximum block and maximum attestation per validator, signing roots dropped (EIP-3076
/// "minification"): what importing slashable data safely amounts to.
Interchange minify(const Interchange& interchange);

}  // namespace cachet::slashing
