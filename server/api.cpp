#include "server/api.hpp"

#include <openssl/rand.h>

#include <cstdio>

#include "server/commit_boost_handler.hpp"

namespace cachet::server {
namespace {

constexpr std::string_view kSignPrefix = "/api/v1/eth2/sign/";

Response method_not_allowed(std::string_view allow) {
  auto r = error_response(http::status::method_not_allowed, "method not allowed");
  r.headers.emplace_back(http::field::allow, std::string(allow));
  return r;
}

Route route_of(std::string_view target) {
  if (target.starts_with(kSignPrefix)) return Route::Sign;
  if (target == "/api/v1/eth2/publicKeys") return Route::PublicKeys;
  if (target == "/upcheck") return Route::Upcheck;
  if (target == "/health") return Route::Health;
  if (target == "/healthcheck") return Route::Healthcheck;
  if (target == "/eth/v1/keystores") return Route::Keystores;
  if (target == "/reload") return Route::Reload;
  if (target == "/signer/v1/get_pubkeys") return Route::CommitBoostGetPubkeys;
  if (target == "/signer/v1/request_signature") return Route::CommitBoostRequestSignature;
  if (target == "/signer/v1/generate_proxy_key") return Route::CommitBoostGenerateProxyKey;
  if (target == "/status") return Route::CommitBoostStatus;
  return Route::Other;
}

// Gives an answer its request id: a header on every answer, a field in every error body (so a user can quote it
// and an operator find the log line).
void mark_with_request_id(Response& response, const std::string& request_id) {
  if (static_cast<unsigned>(response.status) >= 400 && response.body.starts_with("{\"message\":"))
    response.body.insert(1, "\"request_id\":\"" + request_id + "\",");
  response.headers.emplace_back(std::string(kRequestIdField), request_id);
}

}  // namespace

Api::Api(SignerContext& context) : context_(context), request_prefix_(0) {
  // A random prefix keeps ids from different runs apart in aggregated logs.
  RAND_bytes(reinterpret_cast<unsigned char*>(&request_prefix_), sizeof request_prefix_);
}

std::string Api::next_request_id() {
  char id_text[17];
  std::snprintf(id_text, sizeof id_text, "%08x%08x", request_prefix_,
                static_cast<unsigned>(next_request_.fetch_add(1, std::memory_order_relaxed)));
  return std::string(id_text, 16);
}

std::string Api::on_refusal(Response& response, std::string_view reason) {
  context_.metrics.count_listener_refusal(Listener::Api, reason);
  auto request_id = next_request_id();
  mark_with_request_id(response, request_id);
  return request_id;
}

void Api::handle(Request&& request, Reply reply_to_client) {
  std::string request_id = next_request_id();
  request.set(kRequestIdField, request_id);

  std::string_view target = request.target();
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  const auto route = route_of(target);
  // Every answer passes through here once: count it by route and code, and give it the request id.
  Reply reply = [this, route, request_id, start = std::chrono::steady_clock::now(),
                 inner = std::move(reply_to_client)](Response response) mutable {
    context_.metrics.count_http(route, static_cast<unsigned>(response.status),
                                std::chrono::steady_clock::now() - start);
    mark_with_request_id(response, request_id);
    inner(std::move(response));
  };
  const auto method = request.method();
  const bool get = method == http::verb::get || method == http::verb::head;

  switch (route) {
    case Route::Sign:
      if (method != http::verb::post) return reply(method_not_allowed("POST"));
      return handle_sign(context_, target.substr(kSignPrefix.size()), std::move(request), std::move(reply));
    case Route::Keystores:
      return handle_keystores(context_, std::move(request), std::move(reply));
    case Route::Upcheck:
      return reply(get ? handle_upcheck() : method_not_allowed("GET"));
    case Route::Health:
      return reply(get ? handle_health(context_) : method_not_allowed("GET"));
    case Route::Healthcheck:
      return reply(get ? handle_healthcheck(context_) : method_not_allowed("GET"));
    case Route::PublicKeys:
      return reply(get ? handle_public_keys(context_) : method_not_allowed("GET"));
    case Route::CommitBoostGetPubkeys:
    case Route::CommitBoostRequestSignature:
    case Route::CommitBoostGenerateProxyKey:
    case Route::CommitBoostStatus:
      if (context_.commit_boost)
        return handle_commit_boost(*context_.commit_boost, target, std::move(request), std::move(reply));
      break;
    case Route::Reload:
      return handle_reload(context_, std::move(request), std::move(reply));
    case Route::Other:
      break;
  }
  reply(error_response(http::status::not_found, "no such endpoint"));
}

}  // namespace cachet::server
