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
  explicit Session(HttpServer& server) : server_(server) {}
  virtual ~Session() { server_.session_closed(this); }
  virtual void start() = 0;
  // From any thread: close now if waiting for a request, else after the response in flight.
  virtual void shutdown() = 0;

 protected:
  HttpServer& server_;
};

namespace {

// One connection: a plain `beast::tcp_stream` or a `beast::ssl_stream` over one. Everything runs on the
// connection's strand.
template <class Stream>
class BasicSession final : public HttpServer::Session {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... StreamArgs>
  BasicSession(HttpServer& server, const HttpServerOptions& options, RequestHandler& handler, tcp::socket socket,
               StreamArgs&&... args)
      : Session(server),
        options_(options),
        handler_(handler),
        stream_(std::move(socket), std::forward<StreamArgs>(args)...) {
    beast::error_code ec;
    peer_ = lowest().socket().remote_endpoint(ec);
  }

  void start() override {
    asio::dispatch(lowest().get_executor(), [self = self()] {
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->read();
      }
    });
  }

  void shutdown() override {
    asio::dispatch(lowest().get_executor(), [self = self()] {
      self->closing_ = true;
      if (!self->busy_) self->close();
    });
  }

 private:
  std::shared_ptr<BasicSession> self() { return std::static_pointer_cast<BasicSession>(shared_from_this()); }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void handshake() {
    if constexpr (kTls) {
      lowest().expires_after(options_.read_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = self()](beast::error_code ec) {
        if (ec) {
          // Scanners, plain HTTP, old protocols and refused client certificates end here: not worth more than
          // debug, and never the certificate itself.
          spdlog::debug("TLS handshake with {} failed: {}", self->peer_name(), ec.message());
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
    if (closing_) return close();
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    if (first_request_ || buffer_.size() > 0) return read_header();
    // A kept-alive connection may sit idle for the idle timeout; once a request starts, the whole of it must
    // arrive within the read timeout (so a slow client cannot hold a connection by trickling bytes).
    lowest().expires_after(options_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = self()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->on_read(ec);
      self->read_header();
    });
  }

  void read_header() {
    first_request_ = false;
    lowest().expires_after(options_.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = self()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    const auto& header = parser_->get();
    if (auto refusal = host_refusal(header)) {
      spdlog::info("refused a request from {}: {}", peer_name(), *refusal);
      keep_alive_ = false;
      version_ = header.version();
      return write(error_response(http::status::forbidden, *refusal));
    }
    if (options_.body_limit_for) parser_->body_limit(options_.body_limit_for(header.target()));
    // The read timeout set for the header still runs: header and body together must arrive within it.
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
    if (ec && (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
               ec == http::error::end_of_stream || ec == http::error::partial_message)) {
      // The client closed, went quiet past a timeout, reset the connection, or broke TLS: nothing to answer.
      return close();
    }
    if (ec) {
      // The client sent something we will not parse: say why, then close (the stream is out of sync).
      Response r = ec == http::error::body_limit ? error_response(http::status::payload_too_large,
                                                                  "request body exceeds this endpoint's size limit")
                   : ec == http::error::header_limit
                       ? error_response(http::status::request_header_fields_too_large, "request headers too large")
                       : error_response(http::status::bad_request, "malformed HTTP request: " + ec.message());
      keep_alive_ = false;
      version_ = 11;
      return write(std::move(r));
    }
    Request request = parser_->release();
    request.set(kPeerAddressField, peer_.address().to_string());
    keep_alive_ = request.keep_alive() && !closing_;
    version_ = request.version();
    busy_ = true;
    lowest().expires_never();
    handler_.handle(std::move(request), [self = self()](Response response) mutable {
      asio::dispatch(self->lowest().get_executor(),
                     [self, response = std::move(response)]() mutable { self->write(std::move(response)); });
    });
  }

  void write(Response response) {
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
      if (ec) return self->close();
      if (!message->keep_alive()) return self->linger_close();
      self->read();
    });
  }

  // Closing right after answering a request whose body we did not read (413, 403, malformed) would reset the
  // connection while the client is still sending, and it would never see the answer. Stop sending, then read
  // and discard for a bounded time and amount, so the client's write finishes and it reads the response.
  void linger_close() {
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
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool first_request_ = true;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool busy_ = false;
  bool closing_ = false;
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
    if (!ec) on_accept(std::move(socket));
    accept();
  });
}

// On the acceptor's strand. Beyond the limit a connection is accepted and closed at once (the client sees the
// connection close rather than hanging in the kernel's backlog), with a warning at most every 10 s.
void HttpServer::on_accept(tcp::socket socket) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(sessions_mutex_);
    if (sessions_.size() < options_.max_connections) {
      if (options_.tls) {
        session = std::make_shared<TlsSession>(*this, options_, handler_, std::move(socket), options_.tls->context());
      } else {
        session = std::make_shared<PlainSession>(*this, options_, handler_, std::move(socket));
      }
      sessions_.insert(session.get());
    }
  }
  if (session) return session->start();
  ++refused_since_warning_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_limit_warning_ >= std::chrono::seconds(10)) {
    spdlog::warn("connection limit ({}) reached on {}:{}; closed {} new connection(s)", options_.max_connections,
                 options_.host, options_.port, refused_since_warning_);
    last_limit_warning_ = now;
    refused_since_warning_ = 0;
  }
  beast::error_code ignored;
  socket.close(ignored);
}

void HttpServer::session_closed(Session* session) {
  std::function<void()> drained;
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(session);
    if (stopping_ && sessions_.empty()) drained = std::exchange(on_drained_, nullptr);
  }
  if (drained) drained();
}

void HttpServer::stop(std::function<void()> on_drained) {
  asio::dispatch(acceptor_.get_executor(), [this, on_drained = std::move(on_drained)]() mutable {
    stopping_ = true;
    beast::error_code ec;
    acceptor_.close(ec);
    accept_retry_.cancel();
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(sessions_mutex_);
      if (sessions_.empty()) {
        if (on_drained) on_drained();
        return;
      }
      on_drained_ = std::move(on_drained);
      for (auto* s : sessions_) {
        // A session whose count already reached zero is being destroyed: skip it.
        if (auto alive = s->weak_from_this().lock()) live.push_back(std::move(alive));
      }
    }
    for (auto& s : live) s->shutdown();
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
