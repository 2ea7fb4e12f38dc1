// POST /api/v1/eth2/sign/{identifier}: the HTTP adapter over the signing service (lib/signing): it checks the
// request's form, queues the work on the signing pool (shedding load at once when it is full), and turns the
// service's outcome into an answer, a metric and, for refusals, a log line.
#include <spdlog/spdlog.h>

#include <atomic>
#include <cachet/signing/signing_service.hpp>

#include "server/api.hpp"
#include "server/content_negotiation.hpp"

namespace cachet::server {
namespace {

std::string short_key(std::string_view identifier) {
  return std::string(identifier.substr(0, std::min<std::size_t>(identifier.size(), 12)));
}

void refuse(Reply& reply, std::string_view rid, http::status status, std::string_view identifier, std::string_view type,
            const std::string& reason) {
  spdlog::info("refused sign request: request_id={} key={} type={} status={} reason={}", rid, short_key(identifier),
               type.empty() ? "?" : type, static_cast<unsigned>(status), reason);
  reply(error_response(status, reason));
}

Response unavailable(std::string message) {
  auto r = error_response(http::status::service_unavailable, std::move(message));
  r.headers.emplace_back(http::field::retry_after, "1");
  return r;
}

/// Calls `log(count)` at most once a second with how many events it stood for: under overload an event can happen
/// thousands of times a second, and a line each would let the log eat the CPU the signer is short of.
class RateLimitedLog {
 public:
  template <class F>
  void event(F&& log) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto last = last_.load(std::memory_order_relaxed);
    const auto count = unlogged_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (now - last >= std::chrono::nanoseconds(std::chrono::seconds(1)).count() &&
        last_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      unlogged_.fetch_sub(count, std::memory_order_relaxed);
      log(count);
    }
  }

 private:
  std::atomic<std::int64_t> last_{0};
  std::atomic<std::uint64_t> unlogged_{0};
};

/// The service's outcome as an HTTP answer, counted.
void answer(SignerContext& context, const signing::SignOutcome& out, bool text, std::string_view id,
            std::string_view rid, Reply& reply) {
  if (out.type) {
    context.metrics.count_sign(*out.type, out.status, out.elapsed);
  } else {
    context.metrics.count_sign_unparsed(out.status);
  }
  const std::string_view type = out.type ? eth::to_string(*out.type) : std::string_view{};
  switch (out.status) {
    case signing::SignStatus::Ok: {
      auto hex = to_hex(out.signature);
      if (text) return reply(text_response(http::status::ok, std::move(hex)));
      return reply(json_response(http::status::ok, "{\"signature\":\"" + hex + "\"}"));
    }
    case signing::SignStatus::BadRequest:
      return refuse(reply, rid, http::status::bad_request, id, type, out.message);
    case signing::SignStatus::NotFound:
      return refuse(reply, rid, http::status::not_found, id, type, out.message);
    case signing::SignStatus::Refused:
      context.metrics.count_slashing_refusal(*out.type, out.refusal_reason);
      return refuse(reply, rid, http::status::precondition_failed, id, type, out.message);
    case signing::SignStatus::Unavailable: {
      static RateLimitedLog log;
      log.event([&](std::uint64_t count) {
        spdlog::warn("slashing protection unavailable: {} request(s) answered 503 (last request_id={}): {}", count, rid,
                     out.detail);
      });
      return reply(unavailable(out.message));
    }
  }
}

// Bodies up to this size are parsed on the I/O thread that read them (a few microseconds for any message a
// validator signs at the slot boundary; attestations are under 1 KiB), so that their slashing records are queued the
// moment they arrive and share a transaction with the others waiting for the signing pool. A larger body (a full
// phase0 block) is parsed on the pool, where taking a while blocks nothing else.
constexpr std::size_t kPrepareOnIoThreadMaxBody = 8 * 1024;

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
  if (!context.pool.try_reserve()) {
    // Shed load at once rather than let the request time out in a queue.
    context.metrics.shed_requests.inc();
    context.metrics.count_sign_unparsed(SignStatus::Unavailable);
    static RateLimitedLog log;
    log.event([&](std::uint64_t count) {
      spdlog::info("refused {} sign request(s): status=503 reason=signing queue full (last request_id={})", count, rid);
    });
    return reply(unavailable("signer busy: too many requests queued"));
  }
  signing::SignDone done =
      [&context, text = prefers_text_plain(request[http::field::accept]), id = std::string(identifier), rid,
       reply = std::move(reply)](signing::SignOutcome out) mutable { answer(context, out, text, id, rid, reply); };
  if (request.body().size() > kPrepareOnIoThreadMaxBody) {
    return context.pool.post_reserved(
        [&context, pubkey = *pubkey, body = std::move(request.body()), done = std::move(done)]() mutable {
          context.signing.sign_request(pubkey, body, std::move(done));
        });
  }
  auto prepared = context.signing.prepare(*pubkey, request.body(), std::move(done));
  if (!prepared) return context.pool.release();  // answered already (unknown key, bad request, refused)
  context.pool.post_reserved(
      [&context, prepared = std::move(*prepared)]() mutable { context.signing.sign(std::move(prepared)); });
}

}  // namespace cachet::server
