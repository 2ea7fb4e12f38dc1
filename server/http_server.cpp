#include "server/http_server.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <optional>
#include <type_traits>

#include "server/tls_context.hpp"

namespace cachet::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------------------------------------------
// Host allowlist

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// An IPv6 literal in its canonical form ("0:0::1" → "::1"), so either spelling matches the other.
std::optional<std::string> ipv6(std::string_view text) {
  beast::error_code ec;
  auto address = asio::ip::make_address_v6(std::string(text), ec);
  if (ec) return std::nullopt;
  return address.to_string();
}

// A host name or IPv4 literal: letters, digits, '-', '.', '_'.
std::optional<std::string> reg_name(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (unsigned char c : text) {
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_') return std::nullopt;
  }
  return lower(text);
}

// Client-controlled text for a log line: printable ASCII only, at most 64 characters.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

std::optional<std::string> host_of(std::string_view host_header) {
  std::string_view value = trim(host_header);
  std::string_view port;
  std::optional<std::string> host;
  if (value.starts_with('[')) {
    const auto close = value.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = ipv6(value.substr(1, close - 1));
    const auto rest = value.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    port = rest.empty() ? rest : rest.substr(1);
  } else {
    const auto colon = value.find(':');
    host = reg_name(value.substr(0, colon));
    if (colon != std::string_view::npos) port = value.substr(colon + 1);  // a second ':' fails the digits below
  }
  if (!host || port.size() > 5 || !std::ranges::all_of(port, [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return host;
}

std::expected<HostAllowlist, std::string> HostAllowlist::parse(std::string_view list) {
  HostAllowlist out;
  out.any_ = false;
  while (true) {
    const auto comma = list.find(',');
    const std::string_view entry = trim(list.substr(0, comma));
    if (entry == "*") {
      out.any_ = true;
    } else if (!entry.empty()) {
      std::optional<std::string> host;
      if (entry.starts_with('[') && entry.ends_with(']')) {
        host = ipv6(entry.substr(1, entry.size() - 2));
      } else if (std::ranges::count(entry, ':') >= 2) {
        host = ipv6(entry);
      } else if (entry.find(':') != std::string_view::npos) {
        return std::unexpected("'" + std::string(entry) + "': give host names without a port");
      } else {
        host = reg_name(entry);
      }
      if (!host) return std::unexpected("'" + std::string(entry) + "' is not a host name or IP address");
      if (std::ranges::find(out.hosts_, *host) == out.hosts_.end()) out.hosts_.push_back(std::move(*host));
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (!out.any_ && out.hosts_.empty()) return std::unexpected("names no host (`*` allows any)");
  return out;
}

bool HostAllowlist::allows(std::string_view host_header) const {
  if (any_) return true;
  const auto host = host_of(host_header);
  return host && std::ranges::find(hosts_, *host) != hosts_.end();
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer& server, asio::ip::address peer_address) : address(std::move(peer_address)), server_(server) {}
  virtual ~Session() { server_.session_closed(this); }
  // The handshake and the first request must arrive within `timeout` of now.
  virtual void start(std::chrono::steady_clock::duration timeout) = 0;
  // From any thread: close now if no request is on its way, else answer it (within `grace`) and close.
  virtual void shutdown(std::chrono::steady_clock::duration grace) = 0;
  // From any thread: close now (displaced at the connection limit, or a forced stop).
  virtual void evict() = 0;

  // Guarded by the server's sessions_mutex_.
  const asio::ip::address address;
  Phase phase = Phase::Fresh;
  std::uint64_t sequence = 0;  // when it entered its phase, for displacing the oldest first
  bool evicted = false;

 protected:
  // Moves to `phase`; false when the connection was displaced meanwhile (it must close).
  bool enter(Phase next) { return server_.set_phase(this, next); }

  HttpServer& server_;
};

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kIdleLingerOnStop = std::chrono::seconds(1);

// One connection: a plain `beast::tcp_stream` or a `beast::ssl_stream` over one. Everything runs on the
// connection's strand. The handshake, waiting for a request and reading it run against `deadline_` (on expiry the
// socket's operations are cancelled, so a request cut short can still be answered 408); a write and the linger
// after a last answer against the stream's own timeout.
template <class Stream>
class BasicSession final : public HttpServer::Session {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... StreamArgs>
  BasicSession(HttpServer& server, const HttpServerOptions& options, RequestHandler& handler, tcp::socket socket,
               const tcp::endpoint& peer, StreamArgs&&... args)
      : Session(server, peer.address()),
        options_(options),
        handler_(handler),
        stream_(std::move(socket), std::forward<StreamArgs>(args)...),
        peer_(peer),
        deadline_(stream_.get_executor()) {
    // An idle TLS connection need not hold OpenSSL's 16 KiB record buffers: at the connection limit there are a
    // thousand of them.
    if constexpr (kTls) SSL_set_mode(stream_.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  }

  void start(Clock::duration timeout) override {
    asio::dispatch(lowest().get_executor(), [self = self(), timeout] {
      self->arm(timeout);
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->read();
      }
    });
  }

  void shutdown(Clock::duration grace) override {
    asio::dispatch(lowest().get_executor(), [self = self(), grace] {
      self->closing_ = true;
      self->grace_end_ = Clock::now() + grace;
      // Busy: the answer goes out with `Connection: close`. Lingering: it closes by itself.
      if (self->busy_ || self->lingering_ || !self->lowest().socket().is_open()) return;
      if (self->request_started() || self->bytes_waiting()) {
        // A request is on its way: it may finish within the grace period, then it is answered and closed.
        if (self->deadline_.expiry() > self->grace_end_) self->arm_at(self->grace_end_);
        return;
      }
      // Idle: a request the client sent before it could see the stop may still be on its way. One that arrives
      // within a second (and the grace period) is answered, with `Connection: close`; then the connection closes.
      if (self->deadline_.expiry() > Clock::now() + kIdleLingerOnStop) self->arm(kIdleLingerOnStop);
    });
  }

  void evict() override {
    asio::dispatch(lowest().get_executor(), [self = self()] { self->close(); });
  }

 private:
  std::shared_ptr<BasicSession> self() { return std::static_pointer_cast<BasicSession>(shared_from_this()); }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // The handshake, the wait for a request or its reading must end by `timeout` from now (or by the end of the
  // grace period once the server is stopping).
  void arm(Clock::duration timeout) { arm_at(Clock::now() + timeout); }
  void arm_at(Clock::time_point expiry) {
    timed_out_ = false;
    deadline_.expires_at(closing_ ? std::min(expiry, grace_end_) : expiry);
    deadline_.async_wait([self = self()](beast::error_code ec) {
      if (ec) return;  // re-armed or cancelled
      self->timed_out_ = true;
      beast::error_code ignored;
      self->lowest().socket().cancel(ignored);
    });
  }

  // Some of a request has arrived (in our buffer or the parser's hands).
  bool request_started() const { return buffer_.size() > 0 || (parser_ && parser_->got_some()); }
  // Bytes the kernel holds that we have not read yet.
  bool bytes_waiting() {
    beast::error_code ec;
    return lowest().socket().available(ec) > 0 && !ec;
  }

  void handshake() {
    if constexpr (kTls) {
      stream_.async_handshake(ssl::stream_base::server, [self = self()](beast::error_code ec) {
        if (ec) {
          // Scanners, plain HTTP, old protocols, refused client certificates and stalls end here: not worth more
          // than debug, and never the certificate itself.
          spdlog::debug("TLS handshake with {} failed: {}", self->peer_name(),
                        self->timed_out_ ? "timed out" : ec.message());
          return self->close();
        }
        if (self->options_.tls && self->options_.tls->mutual()) {
          spdlog::debug("TLS client '{}' connected from {}",
                        printable(self->options_.tls->client_name(self->stream_.native_handle())), self->peer_name());
        }
        self->read();
      });
    }
  }

  void read() {
    if (closing_ && buffer_.size() == 0 && !bytes_waiting()) return close();
    parser_.emplace();
    // No body limit until the target is known (on_header applies the route's), else beast would refuse a
    // Content-Length over the generic limit before a route with a larger one could allow it.
    parser_->body_limit(boost::none);
    parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    if (first_request_ || buffer_.size() > 0) {
      // A new connection's first request runs against the deadline set at the accept; a pipelined one gets its own.
      if (!first_request_) arm(options_.read_timeout);
      return read_header();
    }
    // A kept-alive connection may sit idle for the idle timeout; once a request starts, the whole of it must
    // arrive within the read timeout (so a slow client cannot hold a connection by trickling bytes).
    arm(options_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = self()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->on_read(ec);
      self->arm(self->options_.read_timeout);
      self->read_header();
    });
  }

  void read_header() {
    first_request_ = false;
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = self()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    const auto& header = parser_->get();
    version_ = header.version();
    if (auto refusal = host_refusal(header)) {
      const auto request_id = refuse(error_response(http::status::forbidden, *refusal), "host_not_allowed");
      spdlog::info("refused a request from {} (request_id={}): {}", peer_name(), request_id, *refusal);
      return;
    }
    // The route's limit, for both framings: a Content-Length over it is refused now; a chunked body is cut at it.
    const std::size_t limit =
        options_.body_limit_for ? options_.body_limit_for(header.target()) : options_.max_body_bytes;
    if (const auto length = parser_->content_length(); length && *length > limit)
      return on_read(http::error::body_limit);
    parser_->body_limit(limit);
    // The deadline set for the header still runs: header and body together must arrive within it.
    http::async_read(stream_, buffer_, *parser_,
                     [self = self()](beast::error_code e, std::size_t) { self->on_read(e); });
  }

  // Why a request's Host header is refused, before any handler sees the request; nullopt when it is allowed.
  std::optional<std::string> host_refusal(const http::request_header<>& header) const {
    const auto& allowlist = options_.host_allowlist;
    if (allowlist.allows_any()) return std::nullopt;
    const auto count = header.count(http::field::host);
    if (count == 0) {
      if (header.version() < 11) return std::nullopt;  // HTTP/1.0 has no Host
      return "a Host header is required";
    }
    if (count > 1) return "more than one Host header";
    const auto host = header[http::field::host];
    if (allowlist.allows(host)) return std::nullopt;
    return "Host '" + printable(host) + "' is not in --http-host-allowlist";
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    deadline_.cancel();
    Request request = parser_->release();
    request.set(kPeerAddressField, peer_.address().to_string());
    keep_alive_ = request.keep_alive() && !closing_;
    version_ = request.version();
    if (!enter(HttpServer::Phase::Busy)) return close();  // displaced meanwhile
    busy_ = true;
    handler_.handle(std::move(request), [self = self()](Response response) mutable {
      asio::dispatch(self->lowest().get_executor(),
                     [self, response = std::move(response)]() mutable { self->write(std::move(response)); });
    });
  }

  void on_read_error(beast::error_code ec) {
    const bool started = request_started();
    const bool http_error = ec.category() == http::make_error_code(http::error::end_of_stream).category();
    if (!lowest().socket().is_open() || (!started && !http_error) || ec == http::error::end_of_stream ||
        (!started && ec == http::error::partial_message)) {
      // Closed by us, the client closed or reset between requests, or nothing came before a timeout: nothing to
      // answer.
      return close();
    }
    if (timed_out_ && ec == asio::error::operation_aborted) {
      const auto request_id =
          refuse(error_response(http::status::request_timeout, "request not complete in time"), "timeout");
      spdlog::debug("request from {} not complete within the time allowed: 408 (request_id={})", peer_name(),
                    request_id);
      return;
    }
    if (!http_error) return close();  // a reset or a broken TLS record mid-request: the connection is gone
    // The client sent something we will not parse, or closed its side mid-request: say why, then close (the
    // stream is out of sync). A half-closed client can still read the answer.
    if (ec == http::error::body_limit)
      refuse(error_response(http::status::payload_too_large, "request body exceeds this endpoint's size limit"),
             "body_too_large");
    else if (ec == http::error::header_limit)
      refuse(error_response(http::status::request_header_fields_too_large, "request headers too large"),
             "headers_too_large");
    else if (ec == http::error::partial_message)
      refuse(error_response(http::status::bad_request, "the request ended before it was complete"), "incomplete");
    else
      refuse(error_response(http::status::bad_request, "malformed HTTP request: " + ec.message()), "malformed");
  }

  // A request the listener answers itself: the handler counts and marks the answer; its request id returned.
  std::string refuse(Response response, std::string_view reason) {
    auto request_id = handler_.on_refusal(response, reason);
    answer_and_close(std::move(response));
    return request_id;
  }

  void answer_and_close(Response response) {
    keep_alive_ = false;
    if (version_ < 10) version_ = 11;
    write(std::move(response));
  }

  void write(Response response) {
    deadline_.cancel();
    if (!enter(HttpServer::Phase::Busy)) return close();  // displaced meanwhile
    busy_ = true;
    auto message = std::make_shared<http::response<http::string_body>>(response.status, version_);
    message->set(http::field::server, options_.server_name);
    message->set(http::field::content_type, response.content_type);
    for (auto& [field, value] : response.headers) message->set(field, value);
    message->body() = std::move(response.body);
    message->keep_alive(keep_alive_ && !closing_);
    message->prepare_payload();
    lowest().expires_after(options_.read_timeout);
    http::async_write(stream_, *message, [self = self(), message](beast::error_code ec, std::size_t) {
      self->busy_ = false;
      self->lowest().expires_never();
      if (ec) return self->close();
      if (!message->keep_alive()) return self->linger_close();
      if (!self->enter(HttpServer::Phase::Idle)) return self->close();
      self->read();
    });
  }

  // Closing right after answering a request whose body we did not read (413, 403, malformed) would reset the
  // connection while the client is still sending, and it would never see the answer. Stop sending, then read
  // and discard for a bounded time and amount, so the client's write finishes and it reads the response.
  void linger_close() {
    lingering_ = true;
    if (!enter(HttpServer::Phase::Fresh)) return close();  // finished: displaced first
    lowest().expires_after(std::chrono::seconds(2));
    if constexpr (kTls) {
      // Send close_notify without waiting for the client's (marking it received makes the shutdown complete once
      // ours is written); what the client still sends is then discarded below TLS, undecrypted.
      SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
      stream_.async_shutdown([self = self()](beast::error_code ec) {
        if (ec) return self->close();
        self->stop_sending_and_drain();
      });
    } else {
      stop_sending_and_drain();
    }
  }

  void stop_sending_and_drain() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    drained_ = 0;
    drain();
  }

  void drain() {
    drain_buffer_.resize(16 << 10);
    lowest().async_read_some(asio::buffer(drain_buffer_), [self = self()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kMaxDrainBytes) return self->close();
      self->drain();
    });
  }

  void close() {
    deadline_.cancel();
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().close();
  }

  std::string peer_name() const {
    return peer_.address().is_v6() ? "[" + peer_.address().to_string() + "]:" + std::to_string(peer_.port())
                                   : peer_.address().to_string() + ":" + std::to_string(peer_.port());
  }

  const HttpServerOptions& options_;
  RequestHandler& handler_;
  Stream stream_;
  tcp::endpoint peer_;
  asio::steady_timer deadline_;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool first_request_ = true;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool busy_ = false;
  bool closing_ = false;
  Clock::time_point grace_end_{};  // once closing_: nothing is read after this
  bool lingering_ = false;
  static constexpr std::size_t kMaxDrainBytes = 64 << 20;
  std::size_t drained_ = 0;
  std::vector<char> drain_buffer_;
};

using PlainSession = BasicSession<beast::tcp_stream>;
using TlsSession = BasicSession<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// The listener

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, RequestHandler& handler)
    : io_(io),
      options_(std::move(options)),
      handler_(handler),
      acceptor_(asio::make_strand(io)),
      accept_retry_(acceptor_.get_executor()) {}

HttpServer::~HttpServer() = default;

using Clock = std::chrono::steady_clock;

std::expected<void, std::string> HttpServer::start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    // A host name (for example "localhost"): resolve it once.
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(options_.host, std::to_string(options_.port), ec);
    if (ec || results.empty()) return std::unexpected("cannot resolve host '" + options_.host + "'");
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return std::unexpected("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                           ec.message());
  accept();
  return {};
}

void HttpServer::accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
    // A connection accepted as the stop began is still served (on_accept shuts it down gracefully).
    if (!ec) on_accept(std::move(socket));
    if (ec == asio::error::operation_aborted || stopping_) return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
      // Accepting again at once would spin: the pending connection stays in the backlog until a descriptor frees.
      spdlog::warn("accept: {}; retrying in 100 ms", ec.message());
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](beast::error_code e) {
        if (!e && !stopping_) accept();
      });
      return;
    }
    accept();
  });
}

// Under sessions_mutex_. The oldest displaceable connection (Fresh before Idle) that `fits` accepts.
template <class Fits>
static HttpServer::Session* oldest(const std::map<std::uint64_t, HttpServer::Session*>& fresh,
                                   const std::map<std::uint64_t, HttpServer::Session*>& idle, Fits fits) {
  for (const auto* phase : {&fresh, &idle})
    for (const auto& [sequence, session] : *phase)
      if (fits(*session)) return session;
  return nullptr;
}

std::shared_ptr<HttpServer::Session> HttpServer::make_room(const asio::ip::address& address, bool& refused) {
  refused = false;
  Session* victim = nullptr;
  if (const auto it = per_address_.find(address);
      it != per_address_.end() && it->second >= options_.max_connections_per_address) {
    // An address at its cap displaces only its own connections.
    victim = oldest(fresh_, idle_, [&](const Session& s) { return s.address == address; });
  } else if (admitted_ >= options_.max_connections) {
    victim = oldest(fresh_, idle_, [](const Session&) { return true; });
  } else {
    return nullptr;
  }
  if (!victim) {
    refused = true;  // every connection it could displace is carrying a request
    return nullptr;
  }
  release(victim);
  return victim->weak_from_this().lock();  // null when it is being destroyed already: nothing left to close
}

// On the acceptor's strand. At a limit a new connection displaces the oldest connection that carries no request;
// only when there is none is it accepted and closed at once (the client sees the connection close rather than
// hanging in the kernel's backlog). Either is warned about at most every 10 s.
void HttpServer::on_accept(tcp::socket socket) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return;  // the client is gone already
  std::shared_ptr<Session> session, victim;
  bool refused = false;
  Clock::duration timeout{};
  {
    std::lock_guard lock(sessions_mutex_);
    victim = make_room(peer.address(), refused);
    if (!refused) {
      timeout = new_connection_timeout();
      if (options_.tls) {
        session =
            std::make_shared<TlsSession>(*this, options_, handler_, std::move(socket), peer, options_.tls->context());
      } else {
        session = std::make_shared<PlainSession>(*this, options_, handler_, std::move(socket), peer);
      }
      sessions_.insert(session.get());
      ++admitted_;
      ++per_address_[session->address];
      list(session.get(), Phase::Fresh);
    }
  }
  if (victim) {
    victim->evict();
    ++evicted_since_warning_;
  }
  if (refused) {
    ++refused_since_warning_;
    beast::error_code ignored;
    socket.close(ignored);
  }
  if (victim || refused) warn_limits();
  if (!session) return;
  session->start(timeout);
  if (stopping_) session->shutdown(grace_);
}

// Under sessions_mutex_. The time a new connection gets for its handshake and first request: the full read timeout
// while at most half of the connections are fresh, then less and less (down to 1 s) as fresh ones fill the limit,
// so that connections that never send anything stop holding places.
Clock::duration HttpServer::new_connection_timeout() const {
  const auto full = std::chrono::duration_cast<Clock::duration>(options_.read_timeout);
  const std::size_t half = std::max<std::size_t>(1, options_.max_connections / 2);
  if (fresh_.size() <= half) return full;
  const auto left = options_.max_connections > fresh_.size() ? options_.max_connections - fresh_.size() : 0;
  return std::max<Clock::duration>(std::chrono::seconds(1), full * left / half);
}

void HttpServer::warn_limits() {
  const auto now = Clock::now();
  if (now - last_limit_warning_ < std::chrono::seconds(10)) return;
  spdlog::warn(
      "connection limits (--max-connections {}, --max-connections-per-ip {}) reached on {}:{}: {} idle "
      "connection(s) replaced, {} new connection(s) closed at once (all others busy)",
      options_.max_connections, options_.max_connections_per_address, options_.host, options_.port,
      evicted_since_warning_, refused_since_warning_);
  last_limit_warning_ = now;
  refused_since_warning_ = 0;
  evicted_since_warning_ = 0;
}

void HttpServer::list(Session* session, Phase phase) {
  session->phase = phase;
  session->sequence = next_sequence_++;
  if (phase != Phase::Busy) (phase == Phase::Fresh ? fresh_ : idle_).emplace(session->sequence, session);
}

void HttpServer::unlist(Session* session) {
  if (session->phase != Phase::Busy) (session->phase == Phase::Fresh ? fresh_ : idle_).erase(session->sequence);
}

void HttpServer::release(Session* session) {
  unlist(session);
  session->evicted = true;
  --admitted_;
  if (--per_address_[session->address] == 0) per_address_.erase(session->address);
}

bool HttpServer::set_phase(Session* session, Phase phase) {
  std::lock_guard lock(sessions_mutex_);
  if (session->evicted) return false;
  unlist(session);
  list(session, phase);
  return true;
}

void HttpServer::session_closed(Session* session) {
  std::function<void()> drained;
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(session);
    if (!session->evicted) release(session);
    if (stopping_ && sessions_.empty()) drained = std::exchange(on_drained_, nullptr);
  }
  if (drained) drained();
}

// Every live session, as owners (one whose count already reached zero is being destroyed: skipped).
std::vector<std::shared_ptr<HttpServer::Session>> HttpServer::live_sessions() {
  std::vector<std::shared_ptr<Session>> live;
  std::lock_guard lock(sessions_mutex_);
  for (auto* s : sessions_)
    if (auto alive = s->weak_from_this().lock()) live.push_back(std::move(alive));
  return live;
}

void HttpServer::stop(Clock::duration grace, std::function<void()> on_drained) {
  asio::dispatch(acceptor_.get_executor(), [this, grace, on_drained = std::move(on_drained)]() mutable {
    if (stopping_.exchange(true)) return;
    grace_ = grace;
    // Connections the kernel completed before the stop may carry complete requests: take them in too, so that
    // they are answered rather than reset when the listening socket closes.
    beast::error_code ec;
    acceptor_.non_blocking(true, ec);
    while (!ec) {
      tcp::socket socket(asio::make_strand(io_));
      acceptor_.accept(socket, ec);
      if (!ec) on_accept(std::move(socket));
    }
    acceptor_.close(ec);
    accept_retry_.cancel();
    {
      std::lock_guard lock(sessions_mutex_);
      if (sessions_.empty()) {
        if (on_drained) on_drained();
        return;
      }
      on_drained_ = std::move(on_drained);
    }
    for (auto& s : live_sessions()) s->shutdown(grace);
  });
}

void HttpServer::close_all() {
  asio::dispatch(acceptor_.get_executor(), [this] {
    stopping_ = true;
    beast::error_code ec;
    acceptor_.close(ec);
    accept_retry_.cancel();
    auto live = live_sessions();
    {
      std::lock_guard lock(sessions_mutex_);
      for (auto& s : live)
        if (!s->evicted) release(s.get());
    }
    for (auto& s : live) s->evict();
  });
}

tcp::endpoint HttpServer::local_endpoint() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec);
}

std::size_t HttpServer::connection_count() const {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.size();
}

}  // namespace cachet::server
