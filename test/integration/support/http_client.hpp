// A small blocking HTTP/1.1 client for tests (one keep-alive connection).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace cachet::test {

struct HttpResult {
  unsigned status = 0;  // 0: the connection failed or was dropped
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpResult request(const std::string& method, const std::string& target, const std::string& body = {},
                     const std::map<std::string, std::string>& headers = {{"Content-Type", "application/json"}});
  HttpResult get(const std::string& target) { return request("GET", target, {}, {}); }
  HttpResult post(const std::string& target, const std::string& body) { return request("POST", target, body); }
  /// Sends raw bytes and reads one response (for malformed HTTP).
  HttpResult raw(const std::string& bytes);

 private:
  bool connect();
  std::uint16_t port_;
  std::string host_;
  boost::asio::io_context io_;
  std::optional<boost::beast::tcp_stream> stream_;
};

}  // namespace cachet::test
