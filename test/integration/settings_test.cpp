// Settings from a TOML config file and CACHET_* environment variables, against the real binary: the layers'
// precedence (command line > environment > file > default), errors that name the key and the layer, --print-config,
// and a signer configured by its file alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <regex>
#include <sstream>

#include "support/fixtures.hpp"
#include "support/http_client.hpp"
#include "support/signer_process.hpp"

using namespace cachet;
using namespace cachet::test;
namespace json = boost::json;

namespace {

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::ranges::count(text, '\n')); }

// --print-config's lines by key: "value  # source" (commented-out keys that are not set are left out).
std::map<std::string, std::string> printed(const std::string& output) {
  std::map<std::string, std::string> settings;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find(" = ");
    if (line.starts_with("#") || eq == std::string::npos) continue;
    auto rest = line.substr(eq + 3);
    const auto hash = rest.rfind("# ");
    const auto value = rest.substr(0, rest.find_last_not_of(' ', hash - 1) + 1);
    settings[line.substr(0, eq)] = value + " | " + rest.substr(hash + 2);
  }
  return settings;
}

TEST(Settings, CommandLineBeatsEnvironmentBeatsFileBeatsDefault) {
  TempDir dir;
  const auto file = (dir.path() / "cachet.toml").string();
  write_file(file,
             "# comments, quoted strings and blank lines are TOML\n"
             "\n"
             "max-connections = 100\n"
             "max-connections-per-ip = 10  # inline comment\n"
             "idle-timeout-seconds = 77\n"
             "network = \"minimal\"\n"
             "key-cache-enabled = false\n");
  const auto r = run_cachet({"--config-file", file, "--max-connections", "300", "--print-config"},
                            {{"CACHET_MAX_CONNECTIONS", "200"}, {"CACHET_MAX_CONNECTIONS_PER_IP", "20"}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto settings = printed(r.output);
  EXPECT_EQ(settings.at("max-connections"), "300 | command line");
  EXPECT_EQ(settings.at("max-connections-per-ip"), "20 | env CACHET_MAX_CONNECTIONS_PER_IP");
  EXPECT_EQ(settings.at("idle-timeout-seconds"), "77 | file " + file);
  EXPECT_EQ(settings.at("network"), "\"minimal\" | file " + file);
  EXPECT_EQ(settings.at("key-cache-enabled"), "false | file " + file);
  EXPECT_EQ(settings.at("request-timeout-seconds"), "30 | default");
  EXPECT_EQ(settings.at("slashing-protection-enabled"), "true | default");
  // Every signer flag is printed, one line each, with its source.
  EXPECT_GE(lines(r.output), 35u) << r.output;
  const std::regex line_format(
      R"(^(# )?[a-z0-9-]+( = .*| \(not set\)) +# (default|file .+|env CACHET_[A-Z0-9_]+|command line)$)");
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) EXPECT_TRUE(std::regex_match(line, line_format)) << line;
  EXPECT_NE(r.output.find("# data-dir (not set)"), std::string::npos) << r.output;
}

TEST(Settings, UnknownKeyInTheFileExitsTwoNamingKeyAndFile) {
  TempDir dir;
  const auto file = (dir.path() / "cachet.toml").string();
  write_file(file, "port = 9000\nslashing-protection-db-ulr = \"sqlite:/tmp/x\"\n");
  const auto r = run_cachet({"--config-file", file, "--print-config"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(lines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("slashing-protection-db-ulr"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(file), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("line 2"), std::string::npos) << r.output;
}

TEST(Settings, BadValuesExitTwoNamingTheirSource) {
  TempDir dir;
  const auto file = (dir.path() / "cachet.toml").string();
  struct Case {
    std::string toml;
    Environment env;
    std::vector<std::string> names;  // what the one line must name
  };
  for (const auto& c : std::vector<Case>{
           {"", {{"CACHET_PORT", "70000"}}, {"CACHET_PORT", "port"}},
           {"", {{"CACHET_KEYMANAGER_API_ENABLED", "maybe"}}, {"CACHET_KEYMANAGER_API_ENABLED"}},
           {"", {{"CACHET_WORKERS", ""}}, {"CACHET_WORKERS", "workers"}},
           {"metrics-port = -1\n", {}, {file, "metrics-port"}},
           {"workers = \"0x10\"\n", {}, {file, "workers"}},
           {"idle-timeout-seconds = 1.5\n", {}, {file, "idle-timeout-seconds", "line 1"}},
           {"port = [1, 2]\n", {}, {file, "port"}},
           {"[server]\nport = 1\n", {}, {file, "server"}},
           {"port = 9000\nport = 9001\n", {}, {file, "line 2"}},           // TOML: a key once
           {"network = \"mainnet\n", {}, {file, "line 1"}},                // TOML syntax
           {"port = \"x\"\n", {{"CACHET_PORT", "9000"}}, {file, "port"}},  // a bad value fails even where it loses
       }) {
    write_file(file, c.toml);
    const auto r = run_cachet({"--config-file", file, "--print-config"}, c.env);
    EXPECT_EQ(r.exit_code, 2) << c.toml << r.output;
    EXPECT_EQ(lines(r.output), 1u) << c.toml << r.output;
    for (const auto& name : c.names) EXPECT_NE(r.output.find(name), std::string::npos) << name << ": " << r.output;
  }
  // The command line's own errors still name the flag, and a missing file names the file.
  const auto bad_flag = run_cachet({"--port", "70000"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_NE(bad_flag.output.find("--port"), std::string::npos) << bad_flag.output;
  const auto missing = run_cachet({"--config-file", file + ".missing"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find(file + ".missing"), std::string::npos) << missing.output;
}

TEST(Settings, PrintConfigRedactsThePostgresPasswordAndStartsNothing) {
  TempDir dir;
  const auto file = (dir.path() / "cachet.toml").string();
  // Port 1 on loopback: were anything started, the connection would fail and the exit code would not be 0.
  write_file(file, "slashing-protection-db-url = \"postgresql://signer:s3cr#t@127.0.0.1:1/slashing\"\n");
  auto r = run_cachet({"--config-file", file, "--print-config"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("s3cr#t"), std::string::npos) << r.output;
  EXPECT_EQ(printed(r.output).at("slashing-protection-db-url"),
            "\"postgresql://signer:***@127.0.0.1:1/slashing\" | file " + file);
  EXPECT_EQ(r.output.find("listening"), std::string::npos) << r.output;

  r = run_cachet({"--print-config"}, {{"CACHET_SLASHING_PROTECTION_DB_URL", "postgresql://u:hunter2@127.0.0.1:1/d"}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("hunter2"), std::string::npos) << r.output;
  EXPECT_EQ(printed(r.output).at("slashing-protection-db-url"),
            "\"postgresql://u:***@127.0.0.1:1/d\" | env CACHET_SLASHING_PROTECTION_DB_URL");
}

// The file alone configures a signer that serves: ports, data directory, keystores.
TEST(Settings, SignerStartedFromItsConfigFileServesOnTheConfiguredPort) {
  TempDir dir;
  const auto keys = interop_keys(2);
  const auto [keystores, passwords] = write_keystores(dir.path(), keys);
  const auto port = free_port();
  const auto metrics_port = free_port();
  const auto file = (dir.path() / "cachet.toml").string();
  write_file(file, "port = " + std::to_string(port) + "\nmetrics-port = " + std::to_string(metrics_port) +
                       "\ndata-dir = \"" + (dir.path() / "data").string() + "\"\nkeystores-path = \"" +
                       keystores.string() + "\"\nkeystores-passwords-path = \"" + passwords.string() +
                       "\"\nkey-cache-scrypt-n = 1024\n");
  SignerProcess signer({"--config-file", file}, {}, port);
  ASSERT_TRUE(signer.ready()) << signer.log();
  HttpClient client(port);
  EXPECT_EQ(json::parse(client.get("/api/v1/eth2/publicKeys").body).as_array().size(), 2u);
  EXPECT_EQ(HttpClient(metrics_port).get("/metrics").status, 200u);
  EXPECT_EQ(signer.stop(), 0) << signer.log();
}

// The environment beats the file in a running signer too (not only in --print-config).
TEST(Settings, EnvironmentPortBeatsTheFilesInARunningSigner) {
  TempDir dir;
  const auto file_port = free_port();
  const auto env_port = free_port();
  const auto file = (dir.path() / "cachet.toml").string();
  write_file(file, "port = " + std::to_string(file_port) + "\nmetrics-port = 0\ndata-dir = \"" +
                       (dir.path() / "data").string() + "\"\nkey-cache-scrypt-n = 1024\n");
  SignerProcess signer({}, {{"CACHET_CONFIG_FILE", file}, {"CACHET_PORT", std::to_string(env_port)}}, env_port);
  ASSERT_TRUE(signer.ready()) << signer.log();
  EXPECT_EQ(HttpClient(file_port).get("/upcheck").status, 0u) << "nothing listens on the file's port";
}

}  // namespace

namespace {

// The Debian package's /etc/cachet/cachet.toml: it reads as it is, and every commented-out `# key = value` example
// in it reads on its own (an example that names no setting, or a wrong value, would fail its reader).
TEST(Settings, PackagedConfigAndEachOfItsExamplesRead) {
  const auto packaged = std::string(CACHET_SOURCE_DIR) + "/packaging/cachet.toml";
  auto r = run_cachet({"--config-file", packaged, "--print-config"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(printed(r.output).at("port"), "9000 | file " + packaged);
  EXPECT_EQ(printed(r.output).at("data-dir"), "\"/var/lib/cachet\" | file " + packaged);

  TempDir dir;
  const auto file = (dir.path() / "example.toml").string();
  std::istringstream in(read_file(packaged));
  std::size_t examples = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("# ") || line.find(" = ") == std::string::npos || line.find(' ', 2) != line.find(" = "))
      continue;
    write_file(file, line.substr(2) + "\n");
    r = run_cachet({"--config-file", file, "--print-config"});
    EXPECT_EQ(r.exit_code, 0) << line << ": " << r.output;
    ++examples;
  }
  EXPECT_GE(examples, 25u);
}

}  // namespace
