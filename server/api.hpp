// Routes the signer's HTTP API to its handlers.
#pragma once

#include "server/http_server.hpp"
#include "server/signer_context.hpp"

namespace cachet::server {

class Api final : public RequestHandler {
 public:
  explicit Api(SignerContext& context) : context_(context) {}
  void handle(Request&& request, Reply reply) override;

 private:
  SignerContext& context_;
};

/// The metrics listener: GET /metrics only.
class MetricsApi final : public RequestHandler {
 public:
  explicit MetricsApi(const Metrics& metrics) : metrics_(metrics) {}
  void handle(Request&& request, Reply reply) override;

 private:
  const Metrics& metrics_;
};

// Handlers, one file each.
void handle_sign(SignerContext& context, std::string_view identifier, Request&& request, Reply reply);
Response handle_public_keys(const SignerContext& context);
void handle_keystores(SignerContext& context, Request&& request, Reply reply);
Response handle_upcheck();
Response handle_health(const SignerContext& context);
Response handle_healthcheck(const SignerContext& context);

}  // namespace cachet::server
