#include "server/response.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace cachet::server {

Response json_response(http::status status, std::string body) {
  return Response{status, "application/json", std::move(body), {}};
}

Response text_response(http::status status, std::string body) {
  return Response{status, "text/plain; charset=utf-8", std::move(body), {}};
}

Response error_response(http::status status, std::string_view message) {
  boost::json::object o;
  o["message"] = message;
  return json_response(status, boost::json::serialize(o));
}

}  // namespace cachet::server
