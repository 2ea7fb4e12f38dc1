// Writes N EIP-2335 keystores with deterministic test keys, for start-up timings and load tests.
// NOT for real validators: the keys are derived from their index and are public.
//   cachet-make-keystores --count 100 --kdf scrypt --out DIR   (DIR/keys/*.json, DIR/passwords/*.txt)
#include <openssl/sha.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cachet/crypto/keystore.hpp>
#include <cachet/util/bytes.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::size_t count = 100;
  std::size_t first = 0;
  std::string kdf = "scrypt";
  std::uint64_t scrypt_n = 1 << 18;
  std::uint32_t pbkdf2_c = 262144;
  std::string out;
  CLI::App app{"Writes deterministic test keystores (public keys: never for real funds)"};
  app.add_option("--count", count)->capture_default_str();
  app.add_option("--first", first, "index of the first key")->capture_default_str();
  app.add_option("--kdf", kdf, "scrypt or pbkdf2")->capture_default_str()->check(CLI::IsMember({"scrypt", "pbkdf2"}));
  app.add_option("--scrypt-n", scrypt_n)->capture_default_str();
  app.add_option("--pbkdf2-c", pbkdf2_c)->capture_default_str();
  app.add_option("--out", out)->required();
  CLI11_PARSE(app, argc, argv);

  const std::filesystem::path keys_dir = std::filesystem::path(out) / "keys",
                              pw_dir = std::filesystem::path(out) / "passwords";
  std::filesystem::create_directories(keys_dir);
  std::filesystem::create_directories(pw_dir);
  std::ofstream pubkeys(std::filesystem::path(out) / "pubkeys.txt");
  std::vector<std::string> lines(count);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < count;) {
      const std::uint64_t index = first + i;
      cachet::Bytes32 sk{};
      SHA256(reinterpret_cast<const unsigned char*>(&index), sizeof index, sk.data());
      sk[0] &= 0x3f;  // below 2^254 < r, so always a valid scalar
      auto secret = cachet::crypto::SecretKey::from_bytes(sk);
      cachet::secure_wipe(sk.data(), sk.size());
      if (!secret) {
        failed = true;
        continue;
      }
      cachet::crypto::KeystoreParams params;
      params.kdf = kdf == "scrypt" ? cachet::crypto::Kdf::Scrypt : cachet::crypto::Kdf::Pbkdf2;
      params.scrypt_n = scrypt_n;
      params.pbkdf2_c = pbkdf2_c;
      params.derivation_path = "m/12381/3600/" + std::to_string(index) + "/0/0";
      const std::string password = "cachet-test-" + std::to_string(index);
      auto json = cachet::crypto::encrypt_keystore(*secret, password, params);
      if (!json) {
        std::cerr << "keystore " << index << ": " << json.error() << "\n";
        failed = true;
        continue;
      }
      const std::string name = "keystore-" + std::to_string(index);
      std::ofstream(keys_dir / (name + ".json")) << *json;
      std::ofstream(pw_dir / (name + ".txt")) << password << "\n";
      lines[i] = cachet::to_hex(secret->public_key());
    }
  };
  std::vector<std::jthread> threads;
  for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) threads.emplace_back(worker);
  threads.clear();
  for (const auto& l : lines) pubkeys << l << "\n";
  std::cout << "wrote " << count << " " << kdf << " keystores to " << out << "\n";
  return failed ? 1 : 0;
}
