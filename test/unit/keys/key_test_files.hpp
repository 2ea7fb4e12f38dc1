// Temporary keystore directories with real (cheap) keystores, for the key-loading tests.
#pragma once

#include <cachet/crypto/keystore.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

namespace cachet::keys::test {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ =
        std::filesystem::temp_directory_path() / ("cachet-keys-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_ / "keystores");
    std::filesystem::create_directories(path_ / "passwords");
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path keystores() const { return path_ / "keystores"; }
  std::filesystem::path passwords() const { return path_ / "passwords"; }
  std::filesystem::path root() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline crypto::SecretKey key(std::uint8_t i) {
  Bytes32 bytes{};
  bytes[0] = 0x11;
  bytes[31] = i;
  return crypto::SecretKey::from_bytes(bytes).value();
}

// pbkdf2 with c=2: a real keystore that decrypts in microseconds.
inline std::string fast_keystore(const crypto::SecretKey& sk, std::string_view password, std::string path = "") {
  crypto::KeystoreParams params;
  params.kdf = crypto::Kdf::Pbkdf2;
  params.pbkdf2_c = 2;
  params.derivation_path = std::move(path);
  return crypto::encrypt_keystore(sk, password, params).value();
}

// NAME.json with its password NAME.txt ("pw-NAME").
inline void write_keystore(const TempDir& dir, const std::string& name, std::uint8_t i) {
  write(dir.keystores() / (name + ".json"), fast_keystore(key(i), "pw-" + name));
  write(dir.passwords() / (name + ".txt"), "pw-" + name + "\n");
}

}  // namespace cachet::keys::test
