// What a handler answers: status, body and the few headers handlers set. The HTTP layer adds the rest.
#pragma once

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet::server {

namespace http = boost::beast::http;

/// A response header, by Beast's field name or by any name (for example "X-Request-Id").
struct Header {
  Header(http::field field, std::string v) : name(http::to_string(field)), value(std::move(v)) {}
  Header(std::string n, std::string v) : name(std::move(n)), value(std::move(v)) {}
  std::string name;
  std::string value;
};

struct Response {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::string body;
  std::vector<Header> headers;
};

/// Handlers answer through a Reply, exactly once, from any thread.
using Reply = std::move_only_function<void(Response)>;

Response json_response(http::status status, std::string body);
Response text_response(http::status status, std::string body);
/// `{"message": "..."}`, the error shape of the keymanager API, used for every error the server sends.
Response error_response(http::status status, std::string_view message);

}  // namespace cachet::server
