// Routes the signer's HTTP API to its handlers.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/http_server.hpp"
#include "server/signer_context.hpp"

namespace cachet::server {

class Api final : public RequestHandler {
 public:
  explicit Api(SignerContext& context);
  void handle(Request&& request, Reply reply) override;
  /// Counts the listener's own refusal and gives it a request id, as every other answer has.
  std::string on_refusal(Response& response, std::string_view reason) override;

 private:
  std::string next_request_id();

  SignerContext& context_;
  std::atomic<std::uint64_t> next_request_{0};
  std::uint32_t request_prefix_;
};

/// The header that carries the id Api gives every request (to handlers and, in the answer, to the client). A
/// value the client sent is replaced.
inline constexpr std::string_view kRequestIdField = "X-Request-Id";

/// The metrics listener: GET /metrics only.
class MetricsApi final : public RequestHandler {
 public:
  explicit MetricsApi(Metrics& metrics) : metrics_(metrics) {}
  void handle(Request&& request, Reply reply) override;
  /// Counts the listener's own refusal (a scraper with the wrong Host header, say).
  std::string on_refusal(Response& response, std::string_view reason) override;

 private:
  Metrics& metrics_;
};

// Handlers, one file each.
void handle_sign(SignerContext& context, std::string_view identifier, Request&& request, Reply reply);
Response handle_public_keys(const SignerContext& context);
void handle_keystores(SignerContext& context, Request&& request, Reply reply);
void handle_reload(SignerContext& context, Request&& request, Reply reply);
/// 401 without a bearer token, 403 with another than `token`; nullopt when it is `token` (keymanager_handler.cpp).
std::optional<Response> refuse_without_token(const Request& request, std::string_view token);
Response handle_upcheck();
Response handle_health(const SignerContext& context);
Response handle_healthcheck(const SignerContext& context);

}  // namespace cachet::server
