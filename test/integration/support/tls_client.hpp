// A blocking TLS client for tests on OpenSSL's API over a loopback socket: chosen protocol versions, ciphers and
// client certificate, HTTP/1.1 requests on one connection, renegotiation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "support/http_client.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace cachet::test {

struct TlsClientConfig {
  std::filesystem::path ca_file;    // the server's certificate must verify against this, for "localhost" and the IP
  std::filesystem::path cert_file;  // the client certificate, when set
  std::filesystem::path key_file;
  int min_version = 0;        // TLS1_VERSION … TLS1_3_VERSION; 0: OpenSSL's default
  int max_version = 0;        // 0: OpenSSL's default
  std::string cipher_list;    // TLS 1.2 and older; empty: OpenSSL's default
  bool allow_legacy = false;  // security level 0, so the client can even offer TLS 1.0/1.1 and weak ciphers
};

class TlsConnection {
 public:
  /// Connects to 127.0.0.1:`port` and completes the handshake (its outcome in ok()/error()).
  TlsConnection(std::uint16_t port, const TlsClientConfig& config);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  /// Whether the handshake completed from the client's side. With TLS 1.3 the server checks the client's
  /// certificate after that, so a refused client sees the failure on its first request instead.
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::string protocol() const;
  std::string cipher() const;
  bool compressed() const;

  /// One HTTP/1.1 request on this connection; status 0 with `error` when it fails. Host defaults to
  /// "localhost:<port>".
  HttpResult request(const std::string& method, const std::string& target, const std::string& body = {},
                     std::map<std::string, std::string> headers = {{"Content-Type", "application/json"}});
  HttpResult get(const std::string& target) { return request("GET", target, {}, {}); }

  /// Starts a renegotiation and completes it; false (with error()) when the server refuses.
  bool renegotiate();

 private:
  std::uint16_t port_;
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool ok_ = false;
  std::string error_;
};

/// Opens a connection and sends one request; the result (status 0 when the handshake or the request failed).
HttpResult tls_get(std::uint16_t port, const TlsClientConfig& config, const std::string& target = "/upcheck");

}  // namespace cachet::test
