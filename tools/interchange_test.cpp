// `cachet-interchange-test`: runs EIP-3076 interchange test files (the public format of
// eth-clients/slashing-protection-interchange-tests) against the slashing-protection core, each file twice: as
// written (expecting should_succeed_complete) and with every interchange minified (expecting an outcome between
// should_succeed and should_succeed_complete). See test/slashing_interchange/README.md.
#include <libpq-fe.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/interchange_runner/runner.hpp"

namespace {

namespace fs = std::filesystem;
using namespace cachet;
using interchange_test::Mode;

constexpr std::string_view kUrlHelp =
    "Database for each run (every file is run twice, on a new empty database each time).\n"
    "  (not given)    a new SQLite file in a new directory under $TMPDIR (or /tmp), removed afterwards\n"
    "  sqlite:DIR/    the same, in a new directory inside DIR (a URL ending in '/')\n"
    "  postgresql://… a new schema in that database for each run (search_path set through the URL), dropped\n"
    "                 afterwards (postgres:// too)\n"
    "  URL with {n}   any URL, {n} replaced by a token unique to each run (e.g. sqlite:/var/tmp/t-{n}.db);\n"
    "                 the database must start empty (checked)\n"
    "  any other URL  passed to SlashingProtection::open as is for every run; it must be empty at the start\n"
    "                 of each run (checked), so it suits a single run (one file, one --mode)";

// A database for one run, and how to clean it up.
struct RunDb {
  std::string url;
  fs::path directory;  // ours to remove; empty when the URL is not ours
  bool check_empty = false;
  std::string postgres_schema;  // ours to drop (in postgres_url)
  std::string postgres_url;
};

bool is_postgres(std::string_view url) { return url.starts_with("postgresql://") || url.starts_with("postgres://"); }

// Runs one statement on `url` (blocking libpq: a test tool).
std::expected<void, std::string> postgres_exec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  std::expected<void, std::string> out;
  if (PQstatus(c) != CONNECTION_OK) {
    out = std::unexpected(std::string(PQerrorMessage(c)));
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) out = std::unexpected(std::string(PQresultErrorMessage(r)));
    PQclear(r);
  }
  PQfinish(c);
  return out;
}

class DbSource {
 public:
  explicit DbSource(std::string url) : url_(std::move(url)) {}

  std::expected<RunDb, std::string> next() {
    const std::string token = std::to_string(::getpid()) + "-" + std::to_string(++runs_);
    if (url_.empty()) return fresh_directory(fs::temp_directory_path());
    if (url_.starts_with("sqlite:") && url_.ends_with("/")) return fresh_directory(url_.substr(7));
    if (is_postgres(url_) && url_.find("{n}") == std::string::npos) {
      const std::string schema = "cachet_interchange_" + std::to_string(::getpid()) + "_" + std::to_string(runs_);
      if (auto r = postgres_exec(url_, "CREATE SCHEMA " + schema); !r)
        return std::unexpected("cannot create schema " + schema + ": " + r.error());
      const std::string url =
          url_ + (url_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
      return RunDb{url, {}, true, schema, url_};
    }
    if (auto at = url_.find("{n}"); at != std::string::npos) {
      std::string url = url_;
      for (; at != std::string::npos; at = url.find("{n}", at + token.size())) url.replace(at, 3, token);
      return RunDb{url, {}, true};
    }
    return RunDb{url_, {}, true};
  }

 private:
  static std::expected<RunDb, std::string> fresh_directory(const fs::path& parent) {
    std::string pattern = (parent / "cachet-interchange-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) return std::unexpected("cannot create a directory in " + parent.string());
    fs::path dir = pattern;
    return RunDb{"sqlite:" + (dir / "protection.sqlite").string(), dir, false};
  }

  std::string url_;
  unsigned runs_ = 0;
};

std::expected<std::string, std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected("cannot open");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::unexpected("cannot read");
  return text.str();
}

struct Totals {
  unsigned passed = 0, failed = 0;
};

void print_result(Totals& totals, bool passed, const std::string& label, const std::string& file,
                  const std::string& detail) {
  if (passed) {
    ++totals.passed;
    std::printf("PASS %s (%s)\n", label.c_str(), file.c_str());
    if (!detail.empty()) std::printf("  note: %s\n", detail.c_str());
  } else {
    ++totals.failed;
    std::printf("FAIL %s (%s): %s\n", label.c_str(), file.c_str(), detail.c_str());
  }
  std::fflush(stdout);
}

// One file in one mode on a new database: passed, and the detail or note.
interchange_test::Outcome run_once(const interchange_test::TestFile& test, Mode mode, DbSource& source,
                                   const interchange_test::RunOptions& options, bool keep_db) {
  auto run_db = source.next();
  if (!run_db) return {false, "runner error: " + run_db.error()};
  interchange_test::Outcome outcome;
  {
    auto db = slashing::SlashingProtection::open(run_db->url);
    if (!db) {
      outcome = {false, "runner error: cannot open " + run_db->url + ": " + db.error()};
    } else if (auto existing = run_db->check_empty ? (*db)->export_interchange()
                                                   : std::expected<slashing::Interchange, std::string>{};
               !existing) {
      outcome = {false, "runner error: cannot read " + run_db->url + ": " + existing.error()};
    } else if (!existing->data.empty()) {
      outcome = {false, "runner error: " + run_db->url + " is not empty (" + std::to_string(existing->data.size()) +
                            " validators)"};
    } else {
      outcome = interchange_test::run_test_file(test, mode, **db, options);
    }
  }  // closed before its files go
  if (keep_db) {
    outcome.detail += std::string(outcome.detail.empty() ? "" : "; ") + "database kept: " + run_db->url;
  } else if (!run_db->directory.empty()) {
    std::error_code ec;
    fs::remove_all(run_db->directory, ec);
  } else if (!run_db->postgres_schema.empty()) {
    (void)postgres_exec(run_db->postgres_url, "DROP SCHEMA " + run_db->postgres_schema + " CASCADE");
  }
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string db_url, mode = "both";
  unsigned timeout_ms = 10000;
  bool keep_db = false, verbose = false;

  CLI::App app{
      "Runs EIP-3076 slashing-protection interchange test files (the public format of "
      "eth-clients/slashing-protection-interchange-tests) against Cachet's slashing protection. Each "
      "file runs twice on new databases: as written, expecting should_succeed_complete, and with every "
      "interchange minified, where what should_succeed signs must be signed and what should_succeed_complete "
      "refuses must be refused. Prints PASS/FAIL per file and run, then "
      "'N passed, M failed'; exits 0 only if all passed.",
      "cachet-interchange-test"};
  app.add_option("files", files, "Test files (JSON, any layout)")->required()->check(CLI::ExistingFile);
  app.add_option("--db", db_url, std::string(kUrlHelp));
  app.add_option("--mode", mode, "Which runs: both, complete (as written) or minified")
      ->check(CLI::IsMember({"both", "complete", "minified"}));
  app.add_option("--timeout-ms", timeout_ms, "Longest wait for one signing decision")->check(CLI::PositiveNumber);
  app.add_flag("--keep-db", keep_db, "Keep every database and print its URL");
  app.add_flag("-v,--verbose", verbose, "Print every import and check");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cachet-interchange-test: %s\n", e.what());
    return 2;
  }

  interchange_test::RunOptions options;
  options.decision_timeout = std::chrono::milliseconds(timeout_ms);
  if (verbose) options.trace = [](const std::string& line) { std::printf("  %s\n", line.c_str()); };

  std::vector<Mode> modes;
  if (mode != "minified") modes.push_back(Mode::Complete);
  if (mode != "complete") modes.push_back(Mode::Minified);

  DbSource source(db_url);
  Totals totals;
  for (const auto& file : files) {
    auto text = read_file(file);
    auto test = text ? interchange_test::parse_test_file(*text)
                     : std::expected<interchange_test::TestFile, std::string>(std::unexpect, text.error());
    if (!test) {
      print_result(totals, false, fs::path(file).stem().string(), file, "cannot load the test file: " + test.error());
      continue;
    }
    for (Mode m : modes) {
      const std::string label = test->name + (m == Mode::Minified ? " [minified]" : "");
      if (verbose) std::printf("%s (%s)\n", label.c_str(), file.c_str());
      auto outcome = run_once(*test, m, source, options, keep_db);
      print_result(totals, outcome.passed, label, file, outcome.detail);
    }
  }
  std::printf("%u passed, %u failed\n", totals.passed, totals.failed);
  return totals.failed == 0 && totals.passed > 0 ? 0 : 1;
}
