#include <openssl/rand.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cachet/commit_boost/proxy_key_store.hpp>
#include <cachet/util/durable_file.hpp>
#include <fstream>
#include <sstream>

namespace cachet::commit_boost {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

std::string_view scheme_dir(Scheme scheme) { return scheme == Scheme::Bls ? "bls" : "ecdsa"; }

// A password per proxy keystore (256 random bits, hex), kept beside it as managed keystores are.
std::expected<std::string, std::string> random_password() {
  std::array<std::uint8_t, 32> bytes{};
  if (RAND_priv_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return std::unexpected("the random generator failed");
  auto text = to_hex(bytes, false);
  secure_wipe(bytes.data(), bytes.size());
  return text;
}

std::expected<std::string, std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The password file's one trailing newline, if any, is not part of it (as for keystore password files).
void strip_newline(std::string& text) {
  if (text.ends_with('\n')) text.pop_back();
  if (text.ends_with('\r')) text.pop_back();
}

// An ECDSA proxy keystore: EIP-2335's layout (version 4, its crypto object: KDF, sha256 checksum, AES-128-CTR) around
// the 32-byte secp256k1 secret, with an empty `pubkey` (the file name is the address, checked when loading).
std::expected<std::string, std::string> encrypt_ecdsa_keystore(const EcdsaSecretKey& secret, std::string_view password,
                                                               const crypto::KeystoreParams& params) {
  auto crypto_object = crypto::encrypt_crypto_object(secret.bytes(), password, params);
  if (!crypto_object) return std::unexpected(crypto_object.error());
  json::object keystore{{"crypto", json::parse(*crypto_object)},
                        {"description", params.description},
                        {"pubkey", ""},
                        {"path", ""},
                        {"version", 4}};
  return json::serialize(keystore);
}

std::expected<EcdsaSecretKey, std::string> decrypt_ecdsa_keystore(std::string_view text, std::string_view password,
                                                                  const crypto::KeystoreLimits& limits) {
  boost::system::error_code ec;
  auto keystore = json::parse(text, ec);
  if (ec || !keystore.is_object()) return std::unexpected("the keystore is not a JSON object");
  const auto* crypto_object = keystore.as_object().if_contains("crypto");
  if (!crypto_object || !crypto_object->is_object()) return std::unexpected("crypto: missing or not an object");
  auto secret = crypto::decrypt_crypto_object(json::serialize(*crypto_object), password, limits);
  if (!secret) return std::unexpected(secret.error());
  std::expected<EcdsaSecretKey, std::string> key = std::unexpected("the secret is not 32 bytes");
  if (secret->size() == 32)
    key = EcdsaSecretKey::from_bytes(
        std::span<const std::uint8_t, 32>(reinterpret_cast<const std::uint8_t*>(secret->data()), 32));
  secure_wipe(secret->data(), secret->size());
  return key;
}

}  // namespace

bool is_valid_module_id(std::string_view module) {
  return !module.empty() && module.size() <= 64 && std::ranges::all_of(module, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

ProxyKeyStore::ProxyKeyStore(fs::path dir, crypto::KeystoreParams params, crypto::KeystoreLimits limits)
    : dir_(std::move(dir)), params_(std::move(params)), limits_(limits) {}

fs::path ProxyKeyStore::key_dir(std::string_view module, const crypto::PublicKey& delegator, Scheme scheme) const {
  return dir_ / std::string(module) / to_hex(delegator) / std::string(scheme_dir(scheme));
}

std::expected<void, std::string> ProxyKeyStore::persist(const fs::path& dir, const std::string& name,
                                                        std::string_view keystore_json, std::string_view password) {
  if (auto made = ensure_directory(dir); !made) return std::unexpected(made.error());
  if (auto ok = write_file_durably(dir / (name + ".txt"), password); !ok) return std::unexpected(ok.error());
  if (auto ok = write_file_durably(dir / (name + ".json"), keystore_json); !ok) return std::unexpected(ok.error());
  return {};
}

std::expected<void, std::string> ProxyKeyStore::encrypt_and_persist(
    const fs::path& dir, const std::string& name,
    const std::function<std::expected<std::string, std::string>(std::string_view password)>& encrypt) const {
  auto password = random_password();
  if (!password) return std::unexpected(password.error());
  auto keystore = encrypt(*password);
  if (!keystore) {
    secure_wipe(password->data(), password->size());
    return std::unexpected(keystore.error());
  }
  // The KDF above runs outside the lock (it takes most of a second at EIP-2335's cost); only the files are written
  // under it, so that lookups by signing threads never wait for a KDF.
  std::lock_guard lock(mutex_);
  auto written = persist(dir, name, *keystore, *password);
  secure_wipe(password->data(), password->size());
  return written;
}

std::expected<std::shared_ptr<const BlsProxy>, std::string> ProxyKeyStore::add_bls(std::string_view module,
                                                                                   const crypto::PublicKey& delegator,
                                                                                   crypto::SecretKey secret) {
  const auto pubkey = secret.public_key();
  auto written = encrypt_and_persist(
      key_dir(module, delegator, Scheme::Bls), to_hex(pubkey),
      [&](std::string_view password) { return crypto::encrypt_keystore(secret, password, params_); });
  if (!written) return std::unexpected(written.error());
  auto proxy = std::make_shared<const BlsProxy>(std::string(module), delegator, pubkey, std::move(secret));
  std::lock_guard lock(mutex_);
  bls_[{std::string(module), pubkey}] = proxy;
  return proxy;
}

std::expected<std::shared_ptr<const EcdsaProxy>, std::string> ProxyKeyStore::add_ecdsa(
    std::string_view module, const crypto::PublicKey& delegator, EcdsaSecretKey secret) {
  const auto address = secret.address();
  auto written =
      encrypt_and_persist(key_dir(module, delegator, Scheme::Ecdsa), to_hex(address),
                          [&](std::string_view password) { return encrypt_ecdsa_keystore(secret, password, params_); });
  if (!written) return std::unexpected(written.error());
  auto proxy = std::make_shared<const EcdsaProxy>(std::string(module), delegator, std::move(secret));
  std::lock_guard lock(mutex_);
  ecdsa_[{std::string(module), address}] = proxy;
  return proxy;
}

ProxyLoadReport ProxyKeyStore::load() {
  ProxyLoadReport report;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return report;
  for (auto it = fs::recursive_directory_iterator(dir_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::path path = it->path();
    if (path.extension() != ".json" || !it->is_regular_file()) continue;
    auto fail = [&](std::string reason) { report.failures.emplace_back(path, std::move(reason)); };
    // <dir>/<module>/0x<delegator>/<scheme>/0x<proxy>.json
    const auto relative = path.lexically_relative(dir_);
    std::vector<std::string> parts(relative.begin(), relative.end());
    if (parts.size() != 4) {
      fail("not at <module>/0x<consensus pubkey>/<bls|ecdsa>/0x<proxy>.json");
      continue;
    }
    const auto& module = parts[0];
    auto delegator = from_hex_fixed<48>(parts[1]);
    if (!is_valid_module_id(module) || !delegator || (parts[2] != "bls" && parts[2] != "ecdsa")) {
      fail("not at <module>/0x<consensus pubkey>/<bls|ecdsa>/0x<proxy>.json");
      continue;
    }
    auto password = read_text(fs::path(path).replace_extension(".txt"));
    auto json = read_text(path);
    if (!password || !json) {
      fail(!password ? password.error() : json.error());
      continue;
    }
    strip_newline(*password);
    const auto name = path.stem().string();
    if (parts[2] == "bls") {
      auto decrypted = crypto::decrypt_keystore(*json, *password, limits_);
      secure_wipe(password->data(), password->size());
      if (!decrypted || to_hex(decrypted->pubkey) != name) {
        fail(decrypted ? "the key does not match the file name" : decrypted.error());
        continue;
      }
      std::lock_guard lock(mutex_);
      bls_[{module, decrypted->pubkey}] =
          std::make_shared<const BlsProxy>(module, *delegator, decrypted->pubkey, std::move(decrypted->secret));
    } else {
      auto secret = decrypt_ecdsa_keystore(*json, *password, limits_);
      secure_wipe(password->data(), password->size());
      if (!secret || to_hex(secret->address()) != name) {
        fail(secret ? "the key does not match the file name" : secret.error());
        continue;
      }
      const auto address = secret->address();
      std::lock_guard lock(mutex_);
      ecdsa_[{module, address}] = std::make_shared<const EcdsaProxy>(module, *delegator, std::move(*secret));
    }
    ++report.loaded;
  }
  if (ec) report.failures.emplace_back(dir_, "cannot list: " + ec.message());
  return report;
}

std::shared_ptr<const BlsProxy> ProxyKeyStore::find_bls(std::string_view module,
                                                        const crypto::PublicKey& pubkey) const {
  std::lock_guard lock(mutex_);
  auto it = bls_.find(std::pair{std::string(module), pubkey});
  return it == bls_.end() ? nullptr : it->second;
}

std::shared_ptr<const EcdsaProxy> ProxyKeyStore::find_ecdsa(std::string_view module,
                                                            const EcdsaAddress& address) const {
  std::lock_guard lock(mutex_);
  auto it = ecdsa_.find(std::pair{std::string(module), address});
  return it == ecdsa_.end() ? nullptr : it->second;
}

Delegations ProxyKeyStore::delegations(std::string_view module, const crypto::PublicKey& delegator) const {
  Delegations out;
  std::lock_guard lock(mutex_);
  for (const auto& [id, proxy] : bls_)
    if (id.first == module && proxy->delegator == delegator) out.bls.push_back(proxy->pubkey);
  for (const auto& [id, proxy] : ecdsa_)
    if (id.first == module && proxy->delegator == delegator) out.ecdsa.push_back(proxy->address());
  return out;
}

std::expected<std::size_t, std::string> ProxyKeyStore::remove_delegator(const crypto::PublicKey& delegator) {
  std::vector<fs::path> dirs;
  std::size_t removed = 0;
  {
    std::lock_guard lock(mutex_);
    // Unusable at once; the files follow.
    removed += std::erase_if(bls_, [&](const auto& e) { return e.second->delegator == delegator; });
    removed += std::erase_if(ecdsa_, [&](const auto& e) { return e.second->delegator == delegator; });
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      if (fs::is_directory(it->path() / to_hex(delegator))) dirs.push_back(it->path() / to_hex(delegator));
  }
  for (const auto& dir : dirs) {
    for (auto scheme : {Scheme::Bls, Scheme::Ecdsa}) {
      const auto sub = dir / std::string(scheme_dir(scheme));
      std::error_code ec;
      std::vector<fs::path> files;
      for (auto it = fs::directory_iterator(sub, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
        files.push_back(it->path());
      // Keystores first: a password without its keystore unlocks nothing.
      std::ranges::sort(files, [](const fs::path& a, const fs::path& b) {
        return (a.extension() == ".json") > (b.extension() == ".json");
      });
      for (const auto& f : files)
        if (auto ok = remove_file_durably(f); !ok) return std::unexpected(ok.error());
      fs::remove(sub, ec);
    }
    std::error_code ec;
    fs::remove(dir, ec);
  }
  return removed;
}

std::size_t ProxyKeyStore::size() const {
  std::lock_guard lock(mutex_);
  return bls_.size() + ecdsa_.size();
}

}  // namespace cachet::commit_boost
