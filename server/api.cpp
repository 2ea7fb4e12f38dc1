#include "server/api.hpp"

namespace cachet::server {
namespace {

constexpr std::string_view kSignPrefix = "/api/v1/eth2/sign/";

Response method_not_allowed(std::string_view allow) {
  auto r = error_response(http::status::method_not_allowed, "method not allowed");
  r.headers.emplace_back(http::field::allow, std::string(allow));
  return r;
}

}  // namespace

void Api::handle(Request&& request, Reply reply) {
  std::string_view target = request.target();
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  const auto method = request.method();
  const bool get = method == http::verb::get || method == http::verb::head;

  if (target.starts_with(kSignPrefix)) {
    if (method != http::verb::post) return reply(method_not_allowed("POST"));
    return handle_sign(context_, target.substr(kSignPrefix.size()), std::move(request), std::move(reply));
  }
  if (target == "/upcheck") return reply(get ? handle_upcheck() : method_not_allowed("GET"));
  if (target == "/health") return reply(get ? handle_health(context_) : method_not_allowed("GET"));
  if (target == "/healthcheck") return reply(get ? handle_healthcheck(context_) : method_not_allowed("GET"));
  if (target == "/api/v1/eth2/publicKeys") return reply(get ? handle_public_keys(context_) : method_not_allowed("GET"));
  reply(error_response(http::status::not_found, "no such endpoint"));
}

}  // namespace cachet::server
