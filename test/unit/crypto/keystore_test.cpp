// EIP-2335 keystores: the EIP's own test vectors, published keystores from Nimbus and Web3Signer, the cost limits,
// and encrypt -> decrypt round trips (test/data/README-crypto.md says where each file comes from).
#include <gtest/gtest.h>

#include <cachet/crypto/keystore.hpp>
#include <chrono>
#include <cstdio>

#include "test_files.hpp"

using namespace cachet;
using namespace cachet::crypto;
using cachet::test::read_json;
using cachet::test::read_text;
using cachet::test::str;
namespace json = boost::json;

namespace {

const json::object& eip2335() {
  static const json::value v = read_json("eip2335/eip2335_vectors.json");
  return v.at("eip2335").as_object();
}

std::string vector_keystore(const char* kdf) { return json::serialize(eip2335().at(kdf).at("keystore")); }

std::string eip_password() { return str(eip2335().at("password")); }

// A keystore JSON with one field replaced, for tampering tests.
std::string with(const std::string& keystore, const std::function<void(json::object&)>& edit) {
  json::value v = json::parse(keystore);
  edit(v.as_object());
  return json::serialize(v);
}

json::object& kdf_params(json::object& ks) { return ks["crypto"].as_object()["kdf"].as_object()["params"].as_object(); }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

SecretKey interop0() {
  return SecretKey::from_bytes(*from_hex("0x25295f0d1d592a90b333e26e85149708208e9f8e8bc18f6c77bd62f8ad7a6866")).value();
}

}  // namespace

// EIP-2335 "Password requirements".
TEST(Password, EipVectorNormalisesToPublishedBytes) {
  auto processed = normalize_password(eip_password());
  ASSERT_TRUE(processed) << processed.error();
  EXPECT_EQ(to_hex(std::span(reinterpret_cast<const std::uint8_t*>(processed->data()), processed->size()), false),
            str(eip2335().at("encoded_password_hex")));
}

TEST(Password, StripsControlCodePointsAndKeepsSpace) {
  // C0 (BEL, NUL, TAB), DEL and C1 (U+0085 NEL, U+009F) go; the space stays.
  EXPECT_EQ(normalize_password(std::string("a\x07"
                                           "b\x7f c\t\xc2\x85\xc2\x9f"
                                           "d\0e",
                                           14))
                .value(),
            "ab cde");
  EXPECT_EQ(normalize_password("").value(), "");
}

TEST(Password, NfkdDecomposes) {
  EXPECT_EQ(normalize_password("\xef\xac\x81").value(), "fi");         // U+FB01 LATIN SMALL LIGATURE FI
  EXPECT_EQ(normalize_password("\xc3\xa9").value(), "e\xcc\x81");      // U+00E9 -> e + U+0301
  EXPECT_EQ(normalize_password("\xe2\x84\xab").value(), "A\xcc\x8a");  // U+212B ANGSTROM SIGN
  EXPECT_EQ(normalize_password("\xc2\xa0").value(), " ");              // NBSP -> space (compatibility)
}

TEST(Password, RejectsInvalidUtf8) {
  EXPECT_FALSE(normalize_password("abc\xff"));
  EXPECT_FALSE(normalize_password("\xc3"));          // truncated sequence
  EXPECT_FALSE(normalize_password("\xed\xa0\x80"));  // a UTF-16 surrogate encoded as UTF-8
}

TEST(Keystore, EipScryptVector) {
  auto start = std::chrono::steady_clock::now();
  auto ks = decrypt_keystore(vector_keystore("scrypt"), eip_password());
  double elapsed = seconds_since(start);
  ASSERT_TRUE(ks) << ks.error();
  EXPECT_EQ(to_hex(ks->secret.to_bytes(), false), str(eip2335().at("secret_hex")));
  EXPECT_EQ(to_hex(ks->pubkey, false), str(eip2335().at("pubkey_hex")));
  EXPECT_EQ(ks->derivation_path, "m/12381/60/3141592653/589793238");
  EXPECT_EQ(ks->uuid, "1d85ae20-35c5-4611-98e8-aa14a633906f");
  std::printf("[ timing   ] scrypt n=2^18 r=8 p=1 keystore decrypted in %.3f s\n", elapsed);
}

TEST(Keystore, EipPbkdf2Vector) {
  auto ks = decrypt_keystore(vector_keystore("pbkdf2"), eip_password());
  ASSERT_TRUE(ks) << ks.error();
  EXPECT_EQ(to_hex(ks->secret.to_bytes(), false), str(eip2335().at("secret_hex")));
  EXPECT_EQ(to_hex(ks->pubkey, false), str(eip2335().at("pubkey_hex")));
  EXPECT_EQ(ks->derivation_path, "m/12381/60/0/0");
}

TEST(Keystore, WrongPasswordIsAChecksumError) {
  auto ks = decrypt_keystore(vector_keystore("pbkdf2"), "testpassword");  // without the key emoji
  ASSERT_FALSE(ks);
  EXPECT_EQ(ks.error(), "checksum mismatch (wrong password?)");
}

TEST(Keystore, AlreadyNormalisedPasswordIsAccepted) {
  // NFKD of the fraktur password is plain "testpassword" + key emoji; typing that form must open the keystore too.
  auto ks = decrypt_keystore(vector_keystore("pbkdf2"), "testpassword\xf0\x9f\x94\x91");
  ASSERT_TRUE(ks) << ks.error();
}

TEST(Keystore, TamperedPubkeyIsRefused) {
  auto fast = read_json("keystores/fast_keystores.json").at("keystores").as_array();
  std::string other_pubkey = str(fast[1].at("keystore").at("pubkey"));
  auto tampered = with(json::serialize(fast[0].at("keystore")), [&](json::object& k) { k["pubkey"] = other_pubkey; });
  auto ks = decrypt_keystore(tampered, str(fast[0].at("password")));
  ASSERT_FALSE(ks);
  EXPECT_NE(ks.error().find("does not match"), std::string::npos) << ks.error();

  auto malformed = with(json::serialize(fast[0].at("keystore")), [&](json::object& k) { k["pubkey"] = "abcd"; });
  EXPECT_FALSE(decrypt_keystore(malformed, str(fast[0].at("password"))));

  // An absent or empty pubkey field is allowed (the key's own pubkey is used).
  auto absent = with(json::serialize(fast[0].at("keystore")), [&](json::object& k) { k.erase("pubkey"); });
  auto ok = decrypt_keystore(absent, str(fast[0].at("password")));
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(to_hex(ok->pubkey, false), str(fast[0].at("keystore").at("pubkey")));
}

TEST(Keystore, NimbusFastKeystores) {
  auto fast = read_json("keystores/fast_keystores.json").at("keystores").as_array();
  ASSERT_EQ(fast.size(), 4u);
  for (const auto& entry : fast) {
    SCOPED_TRACE(str(entry.at("name")));
    auto ks = decrypt_keystore(json::serialize(entry.at("keystore")), str(entry.at("password")));
    ASSERT_TRUE(ks) << ks.error();
    EXPECT_EQ(to_hex(ks->secret.to_bytes()), str(entry.at("decrypted_secret_key")));
    EXPECT_EQ(to_hex(ks->pubkey, false), str(entry.at("keystore").at("pubkey")));
    EXPECT_EQ(ks->derivation_path, str(entry.at("keystore").at("path")));
  }
}

TEST(Keystore, Web3SignerKeystores) {
  auto entries = read_json("keystores/keystores_with_passwords.json").at("keystores").as_array();
  int decrypted = 0;
  for (const auto& entry : entries) {
    if (entry.at("password").is_null()) continue;
    SCOPED_TRACE(str(entry.at("file")));
    auto ks = decrypt_keystore(read_text("keystores/" + str(entry.at("file"))), str(entry.at("password")));
    ASSERT_TRUE(ks) << ks.error();
    EXPECT_EQ(to_hex(ks->secret.to_bytes()), str(entry.at("secret_key")));
    EXPECT_EQ(to_hex(ks->pubkey), str(entry.at("pubkey")));
    ++decrypted;
  }
  EXPECT_EQ(decrypted, 2);
}

TEST(Keystore, Eth2CliScryptKeystoreParsesAndRefusesAWrongPassword) {
  auto ks = decrypt_keystore(read_text("keystores/eth2clikeystore.json"), "not the password");
  ASSERT_FALSE(ks);
  EXPECT_EQ(ks.error(), "checksum mismatch (wrong password?)");
}

TEST(KeystoreLimits, ScryptNAboveTheCapIsRefusedBeforeAnyWork) {
  KeystoreLimits limits;
  limits.max_scrypt_n = 1 << 17;
  auto start = std::chrono::steady_clock::now();
  auto ks = decrypt_keystore(vector_keystore("scrypt"), eip_password(), limits);
  double elapsed = seconds_since(start);
  ASSERT_FALSE(ks);
  EXPECT_EQ(ks.error(), "scrypt n=2^18 exceeds the limit 2^17 (--keystore-max-scrypt-n)");
  // scrypt at n=2^18 takes hundreds of milliseconds here; a refusal is parsing only.
  EXPECT_LT(elapsed, 0.05);
}

TEST(KeystoreLimits, ScryptMemoryAndP) {
  KeystoreLimits limits;
  limits.max_scrypt_memory_bytes = 128ULL << 20;  // n=2^18, r=8 needs 256 MiB
  auto ks = decrypt_keystore(vector_keystore("scrypt"), eip_password(), limits);
  ASSERT_FALSE(ks);
  EXPECT_NE(ks.error().find("256 MiB of memory, above the limit 128 MiB"), std::string::npos) << ks.error();

  auto big_p = with(vector_keystore("scrypt"), [](json::object& k) { kdf_params(k)["p"] = 1000; });
  ks = decrypt_keystore(big_p, eip_password());
  ASSERT_FALSE(ks);
  EXPECT_NE(ks.error().find("p=1000 exceeds the limit 16"), std::string::npos) << ks.error();

  // r so large that 128*r*n overflows 64 bits must be refused, not wrapped around.
  auto huge_r = with(vector_keystore("scrypt"), [](json::object& k) { kdf_params(k)["r"] = 1ULL << 60; });
  EXPECT_FALSE(decrypt_keystore(huge_r, eip_password()));
}

TEST(KeystoreLimits, Pbkdf2C) {
  KeystoreLimits limits;
  limits.max_pbkdf2_c = 1000;
  auto ks = decrypt_keystore(vector_keystore("pbkdf2"), eip_password(), limits);
  ASSERT_FALSE(ks);
  EXPECT_EQ(ks.error(), "pbkdf2 c=2^18 exceeds the limit 1000 (--keystore-max-pbkdf2-c)");
  auto zero = with(vector_keystore("pbkdf2"), [](json::object& k) { kdf_params(k)["c"] = 0; });
  EXPECT_FALSE(decrypt_keystore(zero, eip_password()));
}

TEST(KeystoreLimits, MalformedParametersAreRefused) {
  struct Case {
    const char* kdf;
    std::function<void(json::object&)> edit;
    const char* expected;  // a piece of the error
  };
  const Case cases[] = {
      {"scrypt", [](json::object& k) { kdf_params(k)["n"] = 1000; }, "not a power of two"},
      {"scrypt", [](json::object& k) { kdf_params(k)["n"] = 1; }, "not a power of two"},
      {"scrypt", [](json::object& k) { kdf_params(k)["r"] = 0; }, "r and p must be at least 1"},
      {"scrypt", [](json::object& k) { kdf_params(k)["n"] = -4; }, "non-negative integer"},
      {"scrypt", [](json::object& k) { kdf_params(k)["n"] = 1.5; }, "non-negative integer"},
      {"scrypt", [](json::object& k) { kdf_params(k).erase("salt"); }, "missing field crypto.kdf.params.salt"},
      {"scrypt", [](json::object& k) { kdf_params(k)["salt"] = "zz"; }, "crypto.kdf.params.salt"},
      {"scrypt", [](json::object& k) { kdf_params(k)["dklen"] = 31; }, "dklen must be 32"},
      {"scrypt", [](json::object& k) { k["crypto"].as_object()["kdf"].as_object()["function"] = "argon2"; },
       "unsupported crypto.kdf.function"},
      {"pbkdf2", [](json::object& k) { kdf_params(k)["prf"] = "hmac-sha512"; }, "unsupported crypto.kdf.params.prf"},
      {"pbkdf2", [](json::object& k) { k["version"] = 3; }, "unsupported keystore version 3"},
      {"pbkdf2", [](json::object& k) { k.erase("version"); }, "missing field version"},
      {"pbkdf2", [](json::object& k) { k["crypto"].as_object()["checksum"].as_object()["function"] = "md5"; },
       "unsupported crypto.checksum.function"},
      {"pbkdf2", [](json::object& k) { k["crypto"].as_object()["cipher"].as_object()["function"] = "aes-256-gcm"; },
       "unsupported crypto.cipher.function"},
      {"pbkdf2", [](json::object& k) { k["crypto"].as_object()["cipher"].as_object()["message"] = "00ff"; },
       "crypto.cipher.message must be 32 bytes"},
      {"pbkdf2",
       [](json::object& k) { k["crypto"].as_object()["cipher"].as_object()["params"].as_object()["iv"] = "0011"; },
       "crypto.cipher.params.iv must be 16 bytes"},
      {"pbkdf2", [](json::object& k) { k["path"] = 7; }, "path must be a string"},
  };
  for (const auto& c : cases) {
    auto text = with(vector_keystore(c.kdf), c.edit);
    SCOPED_TRACE(text);
    auto start = std::chrono::steady_clock::now();
    auto ks = decrypt_keystore(text, eip_password());
    ASSERT_FALSE(ks);
    EXPECT_NE(ks.error().find(c.expected), std::string::npos) << ks.error();
    EXPECT_LT(seconds_since(start), 0.05) << "refused only after the KDF ran";
  }
}

TEST(KeystoreLimits, NotJson) {
  for (const char* text : {"", "{", "[1,2]", "not json", "{\"version\": 4}"}) {
    auto ks = decrypt_keystore(text, "x");
    ASSERT_FALSE(ks) << text;
    EXPECT_EQ(ks.error().find('\n'), std::string::npos);
  }
  EXPECT_FALSE(decrypt_keystore(std::string(2 << 20, ' '), "x"));
}

TEST(KeystoreEncrypt, ScryptRoundTrip) {
  auto sk = interop0();
  KeystoreParams params;
  params.kdf = Kdf::Scrypt;
  params.scrypt_n = 1 << 10;
  params.derivation_path = "m/12381/3600/0/0/0";
  params.description = "round trip";
  auto text = encrypt_keystore(sk, eip_password(), params);
  ASSERT_TRUE(text) << text.error();

  auto v = json::parse(*text).as_object();
  EXPECT_EQ(v.at("version").as_int64(), 4);
  EXPECT_EQ(str(v.at("pubkey")), to_hex(sk.public_key(), false));
  EXPECT_EQ(str(v.at("path")), "m/12381/3600/0/0/0");
  EXPECT_EQ(str(v.at("description")), "round trip");
  std::string uuid = str(v.at("uuid"));
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[14], '4');  // version 4
  EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos);
  const auto& kdf = v.at("crypto").at("kdf");
  EXPECT_EQ(str(kdf.at("function")), "scrypt");
  EXPECT_EQ(kdf.at("params").at("n").as_int64(), 1024);
  EXPECT_EQ(str(kdf.at("params").at("salt")).size(), 64u);
  EXPECT_EQ(str(v.at("crypto").at("cipher").at("params").at("iv")).size(), 32u);

  auto ks = decrypt_keystore(*text, eip_password());
  ASSERT_TRUE(ks) << ks.error();
  EXPECT_EQ(ks->secret.to_bytes(), sk.to_bytes());
  EXPECT_EQ(ks->pubkey, sk.public_key());
  EXPECT_EQ(ks->derivation_path, "m/12381/3600/0/0/0");
  EXPECT_EQ(ks->uuid, uuid);
  EXPECT_FALSE(decrypt_keystore(*text, "wrong"));

  // Fresh randomness each time.
  auto again = json::parse(encrypt_keystore(sk, eip_password(), params).value()).as_object();
  EXPECT_NE(str(again.at("uuid")), uuid);
  EXPECT_NE(again.at("crypto").at("kdf").at("params").at("salt"), kdf.at("params").at("salt"));
}

TEST(KeystoreEncrypt, Pbkdf2RoundTripWithControlCharactersInThePassword) {
  auto sk = interop0();
  KeystoreParams params;
  params.kdf = Kdf::Pbkdf2;
  params.pbkdf2_c = 2;
  auto text = encrypt_keystore(sk, "pass\x07word\x7f", params);
  ASSERT_TRUE(text) << text.error();
  EXPECT_EQ(str(json::parse(*text).at("crypto").at("kdf").at("params").at("prf")), "hmac-sha256");
  // The control characters are not part of the processed password, so the bare one opens it too.
  for (const char* password : {"pass\x07word\x7f", "password"}) {
    auto ks = decrypt_keystore(*text, password);
    ASSERT_TRUE(ks) << ks.error();
    EXPECT_EQ(ks->secret.to_bytes(), sk.to_bytes());
  }
  EXPECT_EQ(decrypt_keystore(*text, "passw0rd").error(), "checksum mismatch (wrong password?)");
}

TEST(KeystoreEncrypt, RefusesBadParameters) {
  auto sk = interop0();
  KeystoreParams params;
  params.scrypt_n = 1000;
  EXPECT_FALSE(encrypt_keystore(sk, "x", params));
  params.kdf = Kdf::Pbkdf2;
  params.pbkdf2_c = 0;
  EXPECT_FALSE(encrypt_keystore(sk, "x", params));
  params.pbkdf2_c = 1;
  EXPECT_FALSE(encrypt_keystore(sk, "\xff", params));
}
