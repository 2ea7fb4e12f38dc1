#include "support/tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace cachet::test {

namespace http = boost::beast::http;

namespace {

// The queued OpenSSL errors (or errno's text), and an empty queue after.
std::string openssl_errors(const char* what) {
  std::string out = what;
  char buf[256];
  while (unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buf, sizeof buf);
    out += std::string(": ") + buf;
  }
  if (out == what && errno) out += std::string(": ") + std::strerror(errno);
  return out;
}

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TlsConnection::TlsConnection(std::uint16_t port, const TlsClientConfig& config) : port_(port) {
  ::signal(SIGPIPE, SIG_IGN);  // a write to a connection the server closed fails instead of killing the test
  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (config.allow_legacy) SSL_CTX_set_security_level(ctx_, 0);
  if (config.min_version) SSL_CTX_set_min_proto_version(ctx_, config.min_version);
  if (config.max_version) SSL_CTX_set_max_proto_version(ctx_, config.max_version);
  if (!config.cipher_list.empty() && SSL_CTX_set_cipher_list(ctx_, config.cipher_list.c_str()) != 1) {
    error_ = openssl_errors("cipher list");
    return;
  }
  if (!config.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx_, config.ca_file.c_str(), nullptr) != 1) {
      error_ = openssl_errors("CA file");
      return;
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  if (!config.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx_, config.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      error_ = openssl_errors("client certificate");
      return;
    }
  }
  fd_ = connect_loopback(port);
  if (fd_ < 0) {
    error_ = "connect failed";
    return;
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, "localhost");
  // The server certificate must name both the host name and the address the tests connect to.
  SSL_set1_host(ssl_, "localhost");
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
  if (SSL_connect(ssl_) != 1) {
    error_ = openssl_errors("handshake");
    return;
  }
  ok_ = true;
}

TlsConnection::~TlsConnection() {
  if (ssl_) SSL_free(ssl_);
  if (fd_ >= 0) ::close(fd_);
  if (ctx_) SSL_CTX_free(ctx_);
}

std::string TlsConnection::protocol() const { return ssl_ ? SSL_get_version(ssl_) : ""; }
std::string TlsConnection::cipher() const { return ssl_ ? SSL_get_cipher_name(ssl_) : ""; }
bool TlsConnection::compressed() const { return ssl_ && SSL_get_current_compression(ssl_) != nullptr; }

HttpResult TlsConnection::request(const std::string& method, const std::string& target, const std::string& body,
                                  std::map<std::string, std::string> headers) {
  HttpResult result;
  if (!ok_) {
    result.error = error_;
    return result;
  }
  if (!headers.contains("Host")) headers["Host"] = "localhost:" + std::to_string(port_);
  std::string wire = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : headers) wire += name + ": " + value + "\r\n";
  wire += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ERR_clear_error();
  for (std::size_t sent = 0; sent < wire.size();) {
    const int n =
        SSL_write(ssl_, wire.data() + sent, static_cast<int>(std::min<std::size_t>(wire.size() - sent, 1 << 20)));
    if (n <= 0) {
      result.error = openssl_errors("write");
      return result;
    }
    sent += static_cast<std::size_t>(n);
  }
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(64 << 20);
  if (method == "HEAD") parser.skip(true);
  std::string pending;
  char buf[16 << 10];
  while (!parser.is_done()) {
    if (!pending.empty()) {
      boost::beast::error_code ec;
      const auto used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec && ec != http::error::need_more) {
        result.error = "bad response: " + ec.message();
        return result;
      }
      if (parser.is_done()) break;
      if (used > 0 && !pending.empty()) continue;
    }
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) {
      result.error = openssl_errors("read");
      return result;
    }
    pending.append(buf, static_cast<std::size_t>(n));
  }
  const auto& res = parser.get();
  result.status = res.result_int();
  result.body = res.body();
  for (const auto& field : res) {
    std::string name(field.name_string());
    std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    result.headers[name] = std::string(field.value());
  }
  return result;
}

bool TlsConnection::renegotiate() {
  if (!ok_) return false;
  ERR_clear_error();
  if (SSL_renegotiate(ssl_) != 1 || SSL_do_handshake(ssl_) != 1) {
    error_ = openssl_errors("renegotiation");
    return false;
  }
  // The server answers the new ClientHello only when it reads; a request drives the renegotiation to its end.
  const auto answer = get("/upcheck");
  if (answer.status != 200) {
    error_ = "renegotiation: " + answer.error;
    return false;
  }
  return SSL_renegotiate_pending(ssl_) == 0;
}

HttpResult tls_get(std::uint16_t port, const TlsClientConfig& config, const std::string& target) {
  TlsConnection connection(port, config);
  return connection.get(target);
}

}  // namespace cachet::test
