#include "support/http_client.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

namespace cachet::test {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

HttpClient::HttpClient(std::uint16_t port, std::string host) : port_(port), host_(std::move(host)) {}
HttpClient::~HttpClient() = default;

bool HttpClient::connect() {
  if (stream_) return true;
  beast::error_code ec;
  stream_.emplace(io_);
  stream_->expires_after(std::chrono::seconds(30));
  stream_->connect(tcp::endpoint(boost::asio::ip::make_address(host_), port_), ec);
  if (ec) {
    stream_.reset();
    return false;
  }
  return true;
}

namespace {
HttpResult read_response(beast::tcp_stream& stream) {
  HttpResult result;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(60));
  http::read(stream, buffer, parser, ec);
  if (ec) {
    result.error = ec.message();
    return result;
  }
  auto& res = parser.get();
  result.status = res.result_int();
  result.body = res.body();
  for (const auto& field : res) {
    std::string name(field.name_string());
    std::ranges::transform(name, name.begin(), [](unsigned char c) { return std::tolower(c); });
    result.headers[name] = std::string(field.value());
  }
  return result;
}
}  // namespace

HttpResult HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                               const std::map<std::string, std::string>& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!connect()) return HttpResult{0, {}, {}, "connect failed"};
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, host_ + ":" + std::to_string(port_));
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    stream_->expires_after(std::chrono::seconds(60));
    http::write(*stream_, req, ec);
    if (!ec) {
      auto result = read_response(*stream_);
      if (result.status != 0) {
        if (result.headers["connection"] == "close") stream_.reset();
        return result;
      }
      if (attempt == 1) return result;
    }
    stream_.reset();  // the server closed a kept-alive connection: retry once on a new one
  }
  return HttpResult{0, {}, {}, "request failed"};
}

HttpResult HttpClient::raw(const std::string& bytes) {
  stream_.reset();
  if (!connect()) return HttpResult{0, {}, {}, "connect failed"};
  beast::error_code ec;
  boost::asio::write(*stream_, boost::asio::buffer(bytes), ec);
  auto result = read_response(*stream_);
  stream_.reset();
  return result;
}

}  // namespace cachet::test
