// The encrypted key cache (format and password in include/cachet/keys/key_cache.hpp).
#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cachet/keys/key_cache.hpp>
#include <cachet/util/durable_file.hpp>

#include "keys/keystore_files.hpp"

namespace cachet::keys {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view kPasswordContext = "cachet-key-cache-v1";
constexpr std::size_t kSecretBytes = 32;
// 10,000 keys are about 3 MiB of entries; far more than any signer holds still fits.
constexpr std::size_t kMaxCacheBytes = std::size_t{1} << 30;

std::unexpected<std::string> fail(std::string message) { return std::unexpected(std::move(message)); }

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const std::uint8_t> bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }
  void update(std::string_view text) { EVP_DigestUpdate(ctx_, text.data(), text.size()); }
  // Length-prefixed, so that neighbouring strings cannot trade bytes.
  void update_field(std::string_view text) {
    const std::uint64_t n = text.size();
    EVP_DigestUpdate(ctx_, &n, sizeof n);
    update(text);
  }
  Bytes32 final() {
    Bytes32 out{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, out.data(), &len);
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string_view source_name(KeySource source) { return source == KeySource::External ? "external" : "managed"; }

Bytes32 entries_digest(const std::vector<KeyCacheEntry>& entries) {
  Sha256 h;
  for (const auto& e : entries) {
    h.update_field(e.keystore_path);
    h.update_field(e.password_path);
    h.update(e.keystore_sha256);
    h.update(e.pubkey);
    h.update_field(e.derivation_path);
    h.update_field(source_name(e.source));
  }
  return h.final();
}

// The cache's password: every key's password digest, in entry order (header comment). Hex, so that EIP-2335's
// password processing (which drops control characters) keeps all of it.
std::string cache_password(const std::vector<const PasswordDigest*>& digests) {
  Sha256 h;
  h.update(kPasswordContext);
  for (const auto* d : digests) h.update(d->bytes);
  Bytes32 digest = h.final();
  std::string out = to_hex(digest, false);
  secure_wipe(digest.data(), digest.size());
  return out;
}

std::expected<KeyCacheEntry, std::string> parse_entry(const json::value& v) {
  if (!v.is_object()) return fail("an entry is not an object");
  const auto& o = v.get_object();
  auto text = [&](std::string_view key) -> std::expected<std::string, std::string> {
    const auto* f = o.if_contains(key);
    if (!f || !f->is_string()) return fail("an entry has no string " + std::string(key));
    return std::string(f->get_string());
  };
  KeyCacheEntry e;
  auto keystore = text("keystore"), password = text("password"), sha = text("sha256"), pubkey = text("pubkey"),
       path = text("path"), source = text("source");
  for (const auto* f : {&keystore, &password, &sha, &pubkey, &path, &source})
    if (!*f) return fail(f->error());
  auto sha_bytes = from_hex_fixed<32>(*sha);
  auto pubkey_bytes = from_hex_fixed<48>(*pubkey);
  if (!sha_bytes || !pubkey_bytes) return fail("an entry has a malformed sha256 or pubkey");
  if (*source != "external" && *source != "managed") return fail("an entry has an unknown source");
  e.keystore_path = std::move(*keystore);
  e.password_path = std::move(*password);
  e.keystore_sha256 = *sha_bytes;
  e.pubkey = *pubkey_bytes;
  e.derivation_path = std::move(*path);
  e.source = *source == "external" ? KeySource::External : KeySource::Managed;
  return e;
}

}  // namespace

KeyCacheSecrets::~KeyCacheSecrets() { secure_wipe(plaintext_.data(), plaintext_.size()); }

std::span<const std::uint8_t, 32> KeyCacheSecrets::secret(std::size_t i) const {
  return std::span<const std::uint8_t, 32>(
      reinterpret_cast<const std::uint8_t*>(plaintext_.data()) + kSecretBytes * (i + 1), kSecretBytes);
}

std::expected<std::optional<KeyCache>, std::string> KeyCache::read(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::optional<KeyCache>();
  auto text = read_small_file(path, kMaxCacheBytes);
  if (!text) return fail("cannot read " + path.string() + ": " + text.error());
  json::error_code jec;
  auto root = json::parse(*text, jec);
  if (jec || !root.is_object()) return fail("not a JSON object");
  const auto& o = root.get_object();
  const auto* version = o.if_contains("version");
  if (!version || !version->is_int64() || version->get_int64() != 1) return fail("unsupported version");
  const auto* entries = o.if_contains("entries");
  const auto* crypto = o.if_contains("crypto");
  if (!entries || !entries->is_array() || !crypto || !crypto->is_object()) return fail("no entries or crypto");
  KeyCache cache;
  for (const auto& v : entries->get_array()) {
    auto e = parse_entry(v);
    if (!e) return fail(e.error());
    cache.entries_.push_back(std::move(*e));
  }
  cache.crypto_json_ = json::serialize(*crypto);
  return std::optional<KeyCache>(std::move(cache));
}

std::expected<KeyCacheSecrets, std::string> KeyCache::decrypt(const crypto::KeystoreLimits& limits) const {
  std::vector<PasswordDigest> digests;
  digests.reserve(entries_.size());
  for (const auto& e : entries_) {
    auto password = read_small_file(e.password_path);
    if (!password) return fail("cannot read the password file " + e.password_path + ": " + password.error());
    WipeOnExit wipe{*password};
    strip_one_newline(*password);
    digests.emplace_back(*password);
  }
  std::vector<const PasswordDigest*> pointers;
  for (const auto& d : digests) pointers.push_back(&d);
  std::string password = cache_password(pointers);
  WipeOnExit wipe{password};
  auto plaintext = crypto::decrypt_crypto_object(crypto_json_, password, limits);
  if (!plaintext) return fail(plaintext.error());
  KeyCacheSecrets secrets(std::move(*plaintext), std::move(digests));
  const auto digest = entries_digest(entries_);
  if (secrets.size() != kSecretBytes * (entries_.size() + 1) ||
      !std::equal(digest.begin(), digest.end(), secrets.bytes()))
    return fail("its entries are not those its secrets were written with");
  return secrets;
}

std::expected<std::shared_ptr<const Key>, std::string> KeyCache::key(std::size_t i,
                                                                     const KeyCacheSecrets& secrets) const {
  const auto& e = entries_[i];
  auto secret = crypto::SecretKey::from_bytes(secrets.secret(i));
  if (!secret) return fail("the cached secret is not a valid BLS key");
  if (secret->public_key() != e.pubkey) return fail("the cached secret does not derive the entry's pubkey");
  return std::make_shared<const Key>(Key{std::move(*secret), e.pubkey, e.source, e.derivation_path, e.keystore_path,
                                         e.password_path, e.keystore_sha256, secrets.password_digest(i)});
}

std::expected<void, std::string> write_key_cache(const fs::path& path, std::vector<std::shared_ptr<const Key>> keys,
                                                 const crypto::KeystoreParams& kdf) {
  if (keys.empty()) return remove_file_durably(path);
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a->keystore_path < b->keystore_path; });
  std::vector<KeyCacheEntry> entries;
  std::vector<const PasswordDigest*> digests;
  json::array entries_json;
  for (const auto& k : keys) {
    entries.push_back(
        {k->keystore_path, k->password_path, k->keystore_sha256, k->pubkey, k->derivation_path, k->source});
    digests.push_back(&k->password_digest);
    entries_json.push_back(json::object{{"keystore", k->keystore_path},
                                        {"password", k->password_path},
                                        {"sha256", to_hex(k->keystore_sha256, false)},
                                        {"pubkey", to_hex(k->pubkey)},
                                        {"path", k->derivation_path},
                                        {"source", source_name(k->source)}});
  }
  std::string plaintext(kSecretBytes * (keys.size() + 1), '\0');
  WipeOnExit wipe_plaintext{plaintext};
  const auto digest = entries_digest(entries);
  std::copy(digest.begin(), digest.end(), plaintext.begin());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Bytes32 secret = keys[i]->secret.to_bytes();
    std::copy(secret.begin(), secret.end(), plaintext.begin() + static_cast<std::ptrdiff_t>(kSecretBytes * (i + 1)));
    secure_wipe(secret.data(), secret.size());
  }
  std::string password = cache_password(digests);
  WipeOnExit wipe_password{password};
  auto crypto = crypto::encrypt_crypto_object(
      std::span(reinterpret_cast<const std::uint8_t*>(plaintext.data()), plaintext.size()), password, kdf);
  if (!crypto) return fail(crypto.error());
  json::error_code ec;
  auto crypto_value = json::parse(*crypto, ec);
  if (ec) return fail("cannot encode the key cache");
  std::string text = json::serialize(
      json::object{{"version", 1}, {"entries", std::move(entries_json)}, {"crypto", std::move(crypto_value)}});
  return write_file_durably(path, text, 0600);
}

}  // namespace cachet::keys
