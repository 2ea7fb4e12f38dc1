#include "server/api.hpp"

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
  return Route::Other;
}

}  // namespace

void Api::handle(Request&& request, Reply reply_to_client) {
  std::string_view target = request.target();
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  const auto route = route_of(target);
  // Every answer passes through here once: count it by route and code.
  Reply reply = [this, route, start = std::chrono::steady_clock::now(),
                 inner = std::move(reply_to_client)](Response response) mutable {
    context_.metrics.count_http(route, static_cast<unsigned>(response.status),
                                std::chrono::steady_clock::now() - start);
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
    case Route::Reload:
    case Route::Other:
      break;
  }
  reply(error_response(http::status::not_found, "no such endpoint"));
}

}  // namespace cachet::server
