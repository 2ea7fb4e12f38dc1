// POST /api/v1/eth2/sign/{identifier}: the signer computes the signing root from the typed request itself
// (never trusting a root it is sent) and signs it with the identified key on the signing pool. Blocks and
// attestations pass slashing protection first: the signature leaves the process only once the record of it
// is durable, and BLS signing runs while the record is being committed.
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <cachet/eth/signing_request.hpp>

#include "server/api.hpp"
#include "server/content_negotiation.hpp"

namespace cachet::server {
namespace {

// Deep enough for every request type (a full phase0/altair block nests about 8 levels), shallow enough that a
// hostile body cannot recurse the parser into the ground.
constexpr unsigned kMaxJsonDepth = 32;

std::string short_key(std::string_view identifier) {
  return std::string(identifier.substr(0, std::min<std::size_t>(identifier.size(), 12)));
}

void refuse(Reply& reply, std::string_view rid, http::status status, std::string_view identifier, std::string_view type,
            const std::string& reason) {
  spdlog::info("refused sign request: request_id={} key={} type={} status={} reason={}", rid, short_key(identifier),
               type.empty() ? "?" : type, static_cast<unsigned>(status), reason);
  reply(error_response(status, reason));
}

Response signature_response(const crypto::Signature& signature, bool text) {
  auto hex = to_hex(signature);
  if (text) return text_response(http::status::ok, std::move(hex));
  return json_response(http::status::ok, "{\"signature\":\"" + hex + "\"}");
}

Response unavailable(std::string message) {
  auto r = error_response(http::status::service_unavailable, std::move(message));
  r.headers.emplace_back(http::field::retry_after, "1");
  return r;
}

// A protected message: the slashing decision and the signature arrive in either order, from different threads;
// whichever comes second answers.
struct ProtectedSigning {
  SignerContext& context;
  std::shared_ptr<const keys::Key> key;
  eth::SignType type;
  bool text;
  std::string id;
  std::string rid;  // request id, for log lines
  Reply reply;
  std::chrono::steady_clock::time_point start;

  std::atomic<int> pending{2};
  std::atomic<bool> decided{false};
  slashing::Decision decision;
  crypto::Signature signature{};
  bool signed_ = false;

  void on_decision(slashing::Decision d) {
    decision = std::move(d);
    decided.store(true, std::memory_order_release);
    arrive();
  }
  void on_signature(std::optional<crypto::Signature> s) {
    if (s) {
      signature = *s;
      signed_ = true;
    }
    arrive();
  }
  void arrive() {
    if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) finish();
  }

  void finish() {
    const auto elapsed = std::chrono::steady_clock::now() - start;
    switch (decision.kind) {
      case slashing::Decision::Kind::Sign:
        // The key may have been deleted while its record was committed; a deleted key's history has been
        // exported already, so a signature released now could be slashable elsewhere.
        if (context.keys.find(key->pubkey) != key) {
          context.metrics.count_sign(type, SignStatus::NotFound, elapsed);
          return refuse(reply, rid, http::status::not_found, id, eth::to_string(type), "key was deleted");
        }
        context.metrics.count_sign(type, SignStatus::Ok, elapsed);
        return reply(signature_response(signature, text));
      case slashing::Decision::Kind::Refuse:
        context.metrics.count_sign(type, SignStatus::Refused, elapsed);
        context.metrics.count_slashing_refusal(type, decision.reason_code);
        return refuse(reply, rid, http::status::precondition_failed, id, eth::to_string(type),
                      "slashing protection: " + decision.message);
      case slashing::Decision::Kind::Unavailable:
        context.metrics.count_sign(type, SignStatus::Unavailable, elapsed);
        // The database's own error text stays in the log; the client learns what it can act on.
        spdlog::warn("slashing protection unavailable: request_id={} {}", rid, decision.message);
        return reply(unavailable("slashing protection database unavailable; retry later"));
    }
  }
};

// The work done on the signing pool: parse, compute the root, check, sign.
struct SignJob {
  SignerContext& context;
  std::shared_ptr<const keys::Key> key;
  std::string body;
  bool text;
  std::string id;
  std::string rid;  // request id, for log lines
  Reply reply;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  void operator()() {
    boost::json::parse_options options;
    options.max_depth = kMaxJsonDepth;
    boost::system::error_code ec;
    auto json = boost::json::parse(body, ec, {}, options);
    if (ec) {
      context.metrics.count_sign_unparsed(SignStatus::BadRequest);
      return refuse(reply, rid, http::status::bad_request, id, {}, "request body is not valid JSON: " + ec.message());
    }

    auto parsed = eth::parse_signing_request(json, context.network);
    if (!parsed) {
      const auto* type = json.is_object() ? json.as_object().if_contains("type") : nullptr;
      std::string_view type_name = type && type->is_string() ? std::string_view(type->get_string()) : "";
      context.metrics.count_sign_unparsed(SignStatus::BadRequest);
      return refuse(reply, rid, http::status::bad_request, id, type_name, parsed.error().message);
    }

    const bool is_protected = parsed->block || parsed->attestation;
    if (!is_protected || !context.slashing) {
      const auto signature = key->secret.sign(context.hashed_messages.get(parsed->signing_root));
      context.metrics.count_sign(parsed->type, SignStatus::Ok, std::chrono::steady_clock::now() - start);
      return reply(signature_response(signature, text));
    }
    if (!parsed->genesis_validators_root) {
      context.metrics.count_sign_unparsed(SignStatus::BadRequest);
      return refuse(reply, rid, http::status::bad_request, id, eth::to_string(parsed->type),
                    "fork_info.genesis_validators_root: missing");
    }

    slashing::ProtectedMessage message{key->pubkey, *parsed->genesis_validators_root, parsed->signing_root, {}};
    if (parsed->block) {
      message.what = slashing::BlockProposal{parsed->block->slot};
    } else {
      message.what = slashing::AttestationVote{parsed->attestation->source_epoch, parsed->attestation->target_epoch};
    }
    auto state = std::make_shared<ProtectedSigning>(context, key, parsed->type, text, std::move(id), std::move(rid),
                                                    std::move(reply), start);
    context.slashing->check_and_record(message, [state](slashing::Decision d) { state->on_decision(std::move(d)); });
    // A refusal usually comes at once: then there is nothing to sign.
    if (state->decided.load(std::memory_order_acquire) && state->decision.kind != slashing::Decision::Kind::Sign)
      return state->on_signature(std::nullopt);
    state->on_signature(key->secret.sign(context.hashed_messages.get(parsed->signing_root)));
  }
};

}  // namespace

void handle_sign(SignerContext& context, std::string_view identifier, Request&& request, Reply reply) {
  const std::string rid(request[kRequestIdField]);
  if (auto ct = request[http::field::content_type]; !ct.empty() && !is_json_content_type(ct)) {
    return refuse(reply, rid, http::status::unsupported_media_type, identifier, {},
                  "Content-Type must be application/json");
  }
  auto pubkey = from_hex_fixed<48>(identifier);
  if (!pubkey || !identifier.starts_with("0x")) {
    return refuse(reply, rid, http::status::bad_request, identifier, {},
                  "identifier must be a 0x-prefixed 48-byte BLS public key in hex");
  }
  auto key = context.keys.find(*pubkey);
  if (!key) {
    context.metrics.count_sign_unparsed(SignStatus::NotFound);
    return refuse(reply, rid, http::status::not_found, identifier, {},
                  "no key for public key " + std::string(identifier));
  }

  SignJob job{context,
              std::move(key),
              std::move(request.body()),
              prefers_text_plain(request[http::field::accept]),
              std::string(identifier),
              rid,
              std::move(reply)};
  if (!context.pool.try_post(std::move(job))) {
    // Shed load at once rather than let the request time out in a queue; the job (and its reply) is intact.
    context.metrics.shed_requests.inc();
    context.metrics.count_sign_unparsed(SignStatus::Unavailable);
    // Under overload this happens thousands of times a second: log it once a second with a count, so that the
    // log itself does not eat the CPU the signer is short of.
    static std::atomic<std::int64_t> last_logged{0};
    static std::atomic<std::uint64_t> unlogged{0};
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto last = last_logged.load(std::memory_order_relaxed);
    const auto count = unlogged.fetch_add(1, std::memory_order_relaxed) + 1;
    if (now - last >= std::chrono::nanoseconds(std::chrono::seconds(1)).count() &&
        last_logged.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      unlogged.fetch_sub(count, std::memory_order_relaxed);
      spdlog::info("refused {} sign request(s): status=503 reason=signing queue full (last request_id={})", count,
                   job.rid);
    }
    job.reply(unavailable("signer busy: too many requests queued"));
  }
}

}  // namespace cachet::server
