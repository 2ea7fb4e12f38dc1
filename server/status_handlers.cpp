// Liveness and key-listing endpoints: /upcheck (Web3Signer), /health (py3signer's shape), /healthcheck
// (Web3Signer's shape), /api/v1/eth2/publicKeys.
#include <boost/json.hpp>

#include "server/api.hpp"

namespace cachet::server {

void MetricsApi::handle(Request&& request, Reply reply) {
  std::string_view target = request.target();
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target != "/metrics") return reply(error_response(http::status::not_found, "only /metrics is served here"));
  if (request.method() != http::verb::get && request.method() != http::verb::head)
    return reply(error_response(http::status::method_not_allowed, "method not allowed"));
  Response r{http::status::ok, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), {}};
  reply(std::move(r));
}

std::string MetricsApi::on_refusal(Response&, std::string_view reason) {
  metrics_.count_listener_refusal(Listener::Metrics, reason);
  return {};
}

Response handle_upcheck() { return text_response(http::status::ok, "OK"); }

Response handle_public_keys(const SignerContext& context) {
  boost::json::array keys;
  for (const auto& key : context.keys.list()) keys.emplace_back(to_hex(key->pubkey));
  return json_response(http::status::ok, boost::json::serialize(keys));
}

Response handle_health(const SignerContext& context) {
  boost::json::object o;
  o["status"] = "healthy";
  o["keys_loaded"] = context.keys.size();
  return json_response(http::status::ok, boost::json::serialize(o));
}

Response handle_healthcheck(const SignerContext& context) {
  // Web3Signer's shape: {"status", "checks": [{"id", "status", "checks"?: [...], "data"?}], "outcome"}.
  // Keys are DOWN while keystores load (start-up or a reload: "loading" with done/total) and when keystores failed
  // to load, as Web3Signer reports failed bulk loading; the slashing protection database is DOWN when it cannot be
  // written (protected types then answer 503).
  const auto loaded = context.keys.size();
  const auto failed = context.key_service ? context.key_service->failure_count() : 0;
  const auto loading = context.key_service ? context.key_service->loading() : keys::LoadingStatus{};
  const bool keys_up = failed == 0 && !loading.loading;
  const char* keys_status = keys_up ? "UP" : "DOWN";
  boost::json::object data{{"keys-loaded", loaded}, {"error-count", failed}};
  if (loading.loading) data["loading"] = boost::json::object{{"done", loading.done}, {"total", loading.total}};
  boost::json::object loading_check{{"id", "keystores-loading"}, {"status", keys_status}, {"data", data}};
  boost::json::object keys_check{
      {"id", "keys-check"}, {"status", keys_status}, {"checks", boost::json::array{loading_check}}};
  if (loading.loading) keys_check["loading"] = boost::json::object{{"done", loading.done}, {"total", loading.total}};
  boost::json::array checks{boost::json::object{{"id", "default-check"}, {"status", "UP"}}, keys_check};
  bool up = keys_up;
  if (context.slashing) {
    const bool db_up = context.slashing->healthy();
    up = up && db_up;
    checks.push_back(boost::json::object{{"id", "slashing-protection-db"}, {"status", db_up ? "UP" : "DOWN"}});
  }
  if (!context.token_file_warning.empty()) {
    // A warning, not an outage: the API works, but the token may be readable by other local users.
    checks.push_back(boost::json::object{
        {"id", "keymanager-token-file"}, {"status", "UP"}, {"data", {{"warning", context.token_file_warning}}}});
  }
  const char* overall = up ? "UP" : "DOWN";
  boost::json::object o{{"status", overall}, {"checks", checks}, {"outcome", overall}};
  return json_response(up ? http::status::ok : http::status::service_unavailable, boost::json::serialize(o));
}

}  // namespace cachet::server
