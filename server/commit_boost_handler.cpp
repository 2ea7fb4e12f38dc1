// Commit-Boost's signer API: authenticate the module (JWT), read the request, hand it to the Commit-Boost signer
// on a pool, answer. Errors have Commit-Boost's shape, {"code": N, "message": "..."}.
#include "server/commit_boost_handler.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cachet/commit_boost/requests.hpp>

#include "server/api.hpp"
#include "server/content_negotiation.hpp"

namespace cachet::server {
namespace {

namespace json = boost::json;
namespace cb = commit_boost;

Response cb_error(http::status status, std::string_view message) {
  json::object body{{"code", static_cast<unsigned>(status)}, {"message", message}};
  return json_response(status, json::serialize(body));
}

Response busy() {
  auto r = cb_error(http::status::service_unavailable, "signer busy: too many requests queued");
  r.headers.emplace_back(http::field::retry_after, "1");
  return r;
}

// Work for a pool: the answer is computed there and sent from there. When the pool is full, the job is intact and
// answers 503 at once (WorkPool::try_post moves it only once a slot is reserved).
struct PoolJob {
  std::move_only_function<Response()> work;
  Reply reply;
  void operator()() { reply(work()); }
};

void post(WorkPool& pool, PoolJob job) {
  if (!pool.try_post(std::move(job))) job.reply(busy());
}

bool json_or_unset(const Request& request) {
  const auto ct = request[http::field::content_type];
  return ct.empty() || is_json_content_type(ct);
}

json::array hex_list(const auto& items) {
  json::array out;
  for (const auto& item : items) out.emplace_back(to_hex(item));
  return out;
}

Response get_pubkeys(CommitBoostApi& api, const std::string& module) {
  json::array keys;
  for (const auto& k : api.signer.pubkeys(module))
    keys.push_back(json::object{{"consensus", to_hex(k.consensus)},
                                {"proxy_bls", hex_list(k.proxies.bls)},
                                {"proxy_ecdsa", hex_list(k.proxies.ecdsa)}});
  return json_response(http::status::ok, json::serialize(json::object{{"keys", std::move(keys)}}));
}

Response signed_answer(const cb::Signed& out) {
  switch (out.status) {
    case cb::Status::Ok:
      return json_response(http::status::ok, json::serialize(json::value(to_hex(out.signature))));
    case cb::Status::NotFound:
      return cb_error(http::status::not_found, out.message);
    case cb::Status::Failed:
      break;
  }
  spdlog::error("commit-boost: signing failed: {}", out.message);
  return cb_error(http::status::internal_server_error, "internal error");
}

void request_signature(CommitBoostApi& api, const std::string& module, std::string_view body, Reply reply) {
  auto request = cb::parse_sign_request(body);
  if (!request) return reply(cb_error(http::status::bad_request, request.error()));
  auto sign = [&api, module, r = *request]() -> Response {
    switch (r.kind) {
      case cb::SignRequest::Kind::Consensus:
        return signed_answer(api.signer.sign_consensus(r.pubkey, r.object_root));
      case cb::SignRequest::Kind::ProxyBls:
        return signed_answer(api.signer.sign_proxy_bls(module, r.pubkey, r.object_root));
      case cb::SignRequest::Kind::ProxyEcdsa:
        return signed_answer(api.signer.sign_proxy_ecdsa(module, r.address, r.object_root));
    }
    return cb_error(http::status::bad_request, "type: unknown");
  };
  post(api.signing_pool, PoolJob{std::move(sign), std::move(reply)});
}

void generate_proxy_key(CommitBoostApi& api, const std::string& module, std::string_view body, Reply reply) {
  auto request = cb::parse_generate_proxy_request(body);
  if (!request) return reply(cb_error(http::status::bad_request, request.error()));
  auto work = [&api, module, r = *request]() -> Response {
    auto out = api.signer.generate_proxy(module, r.delegator, r.scheme);
    if (out.status == cb::Status::NotFound) return cb_error(http::status::not_found, out.message);
    if (out.status != cb::Status::Ok) {
      spdlog::error("commit-boost: generating a proxy key for module {} failed: {}", module, out.message);
      return cb_error(http::status::internal_server_error, "internal error");
    }
    spdlog::info("commit-boost: module {} generated {} proxy {} for {}", module,
                 r.scheme == cb::Scheme::Bls ? "bls" : "ecdsa", to_hex(out.proxy), to_hex(out.delegator));
    json::object answer{{"message", json::object{{"delegator", to_hex(out.delegator)}, {"proxy", to_hex(out.proxy)}}},
                        {"signature", to_hex(out.signature)}};
    return json_response(http::status::ok, json::serialize(answer));
  };
  post(api.background_pool, PoolJob{std::move(work), std::move(reply)});
}

}  // namespace

std::string delete_commit_boost_proxies(CommitBoostApi& api, const crypto::PublicKey& delegator) {
  auto removed = api.signer.remove_proxies(delegator);
  if (!removed) {
    // The proxies already stopped signing; only files may be left (they cannot sign without the validator key).
    spdlog::error("keymanager delete: commit-boost proxy keys of {}: {}", to_hex(delegator), removed.error());
    return "the commit-boost proxy keys stopped signing, but not all their files could be removed";
  }
  if (*removed == 0) return {};
  spdlog::info("keymanager delete: removed {} commit-boost proxy key(s) of {}", *removed, to_hex(delegator));
  return "also deleted " + std::to_string(*removed) + " commit-boost proxy key(s)";
}

void handle_commit_boost(CommitBoostApi& api, std::string_view target, Request&& request, Reply reply) {
  if (target == "/status") {
    if (request.method() != http::verb::get && request.method() != http::verb::head)
      return reply(cb_error(http::status::method_not_allowed, "method not allowed"));
    return reply(text_response(http::status::ok, "OK"));
  }
  const auto route = target.substr(kCommitBoostPrefix.size());
  const bool is_get = route == "get_pubkeys";
  if (!is_get && route != "request_signature" && route != "generate_proxy_key")
    return reply(cb_error(http::status::not_found, "no such endpoint"));
  if (is_get ? request.method() != http::verb::get : request.method() != http::verb::post) {
    auto r = cb_error(http::status::method_not_allowed, "method not allowed");
    r.headers.emplace_back(http::field::allow, is_get ? "GET" : "POST");
    return reply(std::move(r));
  }
  auto module = api.auth.authenticate(request[http::field::authorization], std::string(request[kPeerAddressField]));
  if (!module) {
    if (module.error().rate_limited) {
      auto r = cb_error(http::status::too_many_requests, module.error().message);
      r.headers.emplace_back(http::field::retry_after, std::to_string(module.error().retry_after.count()));
      return reply(std::move(r));
    }
    return reply(cb_error(http::status::unauthorized, module.error().message));
  }
  const auto metric_route = route == "get_pubkeys"         ? Route::CommitBoostGetPubkeys
                            : route == "request_signature" ? Route::CommitBoostRequestSignature
                                                           : Route::CommitBoostGenerateProxyKey;
  reply = [&api, metric_route, module = *module, inner = std::move(reply)](Response response) mutable {
    api.metrics.count_commit_boost(module, metric_route, static_cast<unsigned>(response.status) < 300);
    inner(std::move(response));
  };
  if (is_get) return reply(get_pubkeys(api, *module));
  if (!json_or_unset(request))
    return reply(cb_error(http::status::unsupported_media_type, "Content-Type must be application/json"));
  if (route == "request_signature") return request_signature(api, *module, request.body(), std::move(reply));
  generate_proxy_key(api, *module, request.body(), std::move(reply));
}

}  // namespace cachet::server
