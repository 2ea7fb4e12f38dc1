// Runs one interchange test file against a slashing-protection database, as
// ../shared/specs/slashing-interchange/README.md says.
#pragma once

#include <cachet/slashing/slashing_protection.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "tools/interchange_runner/test_file.hpp"

namespace cachet::interchange_test {

enum class Mode {
  Complete,  // interchanges as written; every check must give should_succeed_complete
  Minified,  // every interchange minified first; a check must sign if should_succeed, refuse if not
             // should_succeed_complete, and may do either where the two differ
};

struct Outcome {
  bool passed = false;
  std::string detail;  // FAIL: what differed and where; PASS: a note (a slashable import refused), or empty
};

struct RunOptions {
  std::chrono::milliseconds decision_timeout{10000};  // longest wait for a check_and_record callback
  std::function<void(const std::string&)> trace;      // every import and check, when set (--verbose)
};

/// Runs `file` on `db`, which must be new and empty: gives it the file's genesis validators root (by importing
/// an empty interchange with it), then each step's import and checks. Stops at the first difference.
Outcome run_test_file(const TestFile& file, Mode mode, slashing::SlashingProtection& db, const RunOptions& options);

}  // namespace cachet::interchange_test
