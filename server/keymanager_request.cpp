#include "server/keymanager_request.hpp"

#include <boost/json/parse.hpp>
#include <cachet/util/bytes.hpp>

namespace cachet::server {
namespace {

namespace json = boost::json;

std::expected<std::vector<std::string>, std::string> string_array(const json::object& body, std::string_view key) {
  const auto* v = body.if_contains(key);
  if (!v) return std::unexpected(std::string(key) + ": missing");
  if (!v->is_array()) return std::unexpected(std::string(key) + ": expected an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) return std::unexpected(std::string(key) + ": expected an array of strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

}  // namespace

std::expected<json::object, std::string> parse_keymanager_body(std::string_view body) {
  json::parse_options options;
  options.max_depth = 8;
  boost::system::error_code ec;
  auto value = json::parse(body, ec, {}, options);
  if (ec) return std::unexpected("request body is not valid JSON: " + ec.message());
  if (!value.is_object()) return std::unexpected("request body must be a JSON object");
  return std::move(value.get_object());
}

void wipe_passwords(json::object& body) {
  if (auto* passwords = body.if_contains("passwords"); passwords && passwords->is_array())
    for (auto& p : passwords->get_array())
      if (p.is_string()) secure_wipe(p.get_string().data(), p.get_string().size());
}

ImportRequest::~ImportRequest() {
  for (auto& p : passwords) secure_wipe(p.data(), p.size());
}

std::expected<ImportRequest, std::string> parse_import_request(const json::object& body) {
  ImportRequest request;
  auto keystores = string_array(body, "keystores");
  if (!keystores) return std::unexpected(keystores.error());
  request.keystores = std::move(*keystores);
  auto passwords = string_array(body, "passwords");
  if (!passwords) return std::unexpected(passwords.error());
  request.passwords = std::move(*passwords);  // the vector's buffer moves: no copy of a password is left behind
  if (request.keystores.size() != request.passwords.size())
    return std::unexpected("keystores and passwords must have the same length (" +
                           std::to_string(request.keystores.size()) + " vs " +
                           std::to_string(request.passwords.size()) + ")");
  if (const auto* sp = body.if_contains("slashing_protection"); sp && !sp->is_null()) {
    if (!sp->is_string()) return std::unexpected("slashing_protection: expected a JSON string");
    auto parsed = slashing::parse_interchange(sp->get_string());
    if (!parsed) return std::unexpected("slashing_protection: " + parsed.error());
    request.slashing_protection = std::move(*parsed);
  }
  return request;
}

std::expected<std::vector<crypto::PublicKey>, std::string> parse_delete_request(const json::object& body) {
  auto pubkeys = string_array(body, "pubkeys");
  if (!pubkeys) return std::unexpected(pubkeys.error());
  std::vector<crypto::PublicKey> parsed;
  for (const auto& p : *pubkeys) {
    auto pk = from_hex_fixed<48>(p);
    if (!pk || !p.starts_with("0x"))
      return std::unexpected("pubkeys: '" + p.substr(0, 120) + "' is not a 0x-prefixed 48-byte public key");
    parsed.push_back(*pk);
  }
  return parsed;
}

}  // namespace cachet::server
