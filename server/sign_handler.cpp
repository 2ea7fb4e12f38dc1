// POST /api/v1/eth2/sign/{identifier}: the signer computes the signing root from the typed request itself
// (never trusting a root it is sent) and signs it with the identified key on the signing pool.
#include <spdlog/spdlog.h>

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

void refuse(Reply& reply, http::status status, std::string_view identifier, std::string_view type,
            const std::string& reason) {
  spdlog::info("refused sign request: key={} type={} status={} reason={}", short_key(identifier),
               type.empty() ? "?" : type, static_cast<unsigned>(status), reason);
  reply(error_response(status, reason));
}

// The work done on the signing pool: parse, compute the root, sign.
struct SignJob {
  SignerContext& context;
  std::shared_ptr<const keys::Key> key;
  std::string body;
  bool text;
  std::string id;
  Reply reply;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  void operator()() {
    boost::json::parse_options options;
    options.max_depth = kMaxJsonDepth;
    boost::system::error_code ec;
    auto json = boost::json::parse(body, ec, {}, options);
    if (ec) {
      context.metrics.count_sign_unparsed(SignStatus::BadRequest);
      return refuse(reply, http::status::bad_request, id, {}, "request body is not valid JSON: " + ec.message());
    }

    auto parsed = eth::parse_signing_request(json, context.network);
    if (!parsed) {
      const auto* type = json.is_object() ? json.as_object().if_contains("type") : nullptr;
      std::string_view type_name = type && type->is_string() ? std::string_view(type->get_string()) : "";
      context.metrics.count_sign_unparsed(SignStatus::BadRequest);
      return refuse(reply, http::status::bad_request, id, type_name, parsed.error().message);
    }

    const auto signature = key->secret.sign(parsed->signing_root);
    auto hex = to_hex(signature);
    context.metrics.count_sign(parsed->type, SignStatus::Ok, std::chrono::steady_clock::now() - start);
    if (text) return reply(text_response(http::status::ok, std::move(hex)));
    reply(json_response(http::status::ok, "{\"signature\":\"" + hex + "\"}"));
  }
};

}  // namespace

void handle_sign(SignerContext& context, std::string_view identifier, Request&& request, Reply reply) {
  if (auto ct = request[http::field::content_type]; !ct.empty() && !is_json_content_type(ct)) {
    return refuse(reply, http::status::unsupported_media_type, identifier, {}, "Content-Type must be application/json");
  }
  auto pubkey = from_hex_fixed<48>(identifier);
  if (!pubkey || !identifier.starts_with("0x")) {
    return refuse(reply, http::status::bad_request, identifier, {},
                  "identifier must be a 0x-prefixed 48-byte BLS public key in hex");
  }
  auto key = context.keys.find(*pubkey);
  if (!key) {
    context.metrics.count_sign_unparsed(SignStatus::NotFound);
    return refuse(reply, http::status::not_found, identifier, {}, "no key for public key " + std::string(identifier));
  }

  SignJob job{context,
              std::move(key),
              std::move(request.body()),
              prefers_text_plain(request[http::field::accept]),
              std::string(identifier),
              std::move(reply)};
  if (!context.pool.try_post(std::move(job))) {
    // Shed load at once rather than let the request time out in a queue; the job (and its reply) is intact.
    Response busy = error_response(http::status::service_unavailable, "signer busy: too many requests queued");
    busy.headers.emplace_back(http::field::retry_after, "1");
    context.metrics.shed_requests.inc();
    context.metrics.count_sign_unparsed(SignStatus::Unavailable);
    spdlog::info("refused sign request: key={} status=503 reason=signing queue full", short_key(job.id));
    job.reply(std::move(busy));
  }
}

}  // namespace cachet::server
