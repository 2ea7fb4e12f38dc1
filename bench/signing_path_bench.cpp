// Google Benchmark micro benchmarks of the signing path, per request type, with the requests of
// test/reference/vectors_mainnet.json (one per type, and per fork version for the *_V2 types):
//   full/TYPE         JSON text -> boost::json::parse -> eth::parse_signing_request (SSZ root, domain) -> sign
//   parse_root/TYPE   the same without the signature: what the signer adds to raw blst per request
//   json_parse/TYPE   boost::json::parse alone (the part of parse_root that is not SSZ)
//   sign, hash_to_g2, sign_prehashed, sign_cached_root: the BLS part alone (independent of the type)
// Every selected vector is checked first (root and signature must match the reference), so the numbers are for the
// path that gives right answers.
//   cachet-bench-micro                              (min time 0.05 s per benchmark unless given)
//   cachet-bench-micro --benchmark_filter=parse_root
//   cachet-bench-micro --vectors FILE --keys FILE   (defaults: the repo's test/reference files)
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/crypto/hashed_message_cache.hpp>
#include <cachet/eth/network.hpp>
#include <cachet/eth/signing_request.hpp>
#include <cachet/util/bytes.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace cachet;

constexpr unsigned kMaxJsonDepth = 32;  // as the server parses sign requests

boost::json::value parse_body(std::string_view body) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  return boost::json::parse(body, {}, options);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Case {
  std::string name;  // TYPE or TYPE/VERSION
  std::string body;  // the request as the server receives it
  Bytes32 root{};
  const crypto::SecretKey* key = nullptr;
};

struct Fixture {
  eth::NetworkConfig network;
  std::map<std::string, crypto::SecretKey> keys;  // by 0x pubkey
  std::vector<Case> cases;
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void fail(const std::string& what) {
  std::fprintf(stderr, "cachet-bench-micro: %s\n", what.c_str());
  std::exit(1);
}

// Reads the vectors and keys, keeps one request per type (per version for *_V2) and checks each against the
// reference root and signature.
void load(const std::string& vectors_path, const std::string& keys_path) {
  auto& f = fixture();
  auto network = eth::load_network("mainnet");
  if (!network) fail(network.error());
  f.network = std::move(*network);

  const auto keys_json = parse_body(read_file(keys_path));
  for (const auto& k : keys_json.at("keys").as_array()) {
    auto bytes = from_hex_fixed<32>(k.at("privkey").as_string());
    if (!bytes) fail("keys: " + bytes.error());
    auto sk = crypto::SecretKey::from_bytes(*bytes);
    if (!sk) fail("keys: " + sk.error());
    f.keys.emplace(std::string(k.at("pubkey").as_string()), std::move(*sk));
  }

  std::map<std::string, bool> seen;
  const auto vectors = parse_body(read_file(vectors_path));
  for (const auto& v : vectors.as_array()) {
    const auto& request = v.at("request").as_object();
    std::string name(request.at("type").as_string());
    for (const char* holder : {"beacon_block", "aggregate_and_proof"}) {
      if (name.ends_with("_V2") && request.contains(holder) && request.at(holder).as_object().contains("version"))
        name += "/" + std::string(request.at(holder).at("version").as_string());
    }
    if (seen[name]) continue;
    seen[name] = true;

    Case c;
    c.name = name;
    c.body = boost::json::serialize(request);
    auto parsed = eth::parse_signing_request(parse_body(c.body), f.network);
    if (!parsed) fail(name + ": " + parsed.error().message);
    c.root = parsed->signing_root;
    if (to_hex(c.root) != v.at("signing_root").as_string()) fail(name + ": signing root differs from the reference");
    auto key = f.keys.find(std::string(v.at("pubkey").as_string()));
    if (key == f.keys.end()) fail(name + ": no secret key for the vector's pubkey");
    c.key = &key->second;
    if (to_hex(c.key->sign(c.root)) != v.at("signature").as_string())
      fail(name + ": signature differs from the reference");
    f.cases.push_back(std::move(c));
  }
}

void full(benchmark::State& state, const Case* c) {
  const auto& network = fixture().network;
  for (auto _ : state) {
    auto parsed = eth::parse_signing_request(parse_body(c->body), network);
    auto signature = c->key->sign(parsed->signing_root);
    benchmark::DoNotOptimize(signature);
  }
  state.SetItemsProcessed(state.iterations());
}

void parse_root(benchmark::State& state, const Case* c) {
  const auto& network = fixture().network;
  for (auto _ : state) {
    auto parsed = eth::parse_signing_request(parse_body(c->body), network);
    benchmark::DoNotOptimize(parsed->signing_root);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c->body.size()));
}

void json_parse(benchmark::State& state, const Case* c) {
  for (auto _ : state) {
    auto json = parse_body(c->body);
    benchmark::DoNotOptimize(json);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * c->body.size()));
}

const Case& any_case() { return fixture().cases.front(); }

void sign(benchmark::State& state) {
  const auto& c = any_case();
  for (auto _ : state) benchmark::DoNotOptimize(c.key->sign(c.root));
  state.SetItemsProcessed(state.iterations());
}

void hash_to_g2(benchmark::State& state) {
  const auto& c = any_case();
  for (auto _ : state) benchmark::DoNotOptimize(crypto::hash_to_g2(c.root));
  state.SetItemsProcessed(state.iterations());
}

void sign_prehashed(benchmark::State& state) {
  const auto& c = any_case();
  const auto hashed = crypto::hash_to_g2(c.root);
  for (auto _ : state) benchmark::DoNotOptimize(c.key->sign(hashed));
  state.SetItemsProcessed(state.iterations());
}

// The shared-root path as the server runs it: a cache hit, then the scalar multiplication.
void sign_cached_root(benchmark::State& state) {
  const auto& c = any_case();
  crypto::HashedMessageCache cache;
  cache.get(c.root);
  for (auto _ : state) benchmark::DoNotOptimize(c.key->sign(cache.get(c.root)));
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  std::string vectors = CACHET_VECTORS_DIR "/vectors_mainnet.json";
  std::string keys = CACHET_VECTORS_DIR "/keys.json";
  // Our own flags and a small default --benchmark_min_time; everything else goes to Google Benchmark.
  std::vector<char*> args{argv[0]};
  bool min_time_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--vectors" && i + 1 < argc) {
      vectors = argv[++i];
    } else if (a == "--keys" && i + 1 < argc) {
      keys = argv[++i];
    } else {
      min_time_given |= a.starts_with("--benchmark_min_time");
      args.push_back(argv[i]);
    }
  }
  std::string min_time = "--benchmark_min_time=0.05";
  if (!min_time_given) args.push_back(min_time.data());
  int n = static_cast<int>(args.size());

  try {
    load(vectors, keys);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  for (const auto& c : fixture().cases) benchmark::RegisterBenchmark(("full/" + c.name).c_str(), full, &c);
  for (const auto& c : fixture().cases) benchmark::RegisterBenchmark(("parse_root/" + c.name).c_str(), parse_root, &c);
  for (const auto& c : fixture().cases) benchmark::RegisterBenchmark(("json_parse/" + c.name).c_str(), json_parse, &c);
  benchmark::RegisterBenchmark("sign", sign);
  benchmark::RegisterBenchmark("hash_to_g2", hash_to_g2);
  benchmark::RegisterBenchmark("sign_prehashed", sign_prehashed);
  benchmark::RegisterBenchmark("sign_cached_root", sign_cached_root);

  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
