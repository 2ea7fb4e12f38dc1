// POST /reload (Web3Signer's endpoint): 202 Accepted, the external keystores are rescanned in the background; GET
// /reload: the state of the latest reload with its counts. With the keymanager token configured it is required here
// too, since a reload changes which keys sign.
#include <boost/json.hpp>

#include "server/api.hpp"

namespace cachet::server {
namespace {

std::string_view to_string(keys::ReloadState state) {
  switch (state) {
    case keys::ReloadState::Idle:
      return "idle";
    case keys::ReloadState::Running:
      return "running";
    case keys::ReloadState::Completed:
      return "completed";
    case keys::ReloadState::Failed:
      break;
  }
  return "failed";
}

Response reload_status(const keys::KeyService& service) {
  const auto s = service.reload_status();
  boost::json::object o{{"status", to_string(s.state)},
                        {"added", s.added},
                        {"removed", s.removed},
                        {"changed", s.changed},
                        {"failed", s.failed}};
  if (s.state == keys::ReloadState::Failed) o["message"] = s.error;
  return json_response(http::status::ok, boost::json::serialize(o));
}

}  // namespace

void handle_reload(SignerContext& context, Request&& request, Reply reply) {
  if (!context.key_service) return reply(error_response(http::status::not_found, "no such endpoint"));
  if (!context.api_token.empty())
    if (auto refused = refuse_without_token(request, context.api_token)) return reply(std::move(*refused));
  switch (request.method()) {
    case http::verb::post:
      context.key_service->request_reload();  // only sets a flag: the reload thread does the work
      return reply(json_response(http::status::accepted, R"({"status":"running"})"));
    case http::verb::get:
    case http::verb::head:
      return reply(reload_status(*context.key_service));
    default: {
      auto r = error_response(http::status::method_not_allowed, "method not allowed");
      r.headers.emplace_back(http::field::allow, "GET, POST");
      return reply(std::move(r));
    }
  }
}

}  // namespace cachet::server
