#include "config_file.hpp"

#include <array>
#include <charconv>
#include <optional>

namespace cachet::eth {
namespace {

constexpr std::string_view kSpaces = " \t\r";

std::string_view trim(std::string_view s) {
  const auto begin = s.find_first_not_of(kSpaces);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpaces) - begin + 1);
}

// YAML comments start with '#' at the start of a line or after white space.
std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i)
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) return line.substr(0, i);
  return line;
}

std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
    return v.substr(1, v.size() - 2);
  return v;
}

bool is_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::optional<Bytes4> parse_version(std::string_view v) {
  if (v.size() != 10 || !(v.starts_with("0x") || v.starts_with("0X"))) return std::nullopt;
  auto bytes = from_hex_fixed<4>(v);
  if (!bytes) return std::nullopt;
  return *bytes;
}

std::optional<std::uint64_t> parse_epoch(std::string_view v) {
  std::uint64_t out = 0;
  if (v.empty() || v.front() < '0' || v.front() > '9') return std::nullopt;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return out;
}

// The forks after Phase0, by the prefix of their config keys (consensus-specs configs/mainnet.yaml "Forking").
constexpr std::array<std::pair<Fork, std::string_view>, 6> kForkKeys{{
    {Fork::Altair, "ALTAIR"},
    {Fork::Bellatrix, "BELLATRIX"},
    {Fork::Capella, "CAPELLA"},
    {Fork::Deneb, "DENEB"},
    {Fork::Electra, "ELECTRA"},
    {Fork::Fulu, "FULU"},
}};

struct Seen {
  std::optional<Bytes4> version;
  std::optional<std::uint64_t> epoch;
  std::size_t epoch_line = 0;
};

}  // namespace

std::expected<NetworkConfig, std::string> parse_network_config(std::string_view text, std::string_view source) {
  std::optional<const Preset*> preset_base;
  std::optional<Bytes4> genesis;
  std::array<Seen, kForkKeys.size()> forks{};

  std::size_t line_no = 0;
  auto fail = [&](std::string_view key, const std::string& what) {
    std::string msg = std::string(source) + ":" + std::to_string(line_no) + ": ";
    if (!key.empty()) msg += std::string(key) + ": ";
    return std::unexpected(msg + what);
  };

  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);

    std::string_view line = strip_comment(raw);
    if (trim(line).empty() || line == "---") continue;
    // Nested values (list items and indented mappings such as BLOB_SCHEDULE's) belong to a key we do not read.
    if (line.front() == ' ' || line.front() == '\t' || line.front() == '-') continue;

    const auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return fail({}, "expected `KEY: value`, got '" + std::string(trim(line)) + "'");
    const std::string_view key = trim(line.substr(0, colon));
    const std::string_view value = unquote(trim(line.substr(colon + 1)));
    if (!is_key(key)) return fail({}, "invalid key '" + std::string(key) + "'");

    if (key == "PRESET_BASE") {
      if (preset_base) return fail(key, "given twice");
      preset_base = find_preset(value);
      if (!*preset_base) return fail(key, "expected one of " + preset_names() + ", got '" + std::string(value) + "'");
      continue;
    }
    if (key == "GENESIS_FORK_VERSION") {
      if (genesis) return fail(key, "given twice");
      genesis = parse_version(value);
      if (!genesis) return fail(key, "expected 0x and 8 hex digits, got '" + std::string(value) + "'");
      continue;
    }
    for (std::size_t i = 0; i < kForkKeys.size(); ++i) {
      const std::string_view prefix = kForkKeys[i].second;
      if (!key.starts_with(prefix)) continue;
      const std::string_view suffix = key.substr(prefix.size());
      if (suffix == "_FORK_VERSION") {
        if (forks[i].version) return fail(key, "given twice");
        forks[i].version = parse_version(value);
        if (!forks[i].version) return fail(key, "expected 0x and 8 hex digits, got '" + std::string(value) + "'");
      } else if (suffix == "_FORK_EPOCH") {
        if (forks[i].epoch) return fail(key, "given twice");
        forks[i].epoch = parse_epoch(value);
        forks[i].epoch_line = line_no;
        if (!forks[i].epoch) return fail(key, "expected a decimal epoch (uint64), got '" + std::string(value) + "'");
      }
    }
    // Any other key is a parameter signing does not depend on.
  }

  line_no = 0;  // the remaining errors are about the file as a whole
  if (!genesis) return std::unexpected(std::string(source) + ": GENESIS_FORK_VERSION: missing");

  NetworkConfig config;
  config.name = std::string(source);
  // PRESET_BASE is optional in the format; clients (Lighthouse, Teku) take mainnet when it is absent.
  config.preset = *preset_base.value_or(&mainnet_preset());
  config.genesis_fork_version = *genesis;
  config.forks.push_back({Fork::Phase0, *genesis, 0});
  std::uint64_t previous_epoch = 0;
  for (std::size_t i = 0; i < kForkKeys.size(); ++i) {
    const auto& [fork, prefix] = kForkKeys[i];
    const Seen& seen = forks[i];
    if (!seen.version) {
      if (seen.epoch) {
        line_no = seen.epoch_line;
        return fail(std::string(prefix) + "_FORK_EPOCH", "given without " + std::string(prefix) + "_FORK_VERSION");
      }
      continue;  // the config does not know this fork
    }
    const std::uint64_t epoch = seen.epoch.value_or(kFarFutureEpoch);
    if (epoch < previous_epoch) {
      line_no = seen.epoch_line;
      return fail(
          std::string(prefix) + "_FORK_EPOCH",
          "epoch " + std::to_string(epoch) + " is before the previous fork's epoch " + std::to_string(previous_epoch));
    }
    previous_epoch = epoch;
    config.forks.push_back({fork, *seen.version, epoch});
  }
  return config;
}

}  // namespace cachet::eth
