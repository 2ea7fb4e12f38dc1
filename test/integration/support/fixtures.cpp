#include "support/fixtures.hpp"

#include <boost/json/parse.hpp>
#include <cachet/crypto/keystore.hpp>
#include <cachet/util/bytes.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cachet::test {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::vector<std::string> keystore_flags(const std::filesystem::path& dir, const std::vector<KnownKey>& keys) {
  auto [k, p] = write_keystores(dir, keys);
  return {"--keystores-path", k.string(), "--keystores-passwords-path", p.string()};
}

boost::json::value read_json(const std::filesystem::path& path) { return boost::json::parse(read_file(path)); }

std::vector<KnownKey> interop_keys(std::size_t n) {
  auto json = read_json(std::filesystem::path(CACHET_TEST_DATA) / "bls/interop_keys_0_63.json");
  std::vector<KnownKey> keys;
  for (const auto& k : json.as_array()) {
    if (keys.size() == n) break;
    keys.push_back({std::string(k.at("privkey").as_string()), std::string(k.at("pubkey").as_string())});
  }
  return keys;
}

std::pair<std::filesystem::path, std::filesystem::path> write_keystores(const std::filesystem::path& dir,
                                                                        const std::vector<KnownKey>& keys) {
  auto keys_dir = dir / "keys", passwords_dir = dir / "passwords";
  std::filesystem::create_directories(keys_dir);
  std::filesystem::create_directories(passwords_dir);
  crypto::KeystoreParams params;
  params.kdf = crypto::Kdf::Pbkdf2;
  params.pbkdf2_c = 2;  // tests only: real keystores use 2^18
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto bytes = from_hex(keys[i].secret_hex);
    auto secret = crypto::SecretKey::from_bytes(*bytes);
    if (!secret) throw std::runtime_error("bad test key");
    const std::string password = "test password " + std::to_string(i);
    auto json = crypto::encrypt_keystore(*secret, password, params);
    if (!json) throw std::runtime_error("encrypt_keystore: " + json.error());
    const std::string name = "keystore-" + std::to_string(i);
    write_file(keys_dir / (name + ".json"), *json);
    write_file(passwords_dir / (name + ".txt"), password + "\n");
  }
  return {keys_dir, passwords_dir};
}

}  // namespace cachet::test
