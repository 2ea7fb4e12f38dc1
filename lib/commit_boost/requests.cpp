#include <boost/json.hpp>
#include <cachet/commit_boost/requests.hpp>

namespace cachet::commit_boost {
namespace {

namespace json = boost::json;

// Deeper than any valid body (depth 1); shallow enough that a hostile body cannot make the parser recurse far.
constexpr unsigned kMaxDepth = 8;

std::expected<json::object, std::string> parse_object(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxDepth;
  boost::system::error_code ec;
  auto value = json::parse(body, ec, {}, options);
  if (ec) return std::unexpected("request body is not valid JSON: " + ec.message());
  if (!value.is_object()) return std::unexpected(std::string("request body is not a JSON object"));
  return std::move(value.as_object());
}

std::expected<std::string_view, std::string> string_field(const json::object& body, std::string_view name) {
  const auto* v = body.if_contains(name);
  if (!v) return std::unexpected(std::string(name) + ": missing");
  if (!v->is_string()) return std::unexpected(std::string(name) + ": not a string");
  return std::string_view(v->get_string());
}

template <std::size_t N>
std::expected<std::array<std::uint8_t, N>, std::string> hex_field(const json::object& body, std::string_view name,
                                                                  std::string_view what) {
  auto text = string_field(body, name);
  if (!text) return std::unexpected(text.error());
  auto bytes = from_hex_fixed<N>(*text);
  if (!bytes || !text->starts_with("0x"))
    return std::unexpected(std::string(name) + ": expected " + std::string(what) + ", 0x and " + std::to_string(2 * N) +
                           " hex digits");
  return *bytes;
}

}  // namespace

std::expected<SignRequest, std::string> parse_sign_request(std::string_view text) {
  auto body = parse_object(text);
  if (!body) return std::unexpected(body.error());
  auto type = string_field(*body, "type");
  if (!type) return std::unexpected(type.error());
  SignRequest out;
  if (*type == "consensus") {
    auto pubkey = hex_field<48>(*body, "pubkey", "a BLS public key");
    if (!pubkey) return std::unexpected(pubkey.error());
    out.pubkey = *pubkey;
  } else if (*type == "proxy_bls") {
    out.kind = SignRequest::Kind::ProxyBls;
    auto proxy = hex_field<48>(*body, "proxy", "a BLS proxy public key");
    if (!proxy) return std::unexpected(proxy.error());
    out.pubkey = *proxy;
  } else if (*type == "proxy_ecdsa") {
    out.kind = SignRequest::Kind::ProxyEcdsa;
    auto proxy = hex_field<20>(*body, "proxy", "an ECDSA proxy address");
    if (!proxy) return std::unexpected(proxy.error());
    out.address = *proxy;
  } else {
    return std::unexpected(std::string("type: must be consensus, proxy_bls or proxy_ecdsa"));
  }
  auto root = hex_field<32>(*body, "object_root", "a 32-byte root");
  if (!root) return std::unexpected(root.error());
  out.object_root = *root;
  return out;
}

std::expected<GenerateProxyRequest, std::string> parse_generate_proxy_request(std::string_view text) {
  auto body = parse_object(text);
  if (!body) return std::unexpected(body.error());
  GenerateProxyRequest out;
  auto pubkey = hex_field<48>(*body, "pubkey", "a BLS public key");
  if (!pubkey) return std::unexpected(pubkey.error());
  out.delegator = *pubkey;
  auto scheme = string_field(*body, "scheme");
  if (!scheme) return std::unexpected(scheme.error());
  if (*scheme == "bls") {
    out.scheme = Scheme::Bls;
  } else if (*scheme == "ecdsa") {
    out.scheme = Scheme::Ecdsa;
  } else {
    return std::unexpected(std::string("scheme: must be bls or ecdsa"));
  }
  return out;
}

}  // namespace cachet::commit_boost
