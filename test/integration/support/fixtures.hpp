// Shared set-up for integration tests: keystore directories built from known keys.
#pragma once

#include <boost/json/value.hpp>
#include <cachet/crypto/bls.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace cachet::test {

struct KnownKey {
  std::string secret_hex;  // 0x + 64 hex
  std::string pubkey_hex;  // 0x + 96 hex
};

/// Interop keys 0..n-1 (test/data/bls/interop_keys_0_63.json, from shared/specs/bls).
std::vector<KnownKey> interop_keys(std::size_t n);

/// Writes NAME.json/NAME.txt pairs for `keys` (pbkdf2 with a tiny cost so tests start fast) into dir/keys and
/// dir/passwords; returns {keys dir, passwords dir}.
std::pair<std::filesystem::path, std::filesystem::path> write_keystores(const std::filesystem::path& dir,
                                                                        const std::vector<KnownKey>& keys);

/// write_keystores, as the signer's flags: {"--keystores-path", …, "--keystores-passwords-path", …}.
std::vector<std::string> keystore_flags(const std::filesystem::path& dir, const std::vector<KnownKey>& keys);

boost::json::value read_json(const std::filesystem::path& path);
std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& content);

}  // namespace cachet::test
