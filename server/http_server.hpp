// HTTP/1.1 listener on Boost.Beast: keep-alive, size limits and timeouts, graceful stop. Routing and the work
// behind each request belong to the RequestHandler; this layer only moves bytes.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "server/response.hpp"

namespace cachet::server {

using Request = http::request<http::string_body>;

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  /// Called on an I/O thread; must not block. Answers through `reply`, possibly later and from another thread.
  virtual void handle(Request&& request, Reply reply) = 0;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 1 << 20;  // larger bodies get 413
  /// Optional per-target body limit (for example larger keystore imports); max_body_bytes when unset.
  std::function<std::size_t(std::string_view target)> body_limit_for;
  std::size_t max_header_bytes = 16 << 10;
  std::size_t max_connections = 4096;
  std::chrono::seconds read_timeout{30};   // a request must arrive whole within this (slowloris)
  std::chrono::seconds idle_timeout{120};  // a keep-alive connection with no request is closed after this
  std::string server_name = "cachet";
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, RequestHandler& handler);
  ~HttpServer();

  /// Binds and starts accepting; the error names the address.
  std::expected<void, std::string> start();
  /// Stops accepting, closes idle connections and lets requests in flight finish; `on_drained` runs once no
  /// connection is left (or at once).
  void stop(std::function<void()> on_drained);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  std::size_t connection_count() const;

  class Session;

 private:
  void accept();
  void session_closed(Session* session);

  boost::asio::io_context& io_;
  HttpServerOptions options_;
  RequestHandler& handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex sessions_mutex_;
  std::unordered_set<Session*> sessions_;
  std::function<void()> on_drained_;
};

}  // namespace cachet::server
