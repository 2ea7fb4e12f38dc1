// The Grafana dashboard (docs/grafana/cachet.json) and the Prometheus alert rules (docs/prometheus/cachet-alerts.yml)
// against a real signer: every cachet_* and process_* metric their PromQL names is in a scrape of a signer that has
// signed, refused a slashable block and turned requests away at both listeners; the dashboard's queries parse
// (promtool); and the counters behind the new panels move: listener refusals (with a request id on the answer),
// hash-to-curve cache hits and misses, slashing protection commits and batch sizes.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/raw_http.hpp"
#include "support/requests.hpp"
#include "support/signer_process.hpp"

using namespace cachet::test;
namespace json = boost::json;

namespace {

const std::filesystem::path kDashboard = std::filesystem::path(CACHET_SOURCE_DIR) / "docs/grafana/cachet.json";
const std::filesystem::path kAlertRules =
    std::filesystem::path(CACHET_SOURCE_DIR) / "docs/prometheus/cachet-alerts.yml";

/// Every sample of a scrape: `name{labels}` (or `name`) → value.
std::map<std::string, double> samples_of(const std::string& exposition) {
  std::map<std::string, double> out;
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::set<std::string> metric_names(const std::map<std::string, double>& samples) {
  std::set<std::string> names;
  for (const auto& [series, value] : samples) names.insert(series.substr(0, series.find('{')));
  return names;
}

/// The cachet_* and process_* identifiers in PromQL (or any) text.
std::set<std::string> referenced_metrics(const std::string& text) {
  static const std::regex identifier(R"((^|[^A-Za-z0-9_:])((cachet|process)_[A-Za-z0-9_]+))");
  std::set<std::string> names;
  for (std::sregex_iterator it(text.begin(), text.end(), identifier), end; it != end; ++it) names.insert((*it)[2]);
  return names;
}

/// Every "expr" string of the dashboard's panels, at any depth.
void collect_exprs(const json::value& v, std::vector<std::string>& out) {
  if (const auto* o = v.if_object()) {
    for (const auto& [key, value] : *o) {
      if (key == "expr" && value.is_string()) out.emplace_back(value.as_string());
      collect_exprs(value, out);
    }
  } else if (const auto* a = v.if_array()) {
    for (const auto& e : *a) collect_exprs(e, out);
  }
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

int run_promtool(const std::string& args, const std::filesystem::path& output) {
  const std::string command = "promtool " + args + " > " + output.string() + " 2>&1";
  return std::system(command.c_str());
}

}  // namespace

TEST(Observability, DashboardAndAlertRulesNameOnlyMetricsTheSignerExports) {
  TempDir dir;
  auto keys = interop_keys(2);
  SignerProcess signer(keystore_flags(dir.path(), keys));
  ASSERT_TRUE(signer.ready()) << signer.log();

  HttpClient api(signer.port());
  const auto sign = [&](std::size_t key, const std::string& body) {
    return api.post("/api/v1/eth2/sign/" + keys[key].pubkey_hex, body).status;
  };
  // One RANDAO root for both keys and once more: the first hashes it, the others find it in the cache.
  for (std::size_t key : {0, 1, 0}) ASSERT_EQ(sign(key, randao_request(7)), 200u);
  ASSERT_EQ(sign(0, block_request(100, 1)), 200u);
  ASSERT_EQ(sign(0, block_request(100, 2)), 412u);  // a double proposal, refused in its own transaction

  // The listeners' own refusals: a Host not allowed (both listeners), headers and a body over the limits, garbage.
  RawConnection bad_host(signer.port());
  const auto forbidden = bad_host.exchange("GET /upcheck HTTP/1.1\r\nHost: evil.example\r\n\r\n");
  ASSERT_EQ(forbidden.status, 403u) << forbidden.error;
  const auto id = forbidden.headers.count("x-request-id") ? forbidden.headers.at("x-request-id") : std::string();
  EXPECT_EQ(id.size(), 16u) << "the listener's refusal carries a request id";
  EXPECT_NE(forbidden.body.find("\"request_id\":\"" + id + "\""), std::string::npos) << forbidden.body;
  RawConnection big_headers(signer.port());
  const auto too_large = big_headers.exchange(
      "GET /upcheck HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(20000, 'a') + "\r\n\r\n");
  ASSERT_EQ(too_large.status, 431u) << too_large.error;
  EXPECT_EQ(too_large.headers.count("x-request-id"), 1u);
  RawConnection big_body(signer.port());
  const auto over_limit = big_body.exchange("POST /api/v1/eth2/sign/" + keys[0].pubkey_hex +
                                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                            "Content-Length: 2000000\r\n\r\n");
  ASSERT_EQ(over_limit.status, 413u) << over_limit.error;
  RawConnection garbage(signer.port());
  ASSERT_EQ(garbage.exchange("NOT HTTP AT ALL\r\n\r\n").status, 400u);
  RawConnection metrics_bad_host(signer.metrics_port());
  ASSERT_EQ(metrics_bad_host.exchange("GET /metrics HTTP/1.1\r\nHost: evil.example\r\n\r\n").status, 403u);

  const auto scrape = HttpClient(signer.metrics_port()).get("/metrics");
  ASSERT_EQ(scrape.status, 200u);
  const auto samples = samples_of(scrape.body);
  const auto exported = metric_names(samples);

  // The dashboard: every metric its queries name is exported, and every query parses.
  json::value dashboard = read_json(kDashboard);
  EXPECT_EQ(dashboard.at("schemaVersion").as_int64(), 38);
  std::vector<std::string> exprs;
  collect_exprs(dashboard, exprs);
  ASSERT_GE(exprs.size(), 20u);
  std::set<std::string> dashboard_metrics;
  for (const auto& e : exprs) dashboard_metrics.merge(referenced_metrics(e));
  for (const char* panel_metric :
       {"cachet_signing_requests_total", "cachet_slashing_protection_commit_duration_seconds_bucket",
        "cachet_slashing_protection_batch_size_bucket", "cachet_hash_to_curve_cache_hits_total",
        "cachet_http_listener_refusals_total", "cachet_slashing_protection_database_up",
        "process_resident_memory_bytes", "process_cpu_seconds_total"})
    EXPECT_TRUE(dashboard_metrics.contains(panel_metric)) << panel_metric;
  for (const auto& name : dashboard_metrics)
    EXPECT_TRUE(exported.contains(name)) << "the dashboard queries " << name << ", which the signer does not export";
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  for (std::size_t i = 0; i < exprs.size(); ++i) {
    // Grafana's variables as Prometheus would see them once substituted.
    auto e = replace_all(replace_all(exprs[i], "$__rate_interval", "5m"), "$instance", ".*");
    json::string quoted(e);
    rules +=
        "      - record: dashboard:query" + std::to_string(i) + "\n        expr: " + json::serialize(quoted) + "\n";
  }
  write_file(dir.path() / "dashboard-rules.yml", rules);
  EXPECT_EQ(run_promtool("check rules " + (dir.path() / "dashboard-rules.yml").string(), dir.path() / "promtool.out"),
            0)
      << read_file(dir.path() / "promtool.out");

  // The alert rules (their own syntax and behaviour: promtool check/test rules, registered separately).
  const auto alert_metrics = referenced_metrics(read_file(kAlertRules));
  for (const char* rule_metric : {"cachet_slashing_protection_database_up", "cachet_slashing_protection_refusals_total",
                                  "cachet_http_requests_total", "cachet_http_request_duration_seconds_bucket",
                                  "cachet_key_load_failures_total", "cachet_signing_requests_shed_total"})
    EXPECT_TRUE(alert_metrics.contains(rule_metric)) << rule_metric;
  for (const auto& name : alert_metrics)
    EXPECT_TRUE(exported.contains(name)) << "an alert rule uses " << name << ", which the signer does not export";

  // The counters behind the new panels moved.
  const auto value = [&](const std::string& series) {
    const auto it = samples.find(series);
    EXPECT_NE(it, samples.end()) << series;
    return it == samples.end() ? -1.0 : it->second;
  };
  EXPECT_EQ(value(R"(cachet_http_listener_refusals_total{listener="api",code="403",reason="host_not_allowed"})"), 1);
  EXPECT_EQ(value(R"(cachet_http_listener_refusals_total{listener="api",code="431",reason="headers_too_large"})"), 1);
  EXPECT_EQ(value(R"(cachet_http_listener_refusals_total{listener="metrics",code="403",reason="host_not_allowed"})"),
            1);
  EXPECT_EQ(value(R"(cachet_http_listener_refusals_total{listener="api",code="413",reason="body_too_large"})"), 1);
  EXPECT_EQ(value(R"(cachet_http_listener_refusals_total{listener="api",code="400",reason="malformed"})"), 1);
  EXPECT_EQ(value(R"(cachet_http_listener_refusals_total{listener="api",code="408",reason="timeout"})"), 0);
  EXPECT_GE(value("cachet_hash_to_curve_cache_hits_total"), 2);  // the RANDAO root, twice
  // The RANDAO root and the first block's (the refused one is hashed only when its refusal comes late).
  EXPECT_GE(value("cachet_hash_to_curve_cache_misses_total"), 2);
  EXPECT_EQ(value("cachet_slashing_protection_database_up"), 1);
  EXPECT_EQ(value("cachet_slashing_protection_commit_duration_seconds_count"), 2);  // one transaction per block
  EXPECT_GT(value("cachet_slashing_protection_commit_duration_seconds_sum"), 0);
  EXPECT_EQ(value("cachet_slashing_protection_batch_size_sum"), 2);
  EXPECT_EQ(value(R"(cachet_slashing_protection_batch_size_bucket{le="1"})"), 2);

  write_file(dir.path() / "metrics.txt", scrape.body);
  EXPECT_EQ(run_promtool("check metrics < " + (dir.path() / "metrics.txt").string(), dir.path() / "promtool.out"), 0)
      << read_file(dir.path() / "promtool.out");
}
