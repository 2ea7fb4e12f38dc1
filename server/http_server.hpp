// HTTP/1.1 listener on Boost.Beast, plain or TLS: keep-alive, size limits and timeouts, a connection limit, the
// Host allowlist, graceful stop. Routing and the work behind each request belong to the RequestHandler; this layer
// only moves bytes.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/response.hpp"

namespace cachet::server {

using Request = http::request<http::string_body>;

/// Set by the listener on every request (replacing any the client sent): the peer's IP address.
inline constexpr std::string_view kPeerAddressField = "X-Cachet-Peer-Address";

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  /// Called on an I/O thread; must not block. Answers through `reply`, possibly later and from another thread.
  virtual void handle(Request&& request, Reply reply) = 0;
  /// The listener answers some requests itself, before handle() could see them: 403 (`host_not_allowed`), 408
  /// (`timeout`: not complete in time), 413 (`body_too_large`), 431 (`headers_too_large`), 400 (`incomplete`: the
  /// client closed mid-request; `malformed`). Called on an I/O thread with that answer, to count it and mark it as
  /// handle()'s answers are; must not block. Returns the request id it gave the answer (empty: none).
  virtual std::string on_refusal(Response& /*response*/, std::string_view /*reason*/) { return {}; }
};

class TlsContext;

/// The Host header values a listener serves (against DNS rebinding: a browser page on another name cannot reach
/// the API through a victim's browser). Host names and IP literals compared case-insensitively, the port ignored.
class HostAllowlist {
 public:
  /// Allows any Host (and a request without one).
  HostAllowlist() = default;
  /// Comma-separated names or IP literals (IPv6 with or without brackets), or `*` for any. The error says why.
  static std::expected<HostAllowlist, std::string> parse(std::string_view list);

  bool allows_any() const { return any_; }
  /// Whether a request whose Host header is `host_header` may be served (false for a malformed one).
  bool allows(std::string_view host_header) const;
  const std::vector<std::string>& hosts() const { return hosts_; }

 private:
  bool any_ = true;
  std::vector<std::string> hosts_;  // lower case, IPv6 without brackets
};

/// The host part of a Host header value ("LocalHost:8080" → "localhost", "[::1]:80" → "::1"), lower case;
/// nullopt when it is not `host[:port]` or `[ipv6][:port]`.
std::optional<std::string> host_of(std::string_view host_header);

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 1 << 20;  // larger bodies get 413
  /// Optional per-target body limit (for example larger keystore imports); max_body_bytes when unset. Applied
  /// instead of max_body_bytes, to a Content-Length and to a chunked body alike.
  std::function<std::size_t(std::string_view target)> body_limit_for;
  std::size_t max_header_bytes = 16 << 10;
  /// Connections open at once. At the limit a new connection replaces the oldest one that is not carrying a
  /// request (first one that never completed a request: handshaking, silent or trickling; then kept-alive idle
  /// ones); only when every connection is busy with a request is the new one closed at once.
  std::size_t max_connections = 1024;
  /// The same per client address, so one address cannot take every connection; it only displaces its own.
  std::size_t max_connections_per_address = 256;
  /// A TLS handshake, and a request from its first byte (on a new connection: from the accept), must arrive whole
  /// within this, so a client trickling bytes (slowloris) cannot hold a connection. Also bounds each write. For a
  /// new connection it shrinks (down to 1 s) once more than half of max_connections have not completed a request.
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds idle_timeout{120};  // a kept-alive connection with no new request is closed after this
  std::string server_name = "cachet";
  /// Other Host headers, and a missing Host on HTTP/1.1, get 403 before the handler sees the request.
  HostAllowlist host_allowlist;
  /// TLS on this listener when set (shared by the sessions; must outlive the server).
  TlsContext* tls = nullptr;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, RequestHandler& handler);
  ~HttpServer();

  /// Binds and starts accepting; the error names the address.
  std::expected<void, std::string> start();
  /// Graceful stop: accepts what is already in the listen backlog, then stops accepting; closes connections that
  /// carry no request; a request already arriving may finish within `grace` (then it is answered 408); every
  /// request is answered, with `Connection: close`. `on_drained` runs once no connection is left (or at once).
  void stop(std::chrono::steady_clock::duration grace, std::function<void()> on_drained);
  /// Forced stop: closes the listener and every connection now. Answers still on their way are dropped, and each
  /// connection object goes once the handler's reply (if any) has arrived; the I/O context must run until then.
  void close_all();
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  std::size_t connection_count() const;

  class Session;
  /// Where a connection is, for the connection limits: Fresh ones never completed a request (handshaking, silent,
  /// trickling, or lingering after a refusal) and are displaced first; Idle ones were served and wait for, or are
  /// reading, another request; Busy ones carry a request to its answer and are never displaced.
  enum class Phase { Fresh, Idle, Busy };

 private:
  void accept();
  void on_accept(boost::asio::ip::tcp::socket socket);
  // Under sessions_mutex_: the connection to close so that one more from `address` fits, or null (then none may).
  std::shared_ptr<Session> make_room(const boost::asio::ip::address& address, bool& refused);
  std::chrono::steady_clock::duration new_connection_timeout() const;
  /// A session moves between phases; false when it was evicted meanwhile (it must close).
  bool set_phase(Session* session, Phase phase);
  // Under sessions_mutex_: enter `phase` (youngest of it); leave the phase's list; stop counting an evicted one.
  void list(Session* session, Phase phase);
  void unlist(Session* session);
  void release(Session* session);
  void session_closed(Session* session);
  std::vector<std::shared_ptr<Session>> live_sessions();
  void warn_limits();

  boost::asio::io_context& io_;
  HttpServerOptions options_;
  RequestHandler& handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  // out of file descriptors: accept again a little later
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::duration grace_{};
  mutable std::mutex sessions_mutex_;
  std::unordered_set<Session*> sessions_;  // every live session object, evicted ones included
  std::function<void()> on_drained_;
  // Connection accounting, under sessions_mutex_: sessions not evicted, by address, and the evictable ones by age.
  std::size_t admitted_ = 0;
  std::unordered_map<boost::asio::ip::address, std::size_t> per_address_;
  std::map<std::uint64_t, Session*> fresh_;  // never completed a request (handshake, silent, trickling, lingering)
  std::map<std::uint64_t, Session*> idle_;   // kept alive between requests, or reading a later request
  std::uint64_t next_sequence_ = 0;
  // Connections refused or evicted at the limits since the last warning (at most every 10 s), on the acceptor's
  // strand.
  std::size_t refused_since_warning_ = 0;
  std::size_t evicted_since_warning_ = 0;
  std::chrono::steady_clock::time_point last_limit_warning_{};
};

}  // namespace cachet::server
