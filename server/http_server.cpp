#include "server/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

namespace cachet::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer& server) : stream_(std::move(socket)), server_(server) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

  // From any thread: close now if waiting for a request, else after the response in flight.
  void shutdown() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->busy_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

  ~Session() { server_.session_closed(this); }

 private:
  void read() {
    if (closing_) return close();
    parser_.emplace();
    parser_->body_limit(server_.options_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options_.max_header_bytes));
    // A kept-alive connection may sit idle for the idle timeout; once a request starts, the whole of it must
    // arrive within the read timeout (so a slow client cannot hold a connection by trickling bytes).
    stream_.expires_after(buffer_.size() > 0 ? server_.options_.read_timeout : server_.options_.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read(ec);
    if (server_.options_.body_limit_for) parser_->body_limit(server_.options_.body_limit_for(parser_->get().target()));
    stream_.expires_after(server_.options_.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code e, std::size_t) { self->on_read(e); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
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
    keep_alive_ = request.keep_alive() && !closing_;
    version_ = request.version();
    busy_ = true;
    stream_.expires_never();
    server_.handler_.handle(std::move(request), [self = shared_from_this()](Response response) mutable {
      asio::dispatch(self->stream_.get_executor(),
                     [self, response = std::move(response)]() mutable { self->write(std::move(response)); });
    });
  }

  void write(Response response) {
    busy_ = true;
    auto message = std::make_shared<http::response<http::string_body>>(response.status, version_);
    message->set(http::field::server, server_.options_.server_name);
    message->set(http::field::content_type, response.content_type);
    for (auto& [field, value] : response.headers) message->set(field, value);
    message->body() = std::move(response.body);
    message->keep_alive(keep_alive_ && !closing_);
    message->prepare_payload();
    stream_.expires_after(server_.options_.read_timeout);
    http::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code ec, std::size_t) {
      self->busy_ = false;
      if (ec) return self->close();
      if (!message->keep_alive()) return self->linger_close();
      self->read();
    });
  }

  // Closing right after answering a request whose body we did not read (413, malformed) would reset the
  // connection while the client is still sending, and it would never see the answer. Stop sending, then read
  // and discard for a bounded time and amount, so the client's write finishes and it reads the response.
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    drained_ = 0;
    stream_.expires_after(std::chrono::seconds(2));
    drain();
  }

  void drain() {
    drain_buffer_.resize(16 << 10);
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxDrainBytes) return self->close();
                              self->drain();
                            });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool busy_ = false;
  bool closing_ = false;
  static constexpr std::size_t kMaxDrainBytes = 64 << 20;
  std::size_t drained_ = 0;
  std::vector<char> drain_buffer_;
};

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, RequestHandler& handler)
    : io_(io), options_(std::move(options)), handler_(handler), acceptor_(asio::make_strand(io)) {}

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
    if (!ec) {
      std::shared_ptr<Session> session;
      {
        std::lock_guard lock(sessions_mutex_);
        if (sessions_.size() < options_.max_connections) {
          session = std::make_shared<Session>(std::move(socket), *this);
          sessions_.insert(session.get());
        }
      }
      if (session) {
        session->start();
      } else {
        spdlog::warn("connection limit ({}) reached; refusing a connection", options_.max_connections);
        beast::error_code ignored;
        socket.close(ignored);
      }
    } else if (ec == asio::error::no_descriptors) {
      spdlog::warn("accept: {}", ec.message());
    }
    accept();
  });
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
