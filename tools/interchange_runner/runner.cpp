#include "tools/interchange_runner/runner.hpp"

#include <future>
#include <optional>

namespace cachet::interchange_test {
namespace {

using slashing::Decision;

std::string key_prefix(const Bytes48& pubkey) { return to_hex(std::span(pubkey).first(4)) + "…"; }

std::string describe(const BlockCheck& c) {
  return "block slot " + std::to_string(c.slot) + " root " + to_hex(c.signing_root) + " by " + key_prefix(c.pubkey);
}

std::string describe(const AttestationCheck& c) {
  return "attestation " + std::to_string(c.source_epoch) + "->" + std::to_string(c.target_epoch) + " root " +
         to_hex(c.signing_root) + " by " + key_prefix(c.pubkey);
}

slashing::ProtectedMessage message(const BlockCheck& c, const Bytes32& gvr) {
  return {c.pubkey, gvr, c.signing_root, slashing::BlockProposal{c.slot}};
}

slashing::ProtectedMessage message(const AttestationCheck& c, const Bytes32& gvr) {
  return {c.pubkey, gvr, c.signing_root, slashing::AttestationVote{c.source_epoch, c.target_epoch}};
}

// check_and_record, waited for. Empty when the callback did not come in time.
std::optional<Decision> decide(slashing::SlashingProtection& db, const slashing::ProtectedMessage& msg,
                               std::chrono::milliseconds timeout) {
  std::promise<Decision> promise;
  auto future = promise.get_future();
  db.check_and_record(msg, [promise = std::move(promise)](Decision d) mutable { promise.set_value(std::move(d)); });
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

std::string report(const slashing::ImportReport& r) {
  return std::to_string(r.validators) + " validators, " + std::to_string(r.blocks) + " blocks, " +
         std::to_string(r.attestations) + " attestations";
}

class Run {
 public:
  Run(const TestFile& file, Mode mode, slashing::SlashingProtection& db, const RunOptions& options)
      : file_(file), mode_(mode), db_(db), options_(options) {}

  Outcome operator()() {
    // The database's genesis validators root: the first import records it.
    slashing::Interchange empty;
    empty.genesis_validators_root = file_.genesis_validators_root;
    if (auto r = db_.import_interchange(empty); !r)
      return fail("runner error: giving the new database the genesis validators root " +
                  to_hex(file_.genesis_validators_root) + " failed: " + r.error());

    for (std::size_t i = 0; i < file_.steps.size(); ++i) {
      const Step& step = file_.steps[i];
      const std::string at = "step " + std::to_string(i);
      auto imported = import(step);
      trace(at + ": import " + (imported ? "succeeded (" + report(*imported) + ")" : "failed: " + imported.error()));
      if (!step.should_succeed) {
        if (imported) return fail("import (" + at + ", expected failure got success: " + report(*imported) + ")");
        return pass("");
      }
      if (!imported) {
        if (step.contains_slashable_data)
          return pass("slashable interchange refused at " + at +
                      " (allowed), later checks skipped: " + imported.error());
        return fail("import (" + at + ", expected success got failure: " + imported.error() + ")");
      }
      for (std::size_t j = 0; j < step.blocks.size(); ++j)
        if (auto f = check(step.blocks[j], at + ", block " + std::to_string(j))) return *f;
      for (std::size_t j = 0; j < step.attestations.size(); ++j)
        if (auto f = check(step.attestations[j], at + ", attestation " + std::to_string(j))) return *f;
    }
    return pass("");
  }

 private:
  std::expected<slashing::ImportReport, std::string> import(const Step& step) {
    auto parsed = slashing::parse_interchange(step.interchange_json);
    if (!parsed) return std::unexpected("parse: " + parsed.error());
    if (mode_ == Mode::Minified) return db_.import_interchange(slashing::minify(*parsed));
    return db_.import_interchange(*parsed);
  }

  // A failure, or nothing when the check came out as expected.
  // Complete run: exactly should_succeed_complete. Minified run: between the two strategies (README.md): what
  // the minimal strategy signs must be signed, what even the complete strategy refuses must be refused.
  template <typename Check>
  std::optional<Outcome> check(const Check& c, const std::string& at) {
    const bool must_sign = mode_ == Mode::Complete ? c.should_succeed_complete : c.should_succeed;
    const bool must_refuse = !c.should_succeed_complete;
    auto decision = decide(db_, message(c, file_.genesis_validators_root), options_.decision_timeout);
    if (!decision)
      return fail("runner error: no decision within " + std::to_string(options_.decision_timeout.count()) + " ms for " +
                  describe(c) + " (" + at + ")");
    if (decision->kind == Decision::Kind::Unavailable)
      return fail("runner error: database unavailable for " + describe(c) + " (" + at + "): " + decision->message);
    const bool signed_it = decision->kind == Decision::Kind::Sign;
    const std::string got =
        signed_it ? "sign" : "refuse (" + std::string(decision->reason_code) + ": " + decision->message + ")";
    trace(at + ": " + describe(c) + ": " + got + (!must_sign && !must_refuse ? " (either allowed)" : ""));
    if (signed_it ? !must_refuse : !must_sign) return std::nullopt;
    return fail(describe(c) + " (" + at + ", expected " + (signed_it ? "refuse" : "sign") + " got " + got + ")");
  }

  void trace(const std::string& line) const {
    if (options_.trace) options_.trace(line);
  }
  static Outcome pass(std::string note) { return {true, std::move(note)}; }
  static Outcome fail(std::string detail) { return {false, std::move(detail)}; }

  const TestFile& file_;
  Mode mode_;
  slashing::SlashingProtection& db_;
  const RunOptions& options_;
};

}  // namespace

Outcome run_test_file(const TestFile& file, Mode mode, slashing::SlashingProtection& db, const RunOptions& options) {
  return Run(file, mode, db, options)();
}

}  // namespace cachet::interchange_test
