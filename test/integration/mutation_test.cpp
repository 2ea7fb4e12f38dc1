// The bad-input suite against the real binary (issue 6): thousands of mutated sign requests (from the reference
// vectors) and keymanager requests, and malformed HTTP on raw sockets. Every answer must be a 4xx (or a 200 that is
// right: a sign 200 carries a signature that verifies against the root the core library computes for that very
// body; 412 where slashing protection refuses), never a 5xx, a dropped connection or a time-out; a canary client
// keeps signing correctly throughout, and afterwards the same process still signs every reference vector.
//
// Reproducible: the mutants come from one PRNG seeded with CACHET_MUTATION_SEED (default below; "random" picks one);
// the seed and the per-class counts are printed. CACHET_MUTATION_SCALE multiplies the counts (default 1). A failing
// request is saved as raw HTTP in ./mutation-failures/ (or CACHET_MUTATION_FAILURES) and named in the failure.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/keystore.hpp>
#include <cachet/slashing/interchange.hpp>
#include <cachet/util/bytes.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/fixtures.hpp"
#include "support/raw_http.hpp"
#include "support/requests.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kDefaultSeed = 20251125;
constexpr std::size_t kMaxBody = 1 << 20;  // the signing API's body limit (413 above)
constexpr std::string_view kMarker = "CACHET_MUTATION_MARKER_5f1d";
const std::set<std::string> kProtectedTypes = {"BLOCK", "BLOCK_V2", "ATTESTATION"};
const std::vector<std::string> kTypeNames = {"AGGREGATION_SLOT",
                                             "AGGREGATE_AND_PROOF",
                                             "AGGREGATE_AND_PROOF_V2",
                                             "ATTESTATION",
                                             "BLOCK",
                                             "BLOCK_V2",
                                             "DEPOSIT",
                                             "RANDAO_REVEAL",
                                             "VOLUNTARY_EXIT",
                                             "SYNC_COMMITTEE_MESSAGE",
                                             "SYNC_COMMITTEE_SELECTION_PROOF",
                                             "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF",
                                             "VALIDATOR_REGISTRATION"};

// ---- inputs ------------------------------------------------------------------------------------------------------

struct Vector {
  std::string pubkey, type, body, signature;
};

std::vector<Vector> load_vectors() {
  std::vector<Vector> out;
  const auto doc = read_json(fs::path(CACHET_SOURCE_DIR) / "test/reference/vectors_mainnet.json");
  for (const auto& v : doc.as_array()) {
    const auto& o = v.as_object();
    out.push_back({std::string(o.at("pubkey").as_string()), std::string(o.at("request").at("type").as_string()),
                   json::serialize(o.at("request")), std::string(o.at("signature").as_string())});
  }
  return out;
}

std::uint64_t seed_from_env() {
  const char* s = std::getenv("CACHET_MUTATION_SEED");
  if (!s || !*s) return kDefaultSeed;
  if (std::string_view(s) == "random") return std::random_device{}() * 0x100000001ULL ^ std::random_device{}();
  return std::strtoull(s, nullptr, 0);
}

std::size_t scaled(std::size_t n) {
  const char* s = std::getenv("CACHET_MUTATION_SCALE");
  const double f = s && *s ? std::atof(s) : 1.0;
  return std::max<std::size_t>(1, static_cast<std::size_t>(static_cast<double>(n) * f));
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(g_() % n); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(g_) < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  std::uint8_t byte() { return static_cast<std::uint8_t>(g_()); }

 private:
  std::mt19937_64 g_;
};

// ---- JSON-aware mutation helpers -----------------------------------------------------------------------------------

void collect(json::value& v, std::vector<json::value*>& all) {
  all.push_back(&v);
  if (v.is_object())
    for (auto& m : v.get_object()) collect(m.value(), all);
  else if (v.is_array())
    for (auto& e : v.get_array()) collect(e, all);
}

std::vector<json::value*> nodes(json::value& root, bool (*keep)(const json::value&)) {
  std::vector<json::value*> all, out;
  collect(root, all);
  for (auto* v : all)
    if (keep(*v)) out.push_back(v);
  return out;
}

bool any_node(const json::value&) { return true; }
bool scalar_node(const json::value& v) { return !v.is_object() && !v.is_array(); }
bool string_node(const json::value& v) { return v.is_string(); }
bool hex_node(const json::value& v) { return v.is_string() && v.get_string().starts_with("0x"); }
bool nonempty_object(const json::value& v) { return v.is_object() && !v.get_object().empty(); }

/// `body` with one node chosen by `keep` replaced by the raw text `raw` (which need not be valid JSON); nullopt when
/// the body is not JSON or has no such node.
std::optional<std::string> replace_node(Rng& rng, const std::string& body, bool (*keep)(const json::value&),
                                        const std::string& raw) {
  boost::system::error_code ec;
  auto root = json::parse(body, ec);
  if (ec) return std::nullopt;
  auto candidates = nodes(root, keep);
  if (candidates.empty()) return std::nullopt;
  *rng.pick(candidates) = json::string(kMarker);
  auto text = json::serialize(root);
  const std::string quoted = "\"" + std::string(kMarker) + "\"";
  text.replace(text.find(quoted), quoted.size(), raw);
  return text;
}

std::string json_quoted(const std::string& s) { return "\"" + s + "\""; }

// ---- generic mutators (sign and keymanager bodies) -----------------------------------------------------------------

std::string byte_flip(Rng& rng, std::string body) {
  if (body.empty()) return "\xff";
  const std::size_t flips = 1 + rng.below(8);
  for (std::size_t i = 0; i < flips; ++i) {
    auto& c = body[rng.below(body.size())];
    c = static_cast<char>(c ^ (rng.chance(0.5) ? (1 << rng.below(8)) : std::max<std::uint8_t>(1, rng.byte())));
  }
  return body;
}

std::string truncate(Rng& rng, const std::string& body) { return body.substr(0, rng.below(body.size())); }

std::string duplicate(Rng& rng, const std::string& body) {
  if (rng.chance(0.3) && !body.empty() && body[0] == '{') {  // a duplicated key with another value
    const std::vector<std::string> keys = {"type", "fork_info", "signingRoot", "signing_root", "keystores", "pubkeys"};
    const std::vector<std::string> values = {"\"BLOCK_V2\"", "null", "{}", "[]", "\"0x00\"", "1"};
    return "{" + json_quoted(rng.pick(keys)) + ":" + rng.pick(values) + "," + body.substr(1);
  }
  if (body.empty()) return body;
  const std::size_t a = rng.below(body.size()), len = 1 + rng.below(std::min<std::size_t>(body.size() - a, 4096));
  const std::size_t at = rng.below(body.size() + 1);
  std::string out = body;
  out.insert(at, body.substr(a, len));
  return out;
}

std::string wrong_type(Rng& rng, const std::string& body) {
  const std::vector<std::string> values = {"0",
                                           "1",
                                           "-1",
                                           "1.5",
                                           "true",
                                           "false",
                                           "null",
                                           "\"\"",
                                           "\"x\"",
                                           "[]",
                                           "{}",
                                           "[1,2]",
                                           "{\"a\":1}",
                                           "\"0x00\"",
                                           "[\"0x00\"]",
                                           "[null]",
                                           "{\"epoch\":\"1\"}"};
  return replace_node(rng, body, any_node, rng.pick(values)).value_or(byte_flip(rng, body));
}

std::string drop_field(Rng& rng, const std::string& body) {
  boost::system::error_code ec;
  auto root = json::parse(body, ec);
  if (ec) return truncate(rng, body);
  auto objects = nodes(root, nonempty_object);
  if (objects.empty()) return truncate(rng, body);
  auto& o = rng.pick(objects)->get_object();
  auto it = o.begin() + static_cast<std::ptrdiff_t>(rng.below(o.size()));
  if (rng.chance(0.3))
    it->value() = json::string("unknown");  // or an extra member below
  else
    o.erase(it);
  if (rng.chance(0.3)) o["unknown_field_" + std::to_string(rng.below(100))] = json::array{1, 2, 3};
  return json::serialize(root);
}

std::string huge_number(Rng& rng, const std::string& body) {
  const std::vector<std::string> tokens = {"18446744073709551616",
                                           "\"18446744073709551616\"",
                                           "18446744073709551615",
                                           "\"18446744073709551615\"",
                                           "1e400",
                                           "-1e400",
                                           "\"1e400\"",
                                           "-1",
                                           "\"-1\"",
                                           "-0",
                                           "\"-0\"",
                                           "1.0",
                                           "1e3",
                                           "\"1e3\"",
                                           "0.5",
                                           "\"0x10\"",
                                           "\" 1\"",
                                           "\"1 \"",
                                           "\"+1\"",
                                           "\"01\"",
                                           "\"\"",
                                           "9223372036854775808",
                                           "-9223372036854775809",
                                           "99999999999999999999999999999999",
                                           "\"99999999999999999999999999999999\"",
                                           "\"\\u0031\"",
                                           "\"\u0661\"",
                                           "NaN",
                                           "Infinity",
                                           "0x10",
                                           std::string(4000, '9'),  // a 4000-digit number
                                           json_quoted(std::string(4000, '7'))};
  return replace_node(rng, body, scalar_node, rng.pick(tokens)).value_or(byte_flip(rng, body));
}

std::string nested(std::size_t depth, bool closed, char open = '[') {
  std::string s;
  s.reserve(depth * 6 + 2);
  for (std::size_t i = 0; i < depth; ++i) s += open == '[' ? "[" : "{\"a\":";
  s += "1";
  if (closed)
    for (std::size_t i = 0; i < depth; ++i) s += open == '[' ? ']' : '}';
  return s;
}

std::string deep_nesting(Rng& rng, const std::string& body, std::size_t server_depth) {
  switch (rng.below(6)) {
    case 0:
      return std::string(10000, '[');
    case 1:
      return nested(10000, true);
    case 2:
      return nested(10000, true, '{');
    case 3:  // a field just over the server's depth limit
      return replace_node(rng, body, any_node, nested(server_depth + 1 + rng.below(4), true)).value_or(body);
    case 4:  // a field 10,000 deep
      return replace_node(rng, body, any_node, nested(10000, rng.chance(0.5), rng.chance(0.5) ? '[' : '{'))
          .value_or(body);
    default:  // the body itself wrapped in arrays
      return std::string(64, '[') + body + std::string(64, ']');
  }
}

std::string bad_hex(Rng& rng, const std::string& body) {
  boost::system::error_code ec;
  auto root = json::parse(body, ec);
  if (ec) return byte_flip(rng, body);
  auto hexes = nodes(root, hex_node);
  if (hexes.empty()) return wrong_type(rng, body);
  auto* node = rng.pick(hexes);
  std::string h(node->get_string());
  const std::string bad_chars = "gGzZ -x.\\";
  switch (rng.below(10)) {
    case 0:
      h.pop_back();  // odd length
      break;
    case 1:
      h += "0";
      break;
    case 2:
      if (h.size() > 2) h[2 + rng.below(h.size() - 2)] = bad_chars[rng.below(bad_chars.size())];
      break;
    case 3:
      h += "00";  // one byte too many
      break;
    case 4:
      if (h.size() >= 4) h.resize(h.size() - 2);  // one byte short
      break;
    case 5:
      h = h.substr(2);  // no prefix
      break;
    case 6:
      h[1] = 'X';
      break;
    case 7:
      h = "0x";
      break;
    case 8:
      for (auto& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));  // valid or 4xx
      break;
    default:
      h += std::string(2 * (1 + rng.below(4096)), 'a');  // far too long
      break;
  }
  *node = json::string(h);
  return json::serialize(root);
}

std::string invalid_utf8(Rng& rng, const std::string& body) {
  const std::vector<std::string> bad = {"\xff",         "\xfe\xff",     "\xc0\x80",         "\xc1\xbf",
                                        "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
                                        "\xe2\x82",     "\x80",         "\xbf\xbf",         "\xf0\x9f\x94"};
  const std::string& b = rng.pick(bad);
  switch (rng.below(3)) {
    case 0:  // inside a string value
      return replace_node(rng, body, string_node, "\"0x" + b + "00\"").value_or(body + b);
    case 1: {  // inside a key
      const auto colon = body.find("\":");
      if (colon == std::string::npos) return b + body;
      std::string out = body;
      out.insert(colon, b);
      return out;
    }
    default: {  // anywhere
      std::string out = body;
      out.insert(rng.below(body.size() + 1), b);
      return out;
    }
  }
}

/// Grows one string (or an array of zeros) so that the whole body is just under or just over `limit` bytes.
std::string huge_string(Rng& rng, const std::string& body, std::size_t limit) {
  const bool over = rng.chance(0.4);
  const std::size_t target = over ? limit + 1 + rng.below(256) : limit - rng.below(256);
  const bool array = rng.chance(0.25);
  auto probe = replace_node(rng, body, string_node, "\"\"");
  if (!probe) return std::string(target, 'a');
  const std::size_t base = probe->size() - 2;  // without the empty string
  if (target <= base + 2) return *probe;
  const std::size_t fill = target - base - 2;
  std::string raw;
  if (array) {
    raw.reserve(fill + 2);
    raw = "[0";
    while (raw.size() + 2 <= fill + 1) raw += ",0";
    raw += "]";
  } else {
    raw = "\"" + std::string(rng.chance(0.5) ? "0x" : "");
    raw += std::string(fill - (raw.size() - 1), rng.chance(0.5) ? 'a' : '0');
    raw += "\"";
  }
  // The probe emptied one string; grow the first empty string (that one, or another: either way the size is right).
  const auto at = probe->find("\"\"");
  std::string out = *probe;
  out.replace(at, 2, raw);
  return out;
}

std::string empty_like(Rng& rng) {
  const std::vector<std::string> bodies = {"",
                                           " ",
                                           "\r\n",
                                           "null",
                                           "[]",
                                           "{}",
                                           "\"\"",
                                           "0",
                                           "true",
                                           "{\"\":\"\"}",
                                           "\xef\xbb\xbf{}",  // BOM
                                           std::string(1, '\0')};
  return rng.pick(bodies);
}

std::vector<std::pair<std::string, std::string>> content_type_headers(Rng& rng) {
  const std::vector<std::string> types = {"",
                                          "text/plain",
                                          "application/xml",
                                          "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x",
                                          "application/jsonx",
                                          "application/json; charset=utf-16",
                                          "application/json; charset=utf-8",
                                          "APPLICATION/JSON",
                                          "*/*",
                                          "application/",
                                          ";",
                                          std::string(2000, 'j'),
                                          "application/json\x7f"};
  const auto& t = rng.pick(types);
  if (t.empty()) return {};  // no Content-Type at all
  return {{"Content-Type", t}};
}

/// The body mutators shared by sign and keymanager requests, by class name (nullopt for another name).
/// `server_depth` is the endpoint's JSON nesting limit.
std::optional<std::string> mutate_body(std::string_view cls, Rng& rng, const std::string& body,
                                       std::size_t server_depth) {
  if (cls == "byte_flip") return byte_flip(rng, body);
  if (cls == "truncate") return truncate(rng, body);
  if (cls == "duplicate") return duplicate(rng, body);
  if (cls == "wrong_type") return wrong_type(rng, body);
  if (cls == "drop_field") return drop_field(rng, body);
  if (cls == "huge_number") return huge_number(rng, body);
  if (cls == "deep_nesting") return deep_nesting(rng, body, server_depth);
  if (cls == "bad_hex") return bad_hex(rng, body);
  if (cls == "invalid_utf8") return invalid_utf8(rng, body);
  if (cls == "huge_string") return huge_string(rng, body, kMaxBody);
  if (cls == "empty_body") return empty_like(rng);
  return std::nullopt;
}

/// Two or three of the structural mutators in a row.
std::string combined(Rng& rng, std::string body, std::size_t server_depth) {
  static const std::vector<std::string> steps = {"byte_flip",   "wrong_type", "drop_field",
                                                 "huge_number", "bad_hex",    "duplicate"};
  const std::size_t n = 2 + rng.below(2);
  for (std::size_t i = 0; i < n; ++i) body = *mutate_body(rng.pick(steps), rng, body, server_depth);
  return body;
}

// ---- mutants and their checks --------------------------------------------------------------------------------------

struct Mutant {
  std::string cls;
  std::string method = "POST";
  std::string target;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string raw;           // when set: sent as is on a fresh connection
  bool half_close = false;   // raw: close the sending side after the bytes
  bool allow_close = false;  // raw: the request is incomplete, so closing without an answer is fine
  std::string bytes(std::uint16_t port) const {
    return raw.empty() ? http_request(method, target, body, headers, port) : raw;
  }
};

struct Tally {
  std::map<std::string, std::map<unsigned, std::size_t>> by_class;  // class → status → count (0: no response)
  std::vector<std::string> failures;
  std::size_t saved = 0;

  void print(const std::string& title, std::uint64_t seed) const {
    std::printf("\n[mutation] %s — seed %llu (CACHET_MUTATION_SEED=%llu reproduces)\n", title.c_str(),
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    std::size_t total = 0;
    for (const auto& [cls, statuses] : by_class) {
      std::size_t n = 0;
      std::string detail;
      for (const auto& [status, count] : statuses) {
        n += count;
        detail += " " + std::to_string(status) + ":" + std::to_string(count);
      }
      total += n;
      std::printf("[mutation]   %-24s %6zu  %s\n", cls.c_str(), n, detail.c_str());
    }
    std::printf("[mutation]   %-24s %6zu  failures: %zu\n", "total", total, failures.size());
    std::fflush(stdout);
  }
};

fs::path failure_dir() {
  const char* d = std::getenv("CACHET_MUTATION_FAILURES");
  return d && *d ? fs::path(d) : fs::current_path() / "mutation-failures";
}

void fail(Tally& tally, const std::string& test, std::uint64_t seed, std::size_t index, const Mutant& m,
          std::uint16_t port, const std::string& why) {
  std::string where;
  if (tally.saved < 50) {
    const auto dir = failure_dir();
    fs::create_directories(dir);
    const auto file = dir / (test + "-" + std::to_string(seed) + "-" + std::to_string(index) + "-" + m.cls + ".http");
    std::ofstream(file, std::ios::binary) << m.bytes(port);
    where = " (request saved in " + file.string() + ")";
    ++tally.saved;
  }
  tally.failures.push_back("#" + std::to_string(index) + " " + m.cls + ": " + why + where);
}

bool json_error_body(const RawResponse& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  return !ec && v.is_object() && v.get_object().contains("message") && v.at("message").is_string();
}

/// The pubkey a sign target names (or nullopt).
std::optional<crypto::PublicKey> target_pubkey(const std::string& target) {
  constexpr std::string_view prefix = "/api/v1/eth2/sign/";
  if (!target.starts_with(prefix)) return std::nullopt;
  auto pk = target.substr(prefix.size());
  pk = pk.substr(0, pk.find_first_of("?#"));
  auto bytes = from_hex_fixed<48>(pk);
  if (!bytes) return std::nullopt;
  return *bytes;
}

/// What any answer must be: a response, not a 5xx, a 4xx with a JSON message, else a 200 (checked further by the
/// callers). Sets `refused` for a 4xx.
std::optional<std::string> check_status(const RawResponse& r, bool& refused) {
  refused = r.status >= 400 && r.status < 500;
  if (r.status == 0) return "no response: " + r.error;
  if (r.status >= 500) return "status " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
  if (r.status >= 400) {
    if (!json_error_body(r))
      return "status " + std::to_string(r.status) + " without a JSON message: " + r.body.substr(0, 200);
    return std::nullopt;
  }
  if (r.status != 200) return "unexpected status " + std::to_string(r.status);
  return std::nullopt;
}

/// A sign answer: 4xx (with a JSON message), 412, or a 200 whose signature verifies for the body as sent.
std::optional<std::string> check_sign_answer(const Mutant& m, const RawResponse& r) {
  bool refused = false;
  if (auto problem = check_status(r, refused); problem || refused) return problem;
  auto pk = target_pubkey(m.target);
  if (!pk) return "200 for a target without a valid pubkey";
  Bytes32 root;
  try {
    root = signing_root_of(m.body);
  } catch (const std::exception& e) {
    return std::string("200, but the core library refuses the body: ") + e.what();
  }
  boost::system::error_code ec;
  auto answer = json::parse(r.body, ec);
  if (ec || !answer.is_object() || !answer.get_object().contains("signature") || !answer.at("signature").is_string())
    return "200 without a signature: " + r.body.substr(0, 200);
  auto sig = from_hex_fixed<96>(answer.at("signature").as_string());
  if (!sig) return "200 with a malformed signature";
  if (!crypto::verify(*pk, root, *sig)) return "200 with a signature that does not verify for the body's root";
  return std::nullopt;
}

/// A keymanager answer: 4xx with a JSON message, or a 200 with a JSON `data` array (GET lists, POST/DELETE items).
std::optional<std::string> check_keymanager_answer(const Mutant&, const RawResponse& r) {
  bool refused = false;
  if (auto problem = check_status(r, refused); problem || refused) return problem;
  boost::system::error_code ec;
  auto answer = json::parse(r.body, ec);
  if (ec || !answer.is_object() || !answer.get_object().contains("data") || !answer.at("data").is_array())
    return "200 without a data array: " + r.body.substr(0, 200);
  return std::nullopt;
}

/// Sends `m` and checks the answer; on a dropped keep-alive connection the request is tried once more on a new one
/// (reported either way: a drop is a failure). Returns the status (0: no response).
unsigned send_checked(RawConnection& conn, Tally& tally, const std::string& test, std::uint64_t seed, std::size_t index,
                      const Mutant& m, std::uint16_t port,
                      std::optional<std::string> (*check)(const Mutant&, const RawResponse&)) {
  RawResponse r;
  if (!m.raw.empty()) {
    RawConnection fresh(port);
    r = fresh.exchange(m.raw, 30000, m.half_close);
    tally.by_class[m.cls][r.status]++;
    bool refused = false;
    if (auto problem = check_status(r, refused); problem && !(r.status == 0 && m.allow_close))
      fail(tally, test, seed, index, m, port, *problem);
    return r.status;
  }
  r = conn.exchange(m.bytes(port), 30000);
  if (r.status == 0 && conn.reused()) {
    const auto first = r.error;
    r = conn.exchange(m.bytes(port), 30000);
    tally.by_class[m.cls][r.status]++;
    fail(tally, test, seed, index, m, port,
         "kept-alive connection dropped (" + first +
             "); on a new connection: " + (r.status ? std::to_string(r.status) : r.error));
    return 0;
  }
  tally.by_class[m.cls][r.status]++;
  if (auto problem = check(m, r)) fail(tally, test, seed, index, m, port, *problem);
  return r.status;
}

// ---- sign mutants --------------------------------------------------------------------------------------------------

std::string sign_target(const std::string& pubkey) { return "/api/v1/eth2/sign/" + pubkey; }

Mutant sign_mutant(Rng& rng, const std::vector<Vector>& vectors) {
  static const std::vector<std::string> classes = {"byte_flip",    "truncate",    "duplicate",    "wrong_type",
                                                   "drop_field",   "huge_number", "deep_nesting", "bad_hex",
                                                   "invalid_utf8", "huge_string", "empty_body",   "content_type",
                                                   "type_swap",    "bad_pubkey",  "method",       "combined"};
  const Vector& v = rng.pick(vectors);
  Mutant m;
  m.cls = "sign." + rng.pick(classes);
  m.target = sign_target(v.pubkey);
  m.headers = {{"Content-Type", "application/json"}};
  const std::string cls = m.cls.substr(5);
  if (auto body = mutate_body(cls, rng, v.body, 32)) {
    m.body = std::move(*body);
  } else if (cls == "content_type") {
    m.body = v.body;
    m.headers = content_type_headers(rng);
  } else if (cls == "type_swap") {
    std::string name = rng.pick(kTypeNames);
    if (rng.chance(0.2))
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (rng.chance(0.1)) name = "";
    m.body =
        replace_node(
            rng, v.body,
            [](const json::value& n) {
              return n.is_string() && std::ranges::find(kTypeNames, std::string(n.get_string())) != kTypeNames.end();
            },
            json_quoted(name))
            .value_or(v.body);
  } else if (cls == "bad_pubkey") {
    m.body = v.body;
    const std::vector<std::string> targets = {
        sign_target(v.pubkey.substr(0, v.pubkey.size() - 1)),
        sign_target(v.pubkey + "00"),
        sign_target(v.pubkey.substr(2)),
        sign_target("0x" + std::string(96, 'g')),
        sign_target("0x" + std::string(96, '0')),
        sign_target("0x" + std::string(96, 'f')),
        sign_target("0x" + std::string(10000, 'a')),
        sign_target(""),
        sign_target(v.pubkey + "/extra"),
        sign_target(v.pubkey + "?x=1"),
        sign_target("%30x" + v.pubkey.substr(2)),
        sign_target(
            "0xa99a76ed7796f7be22d5b7e85deeb7c5677e88e511e0b337618f8c4eb61349b4bf2d153f649f7b53359fe8b94a38e44d"),
        "/api/v1/eth2/sign",
        "/api/v1/eth2/sign/../../upcheck",
        "/api/v1/eth2/sign/" + std::string(1, '\x7f'),
    };
    m.target = rng.pick(targets);
  } else if (cls == "method") {
    m.body = v.body;
    const std::vector<std::string> methods = {"GET", "PUT", "DELETE", "PATCH", "OPTIONS"};
    m.method = rng.pick(methods);
  } else {
    m.body = combined(rng, v.body, 32);
  }
  return m;
}

// ---- keymanager mutants --------------------------------------------------------------------------------------------

struct KeymanagerBases {
  std::string token;
  std::vector<std::string> bodies;  // valid POST and DELETE bodies
};

KeymanagerBases keymanager_bases(const std::string& token) {
  auto keys = interop_keys(7);
  KeymanagerBases b{token, {}};
  auto keystore = [&](std::size_t i, const std::string& password) {
    auto secret = crypto::SecretKey::from_bytes(*from_hex(keys[i].secret_hex));
    crypto::KeystoreParams params;
    params.kdf = crypto::Kdf::Pbkdf2;
    params.pbkdf2_c = 2;
    params.derivation_path = "m/12381/3600/" + std::to_string(i) + "/0/0";
    return *crypto::encrypt_keystore(*secret, password, params);
  };
  slashing::Interchange history;
  history.genesis_validators_root = *from_hex_fixed<32>(kGenesisValidatorsRoot);
  history.data.push_back({*from_hex_fixed<48>(keys[5].pubkey_hex),
                          {{100, Bytes32{1}}, {101, std::nullopt}},
                          {{1, 2, Bytes32{2}}, {2, 3, std::nullopt}}});
  const std::string interchange = slashing::serialize_interchange(history);
  b.bodies.push_back(json::serialize(
      json::object{{"keystores", json::array{json::string(keystore(4, "pw4"))}}, {"passwords", json::array{"pw4"}}}));
  b.bodies.push_back(json::serialize(
      json::object{{"keystores", json::array{json::string(keystore(5, "pässwörd")), json::string(keystore(6, "six"))}},
                   {"passwords", json::array{"pässwörd", "six"}},
                   {"slashing_protection", interchange}}));
  b.bodies.push_back(json::serialize(
      json::object{{"pubkeys", json::array{json::string(keys[4].pubkey_hex), json::string(keys[0].pubkey_hex),
                                           json::string(keys[6].pubkey_hex)}}}));
  b.bodies.push_back(json::serialize(json::object{{"pubkeys", json::array{json::string(keys[5].pubkey_hex)}}}));
  return b;
}

/// Mutates one of the JSON documents carried as strings (a keystore or the interchange) inside a POST body.
std::string mutate_inner(Rng& rng, const std::string& body) {
  boost::system::error_code ec;
  auto root = json::parse(body, ec);
  if (ec || !root.is_object()) return body;
  std::vector<json::string*> inner;
  if (auto* ks = root.get_object().if_contains("keystores"); ks && ks->is_array())
    for (auto& k : ks->get_array())
      if (k.is_string()) inner.push_back(&k.get_string());
  if (auto* sp = root.get_object().if_contains("slashing_protection"); sp && sp->is_string())
    inner.push_back(&sp->get_string());
  if (inner.empty()) return body;
  auto* doc = inner[rng.below(inner.size())];
  const std::string text(*doc);
  static const std::vector<std::string> kinds = {"byte_flip",   "truncate", "wrong_type",   "drop_field",
                                                 "huge_number", "bad_hex",  "deep_nesting", "kdf_cost"};
  const std::string& kind = rng.pick(kinds);
  std::string mutated;
  if (kind == "kdf_cost") {  // KDF parameters at and past the caps (the import must refuse before any work)
    const std::vector<std::string> costs = {
        "262144", "262145", "4194304", "4194305", "0", "1", "3", "18446744073709551615", "1073741824", "-1", "1e9"};
    mutated = replace_node(
                  rng, text, [](const json::value& n) { return n.is_number(); }, rng.pick(costs))
                  .value_or(text);
  } else {
    mutated = *mutate_body(kind, rng, text, 32);
  }
  *doc = mutated;
  return json::serialize(root);
}

Mutant keymanager_mutant(Rng& rng, const KeymanagerBases& bases) {
  static const std::vector<std::string> classes = {
      "byte_flip",      "truncate",       "duplicate",    "wrong_type",  "drop_field", "huge_number",
      "deep_nesting",   "bad_hex",        "invalid_utf8", "huge_string", "empty_body", "content_type",
      "inner_document", "inner_document", "auth",         "method",      "valid"};
  const std::string& base = rng.pick(bases.bodies);
  Mutant m;
  m.cls = "keymanager." + rng.pick(classes);
  m.target = "/eth/v1/keystores";
  m.method = base.starts_with("{\"pubkeys\"") ? "DELETE" : "POST";
  m.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + bases.token}};
  const std::string cls = m.cls.substr(11);
  if (auto body = mutate_body(cls, rng, base, 8)) {
    m.body = std::move(*body);
  } else if (cls == "content_type") {
    m.body = base;
    auto ct = content_type_headers(rng);
    m.headers = {{"Authorization", "Bearer " + bases.token}};
    m.headers.insert(m.headers.end(), ct.begin(), ct.end());
  } else if (cls == "inner_document")
    m.body = mutate_inner(rng, base);
  else if (cls == "auth") {
    m.body = base;
    const std::vector<std::string> auths = {"",
                                            "Bearer",
                                            "Bearer ",
                                            "bearer " + bases.token,
                                            "Bearer " + bases.token + " ",
                                            "Bearer  " + bases.token,
                                            "Bearer " + bases.token.substr(1),
                                            "Bearer " + bases.token + "0",
                                            "Basic " + bases.token,
                                            "Bearer " + std::string(10000, 'a'),
                                            "Bearer \xff\xfe"};
    const auto& a = rng.pick(auths);
    m.headers = {{"Content-Type", "application/json"}};
    if (!a.empty()) m.headers.push_back({"Authorization", a});
  } else if (cls == "method") {
    m.body = base;
    const std::vector<std::string> methods = {"GET", "PUT", "PATCH", "OPTIONS"};
    m.method = rng.pick(methods);
  } else {
    m.body = base;  // the valid request itself: imports, duplicates, deletes, read-only refusals
  }
  return m;
}

// ---- malformed HTTP ------------------------------------------------------------------------------------------------

std::vector<Mutant> http_mutants(Rng& rng, const Vector& v, std::uint16_t port, std::size_t random_count) {
  const std::string host = "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  const std::string sign = "POST " + sign_target(v.pubkey) + " HTTP/1.1\r\n" + host;
  const std::string json_ct = "Content-Type: application/json\r\n";
  auto chunked = [&](const std::string& chunks) {
    return sign + json_ct + "Transfer-Encoding: chunked\r\n\r\n" + chunks;
  };
  std::vector<Mutant> out;
  auto add = [&](std::string name, std::string raw, bool half_close = false, bool allow_close = false) {
    Mutant m;
    m.cls = "http." + name;
    m.raw = std::move(raw);
    m.half_close = half_close;
    m.allow_close = allow_close;
    out.push_back(std::move(m));
  };
  add("bad_request_line", "GARBAGE\r\n\r\n");
  add("bad_request_line", "GET\r\n\r\n");
  add("bad_request_line", "GET / HTTP/9.9\r\n" + host + "\r\n");
  add("bad_request_line", "GET /upcheck HTTP/1.1 extra\r\n" + host + "\r\n");
  add("bad_request_line", "get /upcheck HTTP/1.1\r\n" + host + "\r\n");
  add("bad_request_line", "BREW /upcheck HTTP/1.1\r\n" + host + "\r\n");
  add("bad_request_line", "GET  /upcheck  HTTP/1.1\r\n" + host + "\r\n");
  add("bad_request_line", "GET /up\x01check HTTP/1.1\r\n" + host + "\r\n");
  add("bad_request_line", "GET http://evil.example/upcheck HTTP/1.1\r\n" + host + "\r\n");
  add("bad_request_line", "GET * HTTP/1.1\r\n" + host + "\r\n");
  add("bad_request_line", "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n" + host + "\r\n");
  add("bad_request_line", "GET /upcheck HTTP/1.0\r\n\r\n");  // no Host
  add("bad_request_line", "\r\n\r\n\r\n", true, true);
  add("bad_request_line", "GET /upcheck HTTP/1.1\n" + std::string("Host: 127.0.0.1\n\n"));  // bare LF
  add("bad_chunked", chunked("zz\r\n{}\r\n0\r\n\r\n"));
  add("bad_chunked", chunked("ffffffffffffffffff\r\n{}\r\n0\r\n\r\n"));
  add("bad_chunked", chunked("-1\r\n{}\r\n0\r\n\r\n"));
  add("bad_chunked", chunked("5;;;=\r\nhello\r\n0\r\n\r\n"));
  add("bad_chunked", chunked("5\r\nhelloXX0\r\n\r\n"));
  add("bad_chunked", chunked("2\r\n{}\r\n0\r\nTrailer-Without-Colon\r\n\r\n"));
  // Incomplete requests followed by end of stream (`true, true`): a 4xx or a close without an answer are both
  // fine, since the client has gone.
  add("bad_chunked", chunked("100\r\n{}\r\n0\r\n\r\n"), true, true);  // the chunk is shorter than announced
  add("bad_chunked", chunked(""), true, true);
  {
    std::string big;  // valid chunks adding up to more than the body limit
    const std::string chunk(64 << 10, 'a');
    for (std::size_t n = 0; n <= kMaxBody; n += chunk.size()) big += "10000\r\n" + chunk + "\r\n";
    add("bad_chunked", chunked(big + "0\r\n\r\n"));
  }
  add("bad_chunked", sign + json_ct + "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  add("bad_chunked", sign + json_ct + "Transfer-Encoding: gzip\r\n\r\n{}");
  add("bad_chunked", sign + json_ct + "Transfer-Encoding: chunked, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  add("bad_length", sign + json_ct + "Content-Length: -1\r\n\r\n{}");
  add("bad_length", sign + json_ct + "Content-Length: abc\r\n\r\n{}");
  add("bad_length", sign + json_ct + "Content-Length: 99999999999999999999999\r\n\r\n{}");
  add("bad_length", sign + json_ct + "Content-Length: 18446744073709551616\r\n\r\n{}");
  add("bad_length", sign + json_ct + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ");
  add("bad_length", sign + json_ct + "Content-Length: 2, 3\r\n\r\n{} ");
  add("bad_length", sign + json_ct + "Content-Length: 2000000\r\n\r\n");           // over the limit, body never sent
  add("bad_length", sign + json_ct + "Content-Length: 10\r\n\r\n{}", true, true);  // EOF before the body ends
  add("huge_headers", "GET /upcheck HTTP/1.1\r\n" + host + "X-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  add("huge_headers", "GET /upcheck HTTP/1.1\r\n" + host + "X-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n");
  {
    std::string many = "GET /upcheck HTTP/1.1\r\n" + host;
    for (int i = 0; i < 2000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
    add("huge_headers", many + "\r\n");
  }
  add("huge_headers", "GET /upcheck HTTP/1.1\r\n" + host + std::string(30000, 'X') + ": v\r\n\r\n");
  add("bad_headers", "GET /upcheck HTTP/1.1\r\n" + host + "NoColon\r\n\r\n");
  add("bad_headers", "GET /upcheck HTTP/1.1\r\n" + host + "Bad Name: v\r\n\r\n");
  add("bad_headers", "GET /upcheck HTTP/1.1\r\n" + host + "X: a\r\n b\r\n\r\n");  // obs-fold
  add("bad_headers", "GET /upcheck HTTP/1.1\r\n" + host + std::string("X: a") + std::string(1, '\0') + "b\r\n\r\n");
  add("bad_headers", "GET /upcheck HTTP/1.1\r\n" + host + "X: \xff\xfe\r\n\r\n");
  add("bad_headers", "GET /upcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n");
  add("bad_headers", "GET /upcheck HTTP/1.1\r\nHost: " + std::string(10000, 'h') + "\r\n\r\n");
  add("bad_headers", "GET /upcheck HTTP/1.1\r\n" + host, true, true);  // EOF inside the headers
  add("pipelined",
      sign + json_ct + "Content-Length: " + std::to_string(v.body.size()) + "\r\n\r\n" + v.body + "GARBAGE\r\n\r\n");
  for (std::size_t i = 0; i < random_count; ++i) {
    std::string junk;
    const std::size_t n = 1 + rng.below(512);
    for (std::size_t k = 0; k < n; ++k) junk += static_cast<char>(rng.byte());
    // After a valid start (method, target) or alone; closed with an empty line so the request is complete.
    const std::string prefix = rng.chance(0.5) ? "POST " + sign_target(v.pubkey) + " " : "";
    // Closed without an answer is allowed: Beast still waits for more when the junk ends inside the request line's
    // version (fewer than 8 bytes after the target: "POST /x G\r\n\r\n"), and then sees the end of stream.
    add("random_bytes", prefix + junk + "\r\n\r\n", true, true);
  }
  return out;
}

/// The start of a raw request with control and non-ASCII bytes escaped, for the report.
std::string printable(const std::string& raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size() && out.size() < 90; ++i) {
    const unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else
      out += static_cast<char>(c);
  }
  if (raw.size() > 60) out += "... (" + std::to_string(raw.size()) + " bytes)";
  return out;
}

// ---- the run -------------------------------------------------------------------------------------------------------

/// Signs the vector: 200 with exactly the reference signature (or 412 where `allow_refusal` and it is protected).
std::optional<std::string> check_vector(RawConnection& conn, const Vector& v, std::uint16_t port, bool allow_refusal) {
  auto r =
      conn.exchange(http_request("POST", sign_target(v.pubkey), v.body, {{"Content-Type", "application/json"}}, port));
  if (r.status == 412 && allow_refusal && kProtectedTypes.contains(v.type)) return std::nullopt;
  if (r.status != 200)
    return v.type + ": status " + std::to_string(r.status) + " " + r.error + " " + r.body.substr(0, 200);
  boost::system::error_code ec;
  auto answer = json::parse(r.body, ec);
  if (ec || !answer.is_object() || !answer.get_object().contains("signature")) return v.type + ": no signature";
  if (answer.at("signature").as_string() != v.signature) return v.type + ": wrong signature";
  return std::nullopt;
}

/// Signs unprotected vectors in a loop while the mutants run; every answer must be 200 with the reference signature.
class Canary {
 public:
  Canary(std::uint16_t port, const std::vector<Vector>& vectors) {
    for (const auto& v : vectors)
      if (!kProtectedTypes.contains(v.type)) vectors_.push_back(v);
    thread_ = std::thread([this, port] {
      RawConnection conn(port);
      for (std::size_t i = 0; !stop_; ++i) {
        if (auto problem = check_vector(conn, vectors_[i % vectors_.size()], port, false)) {
          std::lock_guard lock(mutex_);
          problems_.push_back(*problem);
        }
        ++signed_;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  ~Canary() { finish(); }
  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t count() const { return signed_; }
  std::vector<std::string> problems() {
    std::lock_guard lock(mutex_);
    return problems_;
  }

 private:
  std::vector<Vector> vectors_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> signed_{0};
  std::mutex mutex_;
  std::vector<std::string> problems_;
  std::thread thread_;
};

std::string token_of(const fs::path& data_dir) {
  auto t = read_file(data_dir / "api-token.txt");
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

void expect_no_failures(const Tally& tally) {
  std::string all;
  for (std::size_t i = 0; i < tally.failures.size() && i < 40; ++i) all += "  " + tally.failures[i] + "\n";
  EXPECT_TRUE(tally.failures.empty()) << tally.failures.size() << " bad answers:\n" << all;
}

bool alive(const SignerProcess& signer) { return ::kill(signer.pid(), 0) == 0; }

struct Signer {
  TempDir dir;
  fs::path data;
  std::unique_ptr<SignerProcess> process;
  explicit Signer(bool protection) {
    auto [k, p] = write_keystores(dir.path(), interop_keys(4));
    data = dir.path() / "data";
    fs::create_directories(data);
    std::vector<std::string> args = {
        "--network", "mainnet",    "--keystores-path", k.string(), "--keystores-passwords-path",
        p.string(),  "--data-dir", data.string()};
    if (!protection) args.push_back("--slashing-protection-enabled=false");
    process = std::make_unique<SignerProcess>(args);
  }
};

/// Stops the canary, prints the counts, fails on any bad answer, then checks that the same process still signs every
/// reference vector exactly (protected types may be refused with 412 when `allow_refusal`).
void finish_run(const std::string& title, std::uint64_t seed, const Tally& tally, Canary& canary,
                std::chrono::steady_clock::time_point started, const std::string& details, const SignerProcess& signer,
                const std::vector<Vector>& vectors, bool allow_refusal) {
  canary.finish();
  tally.print(title, seed);
  std::printf("%s", details.c_str());
  std::printf("[mutation]   canary signed %zu unprotected vectors alongside; %.1f s\n", canary.count(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  std::fflush(stdout);
  expect_no_failures(tally);
  for (const auto& p : canary.problems()) ADD_FAILURE() << "canary: " << p;

  ASSERT_TRUE(alive(signer)) << signer.log();
  RawConnection after(signer.port());
  for (const auto& v : vectors) {
    auto problem = check_vector(after, v, signer.port(), allow_refusal);
    EXPECT_FALSE(problem) << "after the mutants: " << *problem;
  }
}

TEST(Mutation, SignKeymanagerAndHttpWithSlashingProtection) {
  const auto seed = seed_from_env();
  Rng rng(seed);
  const auto vectors = load_vectors();
  Signer signer(true);
  ASSERT_TRUE(signer.process->ready()) << signer.process->log();
  const auto port = signer.process->port();
  const auto started = std::chrono::steady_clock::now();

  // The vectors once before (records history; some are slashable against each other, so 412 is allowed for
  // those), then the canary alongside everything.
  RawConnection conn(port);
  for (const auto& v : vectors) {
    auto problem = check_vector(conn, v, port, true);
    ASSERT_FALSE(problem) << "before any mutant: " << *problem;
  }
  Canary canary(port, vectors);

  Tally tally;
  std::size_t index = 0;
  for (std::size_t i = 0; i < scaled(4000); ++i, ++index)
    send_checked(conn, tally, "protected", seed, index, sign_mutant(rng, vectors), port, check_sign_answer);

  const auto bases = keymanager_bases(token_of(signer.data));
  for (std::size_t i = 0; i < scaled(1000); ++i, ++index)
    send_checked(conn, tally, "protected", seed, index, keymanager_mutant(rng, bases), port, check_keymanager_answer);

  std::string http_answers;
  for (const auto& m : http_mutants(rng, rng.pick(vectors), port, scaled(200))) {
    const auto status = send_checked(conn, tally, "protected", seed, index++, m, port, check_sign_answer);
    if (m.cls != "http.random_bytes")
      http_answers +=
          "[mutation]     " + std::to_string(status) + "  " + m.cls.substr(5) + "  " + printable(m.raw) + "\n";
  }

  finish_run("sign + keymanager + HTTP mutants, slashing protection on", seed, tally, canary, started,
             "[mutation]   malformed HTTP, case by case (status, class, start of the request):\n" + http_answers,
             *signer.process, vectors, true);
}

TEST(Mutation, SignWithoutSlashingProtectionThenEveryVectorExactly) {
  const auto seed = seed_from_env() ^ 0x9e3779b97f4a7c15ULL;
  Rng rng(seed);
  const auto vectors = load_vectors();
  Signer signer(false);
  ASSERT_TRUE(signer.process->ready()) << signer.process->log();
  const auto port = signer.process->port();
  const auto started = std::chrono::steady_clock::now();

  Canary canary(port, vectors);
  RawConnection conn(port);
  Tally tally;
  for (std::size_t i = 0; i < scaled(2000); ++i)
    send_checked(conn, tally, "unprotected", seed, i, sign_mutant(rng, vectors), port, check_sign_answer);
  finish_run("sign mutants, slashing protection off", seed, tally, canary, started, "", *signer.process, vectors,
             false);
}

}  // namespace
