#include "tools/slashing_protection_command.hpp"

#include <cachet/slashing/slashing_protection.hpp>
#include <cachet/util/durable_file.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace cachet::tools {

SlashingProtectionCommand::SlashingProtectionCommand(CLI::App& app, Options& options) : options_(options) {
  command_ = app.add_subcommand("slashing-protection", "EIP-3076 interchange import and export");
  command_->fallthrough();  // --data-dir / --slashing-protection-db-url may follow the subcommand
  command_->require_subcommand(1);
  import_ = command_->add_subcommand(
      "import",
      "Merge an EIP-3076 file into the database (the signer must be stopped; while it runs, import through "
      "the keymanager API)");
  import_->fallthrough();
  import_->add_option("--from", from_, "EIP-3076 interchange file")->required()->check(CLI::ExistingFile);
  export_ = command_->add_subcommand("export",
                                     "Write the database's history as an EIP-3076 file (works while the "
                                     "signer runs)");
  export_->fallthrough();
  export_->add_option("--to", to_, "File to write ('-' for standard output)")->required();
  export_->add_option("--pubkey", pubkeys_, "Only these validators (repeatable; default all)");
}

bool SlashingProtectionCommand::selected() const { return command_->parsed(); }

int SlashingProtectionCommand::run() { return import_->parsed() ? run_import() : run_export(); }

int SlashingProtectionCommand::run_import() {
  auto url = slashing_db_url(options_);
  if (!url) return fail("slashing-protection import needs --data-dir or --slashing-protection-db-url");
  std::ifstream in(from_, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto interchange = slashing::parse_interchange(text.str());
  if (!interchange) return fail(from_ + ": " + interchange.error());
  if (!options_.data_dir.empty()) {
    if (auto made = ensure_directory(options_.data_dir); !made) return fail("--data-dir: " + made.error());
  }
  auto db = slashing::SlashingProtection::open(*url, slashing_options(options_, 32));
  if (!db) return fail(db.error());
  auto report = (*db)->import_interchange(*interchange);
  if (!report) return fail("import refused: " + report.error());
  std::printf("imported %zu validators (%zu blocks, %zu attestations) into %s\n", report->validators, report->blocks,
              report->attestations, slashing::redact_database_url(*url).c_str());
  return 0;
}

int SlashingProtectionCommand::run_export() {
  auto url = slashing_db_url(options_);
  if (!url) return fail("slashing-protection export needs --data-dir or --slashing-protection-db-url");
  std::vector<Bytes48> only;
  for (const auto& p : pubkeys_) {
    auto pk = from_hex_fixed<48>(p);
    if (!pk) return fail("--pubkey " + p + ": " + pk.error());
    only.push_back(*pk);
  }
  auto read_only = slashing_options(options_, 32);
  read_only.read_only = true;  // SQLite: a running signer holds the writer lock; reading beside it is safe (WAL)
  auto db = slashing::SlashingProtection::open(*url, read_only);
  if (!db) return fail(db.error());
  auto exported = (*db)->export_interchange(only);
  if (!exported) return fail("export failed: " + exported.error());
  const auto json = slashing::serialize_interchange(*exported) + "\n";
  if (to_ == "-") {
    std::fwrite(json.data(), 1, json.size(), stdout);
  } else if (auto written = write_file_durably(to_, json, 0644); !written) {
    return fail(written.error());
  }
  std::fprintf(stderr, "exported %zu validators from %s\n", exported->data.size(),
               slashing::redact_database_url(*url).c_str());
  return 0;
}

}  // namespace cachet::tools
