// EIP-2335 keystores, version 4 (ethereum/ERCs ERCS/erc-2335.md). The section names cited below are the EIP's.
//
// decryption_key = KDF(normalize_password(password), salt, params)                 ("Decryption key")
// checksum       = SHA256(decryption_key[16:32] || cipher.message)                 ("Password verification")
// secret         = AES-128-CTR(key = decryption_key[0:16], iv, cipher.message)      ("Secret decryption")
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <bit>
#include <boost/json.hpp>
#include <cachet/crypto/keystore.hpp>
#include <climits>
#include <cstdio>
#include <optional>
#include <vector>

namespace cachet::crypto {

namespace {

namespace json = boost::json;

template <class T>
using Result = std::expected<T, std::string>;

std::unexpected<std::string> fail(std::string message) { return std::unexpected(std::move(message)); }

// A keystore is about 1 KiB; anything far larger is not one, and parsing it would only cost memory.
constexpr std::size_t kMaxKeystoreBytes = 1 << 20;
constexpr std::size_t kDklen = 32;  // EIP-2335 "Decryption key": the checksum and cipher each take 16 bytes
constexpr std::size_t kIvBytes = 16;
constexpr std::size_t kSecretBytes = 32;

// Stack copies of secrets (derived key, decrypted secret, processed password) are wiped on every path out.
template <std::size_t N>
struct SecretBytes {
  std::array<std::uint8_t, N> bytes{};
  SecretBytes() = default;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { secure_wipe(bytes.data(), bytes.size()); }
  std::uint8_t* data() { return bytes.data(); }
};

// Wipes a string in place; moving it instead would leave a short (SSO) password behind in the moved-from object.
struct WipeOnExit {
  std::string& value;
  explicit WipeOnExit(std::string& v) : value(v) {}
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;
  ~WipeOnExit() { secure_wipe(value.data(), value.size()); }
};

// ---- reading the JSON, with the field's path in every error ---------------------------------------------------

std::string field(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : std::string(parent) + "." + std::string(key);
}

Result<const json::value*> member(const json::object& o, std::string_view parent, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return fail("missing field " + field(parent, key));
  return v;
}

Result<const json::object*> get_object(const json::object& o, std::string_view parent, std::string_view key) {
  auto v = member(o, parent, key);
  if (!v) return fail(v.error());
  if (!(*v)->is_object()) return fail(field(parent, key) + " must be an object");
  return &(*v)->get_object();
}

Result<std::string_view> get_string(const json::object& o, std::string_view parent, std::string_view key) {
  auto v = member(o, parent, key);
  if (!v) return fail(v.error());
  if (!(*v)->is_string()) return fail(field(parent, key) + " must be a string");
  return std::string_view((*v)->get_string());
}

// An optional string field: absent and null read as "".
Result<std::string> get_optional_string(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return fail(std::string(key) + " must be a string");
  return std::string(v->get_string());
}

Result<std::uint64_t> get_uint(const json::object& o, std::string_view parent, std::string_view key) {
  auto v = member(o, parent, key);
  if (!v) return fail(v.error());
  if ((*v)->is_uint64()) return (*v)->get_uint64();
  if ((*v)->is_int64() && (*v)->get_int64() >= 0) return static_cast<std::uint64_t>((*v)->get_int64());
  return fail(field(parent, key) + " must be a non-negative integer");
}

// Hex as EIP-2335 writes it (no "0x"; a prefix is tolerated). `size` 0 accepts any length.
Result<std::vector<std::uint8_t>> get_hex(const json::object& o, std::string_view parent, std::string_view key,
                                          std::size_t size) {
  auto text = get_string(o, parent, key);
  if (!text) return fail(text.error());
  auto bytes = from_hex(*text);
  if (!bytes) return fail(field(parent, key) + ": " + bytes.error());
  if (size != 0 && bytes->size() != size)
    return fail(field(parent, key) + " must be " + std::to_string(size) + " bytes, got " +
                std::to_string(bytes->size()));
  return *bytes;
}

// ---- the parsed keystore ---------------------------------------------------------------------------------------

struct KdfSpec {
  Kdf kind = Kdf::Scrypt;
  std::uint64_t n = 0, r = 0, p = 0;  // scrypt
  std::uint64_t c = 0;                // pbkdf2
  std::vector<std::uint8_t> salt;
};

struct ParsedKeystore {
  KdfSpec kdf;
  std::vector<std::uint8_t> checksum, iv, cipher_message;
  std::optional<PublicKey> pubkey;
  std::string path, uuid;
};

// EIP-2335 "Modules": each of crypto.kdf, crypto.checksum and crypto.cipher is {function, params, message}.
struct Module {
  const json::object* self = nullptr;
  std::string_view function;
  const json::object* params = nullptr;
  std::string path;  // "crypto.kdf"
};

Result<Module> get_module(const json::object& crypto, std::string_view name) {
  Module m;
  m.path = field("crypto", name);
  auto self = get_object(crypto, "crypto", name);
  if (!self) return fail(self.error());
  m.self = *self;
  auto function = get_string(*m.self, m.path, "function");
  if (!function) return fail(function.error());
  m.function = *function;
  auto params = get_object(*m.self, m.path, "params");
  if (!params) return fail(params.error());
  m.params = *params;
  return m;
}

std::unexpected<std::string> unsupported(std::string_view what, std::string_view value) {
  return fail("unsupported " + std::string(what) + " \"" + std::string(value) + "\"");
}

// kdf is scrypt or pbkdf2 (prf hmac-sha256) with dklen 32.
Result<KdfSpec> parse_kdf(const json::object& crypto) {
  auto kdf = get_module(crypto, "kdf");
  if (!kdf) return fail(kdf.error());
  const json::object& p = *kdf->params;
  constexpr std::string_view where = "crypto.kdf.params";

  auto dklen = get_uint(p, where, "dklen");
  if (!dklen) return fail(dklen.error());
  if (*dklen != kDklen) return fail("crypto.kdf.params.dklen must be 32, got " + std::to_string(*dklen));

  KdfSpec spec;
  if (kdf->function == "scrypt") {
    spec.kind = Kdf::Scrypt;
    for (auto [name, out] : {std::pair{"n", &spec.n}, std::pair{"r", &spec.r}, std::pair{"p", &spec.p}}) {
      auto v = get_uint(p, where, name);
      if (!v) return fail(v.error());
      *out = *v;
    }
  } else if (kdf->function == "pbkdf2") {
    spec.kind = Kdf::Pbkdf2;
    auto c = get_uint(p, where, "c");
    if (!c) return fail(c.error());
    spec.c = *c;
    auto prf = get_string(p, where, "prf");
    if (!prf) return fail(prf.error());
    if (*prf != "hmac-sha256") return unsupported("crypto.kdf.params.prf", *prf);
  } else {
    return unsupported("crypto.kdf.function", kdf->function);
  }
  auto salt = get_hex(p, where, "salt", 0);
  if (!salt) return fail(salt.error());
  spec.salt = std::move(*salt);
  return spec;
}

// The crypto object (EIP-2335 "Modules"): kdf, checksum (sha256) and cipher (aes-128-ctr). `message_size` is the
// secret's length in bytes; 0 accepts any (the key cache holds many secrets).
Result<void> parse_crypto(const json::object& crypto, std::size_t message_size, ParsedKeystore& out) {
  auto kdf = parse_kdf(crypto);
  if (!kdf) return fail(kdf.error());
  out.kdf = std::move(*kdf);

  auto checksum = get_module(crypto, "checksum");
  if (!checksum) return fail(checksum.error());
  if (checksum->function != "sha256") return unsupported("crypto.checksum.function", checksum->function);
  auto checksum_message = get_hex(*checksum->self, checksum->path, "message", 32);
  if (!checksum_message) return fail(checksum_message.error());
  out.checksum = std::move(*checksum_message);

  auto cipher = get_module(crypto, "cipher");
  if (!cipher) return fail(cipher.error());
  if (cipher->function != "aes-128-ctr") return unsupported("crypto.cipher.function", cipher->function);
  auto iv = get_hex(*cipher->params, "crypto.cipher.params", "iv", kIvBytes);
  if (!iv) return fail(iv.error());
  out.iv = std::move(*iv);
  auto cipher_message = get_hex(*cipher->self, cipher->path, "message", message_size);
  if (!cipher_message) return fail(cipher_message.error());
  out.cipher_message = std::move(*cipher_message);
  return {};
}

Result<json::value> parse_json_object(std::string_view text, std::string_view what, bool size_capped) {
  if (size_capped && text.size() > kMaxKeystoreBytes) return fail("the " + std::string(what) + " is larger than 1 MiB");
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return fail("the " + std::string(what) + " is not valid JSON: " + ec.message());
  if (!root.is_object()) return fail("the " + std::string(what) + " is not a JSON object");
  return root;
}

Result<ParsedKeystore> parse_keystore(std::string_view text) {
  auto root = parse_json_object(text, "keystore", true);
  if (!root) return fail(root.error());
  const json::object& ks = root->get_object();

  auto version = get_uint(ks, "", "version");
  if (!version) return fail(version.error());
  if (*version != 4) return fail("unsupported keystore version " + std::to_string(*version) + " (only 4 is)");

  auto crypto = get_object(ks, "", "crypto");
  if (!crypto) return fail(crypto.error());
  ParsedKeystore out;
  // The secret of a BLS12-381 keystore is the 32-byte big-endian scalar.
  if (auto ok = parse_crypto(**crypto, kSecretBytes, out); !ok) return fail(ok.error());

  auto pubkey = get_optional_string(ks, "pubkey");
  if (!pubkey) return fail(pubkey.error());
  if (!pubkey->empty()) {
    auto bytes = from_hex_fixed<48>(*pubkey);
    if (!bytes) return fail("pubkey: " + bytes.error());
    out.pubkey = *bytes;
  }
  auto path = get_optional_string(ks, "path");
  if (!path) return fail(path.error());
  out.path = std::move(*path);
  auto uuid = get_optional_string(ks, "uuid");
  if (!uuid) return fail(uuid.error());
  out.uuid = std::move(*uuid);
  return out;
}

// ---- limits: refuse before spending memory or CPU ---------------------------------------------------------------

std::string power_text(std::uint64_t v) {
  if (v >= 2 && std::has_single_bit(v)) return "2^" + std::to_string(std::countr_zero(v));
  return std::to_string(v);
}

std::string mib_text(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// OpenSSL's scrypt allocates 128*r*(n+2) bytes for V plus 128*r*p for B (crypto/evp/pbe_scrypt.c).
std::optional<std::uint64_t> scrypt_memory(std::uint64_t n, std::uint64_t r, std::uint64_t p) {
  std::uint64_t blocks = 0, bytes = 0;
  if (__builtin_add_overflow(n, p, &blocks) || __builtin_add_overflow(blocks, 2, &blocks)) return std::nullopt;
  if (__builtin_mul_overflow(blocks, r, &bytes) || __builtin_mul_overflow(bytes, 128, &bytes)) return std::nullopt;
  return bytes;
}

Result<void> check_limits(const KdfSpec& kdf, const KeystoreLimits& limits) {
  if (kdf.kind == Kdf::Pbkdf2) {
    if (kdf.c == 0) return fail("pbkdf2 c must be at least 1");
    if (kdf.c > limits.max_pbkdf2_c || kdf.c > INT_MAX)
      return fail("pbkdf2 c=" + power_text(kdf.c) + " exceeds the limit " + power_text(limits.max_pbkdf2_c) +
                  " (--keystore-max-pbkdf2-c)");
    return {};
  }
  // RFC 7914 §2: N is a power of two greater than 1; r and p are positive.
  if (kdf.n < 2 || !std::has_single_bit(kdf.n))
    return fail("scrypt n=" + std::to_string(kdf.n) + " is not a power of two greater than 1");
  if (kdf.r == 0 || kdf.p == 0) return fail("scrypt r and p must be at least 1");
  if (kdf.n > limits.max_scrypt_n)
    return fail("scrypt n=" + power_text(kdf.n) + " exceeds the limit " + power_text(limits.max_scrypt_n) +
                " (--keystore-max-scrypt-n)");
  // p multiplies the time without adding memory, so it needs its own cap.
  if (kdf.p > limits.max_scrypt_p)
    return fail("scrypt p=" + std::to_string(kdf.p) + " exceeds the limit " + std::to_string(limits.max_scrypt_p));
  auto memory = scrypt_memory(kdf.n, kdf.r, kdf.p);
  if (!memory || *memory > limits.max_scrypt_memory_bytes || kdf.r > UINT32_MAX)
    return fail("scrypt n=" + power_text(kdf.n) + ", r=" + std::to_string(kdf.r) + ", p=" + std::to_string(kdf.p) +
                " needs " + (memory ? mib_text(*memory) : std::string("more than 2^64 bytes")) +
                " of memory, above the limit " + mib_text(limits.max_scrypt_memory_bytes));
  return {};
}

// ---- the primitives (OpenSSL 3) ----------------------------------------------------------------------------------

const EVP_KDF* scrypt_kdf() {
  // Fetched once: an EVP_KDF is immutable and may be shared by threads; each derivation has its own context.
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
  return kdf;
}

// EIP-2335 "Decryption key". `password` is already processed.
Result<void> derive_key(const KdfSpec& kdf, std::string_view password, std::uint8_t* out) {
  if (kdf.kind == Kdf::Pbkdf2) {
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), kdf.salt.data(),
                          static_cast<int>(kdf.salt.size()), static_cast<int>(kdf.c), EVP_sha256(),
                          static_cast<int>(kDklen), out) != 1)
      return fail("pbkdf2 failed");
    return {};
  }
  if (scrypt_kdf() == nullptr) return fail("OpenSSL has no SCRYPT KDF");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(const_cast<EVP_KDF*>(scrypt_kdf())),
                                                                &EVP_KDF_CTX_free);
  if (!ctx) return fail("scrypt: out of memory");
  std::uint64_t n = kdf.n;
  auto r = static_cast<std::uint32_t>(kdf.r), p = static_cast<std::uint32_t>(kdf.p);
  // OpenSSL refuses more than 32 MiB by default; the limits were checked already, so allow what this one needs.
  std::uint64_t maxmem = scrypt_memory(kdf.n, kdf.r, kdf.p).value_or(UINT64_MAX - (1 << 20)) + (1 << 20);
  static const char empty = 0;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.empty() ? &empty : password.data()), password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(kdf.salt.data()),
                                        kdf.salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_KDF_derive(ctx.get(), out, kDklen, params) != 1) return fail("scrypt failed (out of memory?)");
  return {};
}

// EIP-2335 "Password verification": SHA256(decryption_key[16:32] || cipher.message), hashed in two updates so the
// key half is never copied into a concatenation buffer.
std::optional<Bytes32> checksum(const std::uint8_t* dk, std::span<const std::uint8_t> cipher_message) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  Bytes32 out{};
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), dk + 16, 16) != 1 ||
      EVP_DigestUpdate(ctx.get(), cipher_message.data(), cipher_message.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size())
    return std::nullopt;
  return out;
}

// AES-128-CTR with key decryption_key[0:16]; the IV is the whole initial counter block. CTR is its own inverse.
bool aes_128_ctr(const std::uint8_t* dk, std::span<const std::uint8_t> iv, std::span<const std::uint8_t> in,
                 std::uint8_t* out) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0, final_len = 0;
  return ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, dk, iv.data()) == 1 &&
         EVP_EncryptUpdate(ctx.get(), out, &len, in.data(), static_cast<int>(in.size())) == 1 &&
         EVP_EncryptFinal_ex(ctx.get(), out + len, &final_len) == 1 &&
         static_cast<std::size_t>(len + final_len) == in.size();
}

Result<std::vector<std::uint8_t>> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) return fail("the random number generator failed");
  return out;
}

// RFC 9562 §5.4 (version 4, random).
Result<std::string> random_uuid() {
  auto b = random_bytes(16);
  if (!b) return fail(b.error());
  (*b)[6] = static_cast<std::uint8_t>(((*b)[6] & 0x0f) | 0x40);
  (*b)[8] = static_cast<std::uint8_t>(((*b)[8] & 0x3f) | 0x80);
  std::string h = to_hex(*b, false);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

}  // namespace

namespace {

// EIP-2335 "Decryption key", "Password verification" and "Secret decryption" over a parsed crypto object: the
// plaintext goes to `out` (cipher_message.size() bytes), which the caller wipes.
Result<void> decrypt_crypto(const ParsedKeystore& ks, std::string_view password, const KeystoreLimits& limits,
                            std::uint8_t* out) {
  // Everything that can be refused cheaply is, before the KDF (which is the expensive part by design).
  if (auto ok = check_limits(ks.kdf, limits); !ok) return fail(ok.error());
  auto normalized = normalize_password(password);
  if (!normalized) return fail(normalized.error());
  WipeOnExit wipe_password{*normalized};

  SecretBytes<kDklen> dk;
  if (auto ok = derive_key(ks.kdf, *normalized, dk.data()); !ok) return fail(ok.error());

  auto sum = checksum(dk.data(), ks.cipher_message);
  if (!sum) return fail("sha256 failed");
  if (CRYPTO_memcmp(sum->data(), ks.checksum.data(), sum->size()) != 0)
    return fail("checksum mismatch (wrong password?)");
  if (!aes_128_ctr(dk.data(), ks.iv, ks.cipher_message, out)) return fail("aes-128-ctr failed");
  return {};
}

// The crypto object for `secret` with a fresh salt and IV (EIP-2335 field order, hex without "0x").
Result<json::object> encrypt_crypto(std::span<const std::uint8_t> secret, std::string_view password,
                                    const KeystoreParams& params) {
  KdfSpec kdf;
  kdf.kind = params.kdf;
  kdf.n = params.scrypt_n;
  kdf.r = 8;  // EIP-2335's test vector and every common tool use r=8, p=1
  kdf.p = 1;
  kdf.c = params.pbkdf2_c;
  // Only the shape of the parameters is checked here, not the loader's cost caps: writing a costly keystore is fine.
  KeystoreLimits unlimited{
      .max_scrypt_n = 1ULL << 40, .max_scrypt_memory_bytes = UINT64_MAX, .max_pbkdf2_c = INT_MAX, .max_scrypt_p = 1};
  if (auto ok = check_limits(kdf, unlimited); !ok) return fail(ok.error());
  auto salt = random_bytes(32);
  if (!salt) return fail(salt.error());
  kdf.salt = std::move(*salt);
  auto iv = random_bytes(kIvBytes);
  if (!iv) return fail(iv.error());

  auto normalized = normalize_password(password);
  if (!normalized) return fail(normalized.error());
  WipeOnExit wipe_password{*normalized};
  SecretBytes<kDklen> dk;
  if (auto ok = derive_key(kdf, *normalized, dk.data()); !ok) return fail(ok.error());

  std::vector<std::uint8_t> cipher_message(secret.size());
  if (!aes_128_ctr(dk.data(), *iv, secret, cipher_message.data())) return fail("aes-128-ctr failed");
  auto sum = checksum(dk.data(), cipher_message);
  if (!sum) return fail("sha256 failed");

  json::object kdf_params;
  kdf_params["dklen"] = kDklen;
  if (kdf.kind == Kdf::Scrypt) {
    kdf_params["n"] = kdf.n;
    kdf_params["r"] = kdf.r;
    kdf_params["p"] = kdf.p;
  } else {
    kdf_params["c"] = kdf.c;
    kdf_params["prf"] = "hmac-sha256";
  }
  kdf_params["salt"] = to_hex(kdf.salt, false);
  return json::object{
      {"kdf", {{"function", kdf.kind == Kdf::Scrypt ? "scrypt" : "pbkdf2"}, {"params", kdf_params}, {"message", ""}}},
      {"checksum", {{"function", "sha256"}, {"params", json::object()}, {"message", to_hex(*sum, false)}}},
      {"cipher",
       {{"function", "aes-128-ctr"},
        {"params", {{"iv", to_hex(*iv, false)}}},
        {"message", to_hex(cipher_message, false)}}},
  };
}

}  // namespace

std::expected<DecryptedKeystore, std::string> decrypt_keystore(std::string_view keystore_json,
                                                               std::string_view password,
                                                               const KeystoreLimits& limits) {
  auto ks = parse_keystore(keystore_json);
  if (!ks) return fail(ks.error());
  SecretBytes<kSecretBytes> secret_bytes;
  if (auto ok = decrypt_crypto(*ks, password, limits, secret_bytes.data()); !ok) return fail(ok.error());
  auto secret = SecretKey::from_bytes(secret_bytes.bytes);
  if (!secret) return fail("the decrypted secret is not a valid BLS key: " + secret.error());

  PublicKey pubkey = secret->public_key();
  // The pubkey field is what operators and the keymanager API see; a file whose field names another key must not
  // load under that name.
  if (ks->pubkey && *ks->pubkey != pubkey)
    return fail("the keystore's pubkey field " + to_hex(*ks->pubkey) + " does not match its secret key (" +
                to_hex(pubkey) + ")");

  return DecryptedKeystore{std::move(*secret), pubkey, std::move(ks->path), std::move(ks->uuid)};
}

std::expected<std::string, std::string> encrypt_keystore(const SecretKey& secret, std::string_view password,
                                                         const KeystoreParams& params) {
  SecretBytes<kSecretBytes> secret_bytes;
  secret_bytes.bytes = secret.to_bytes();
  auto crypto = encrypt_crypto(secret_bytes.bytes, password, params);
  if (!crypto) return fail(crypto.error());
  auto uuid = random_uuid();
  if (!uuid) return fail(uuid.error());
  // Field order as in the EIP-2335 "Test Cases".
  json::object keystore{
      {"crypto", std::move(*crypto)},
      {"description", params.description},
      {"pubkey", to_hex(secret.public_key(), false)},
      {"path", params.derivation_path},
      {"uuid", *uuid},
      {"version", 4},
  };
  return json::serialize(keystore);
}

std::expected<std::string, std::string> encrypt_crypto_object(std::span<const std::uint8_t> secret,
                                                              std::string_view password, const KeystoreParams& params) {
  auto crypto = encrypt_crypto(secret, password, params);
  if (!crypto) return fail(crypto.error());
  return json::serialize(*crypto);
}

std::expected<std::string, std::string> decrypt_crypto_object(std::string_view crypto_json, std::string_view password,
                                                              const KeystoreLimits& limits) {
  // Its size grows with the secrets it holds (the key cache: 64 hex digits a key), so it is not capped like a keystore.
  auto root = parse_json_object(crypto_json, "crypto object", false);
  if (!root) return fail(root.error());
  ParsedKeystore parsed;
  if (auto ok = parse_crypto(root->get_object(), 0, parsed); !ok) return fail(ok.error());
  std::string plaintext(parsed.cipher_message.size(), '\0');
  auto ok = decrypt_crypto(parsed, password, limits, reinterpret_cast<std::uint8_t*>(plaintext.data()));
  if (!ok) {
    secure_wipe(plaintext.data(), plaintext.size());
    return fail(ok.error());
  }
  return plaintext;
}

}  // namespace cachet::crypto
