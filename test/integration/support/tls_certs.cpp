#include "support/tls_certs.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace cachet::test {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;

[[noreturn]] void fail(const std::string& what) {
  char reason[256] = "";
  ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
  throw std::runtime_error("test certificates: " + what + ": " + reason);
}

Key ec_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("EC key");
  return key;
}

Key rsa_key() {
  Key key(EVP_RSA_gen(2048));
  if (!key) fail("RSA key");
  return key;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail(std::string("extension ") + OBJ_nid2sn(nid));
}

struct CertSpec {
  std::string common_name;
  bool ca = false;
  const char* extended_key_usage = nullptr;  // "clientAuth", "serverAuth"
  const char* subject_alt_name = nullptr;
};

// Signed by `issuer` with `issuer_key`, or self-signed when there is no issuer.
Cert make_cert(EVP_PKEY* key, const CertSpec& spec, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  Cert cert(X509_new());
  X509* x = cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("cachet tests"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
  add_extension(x, &ctx, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_extension(x, &ctx, NID_key_usage,
                spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
  add_extension(x, &ctx, NID_subject_key_identifier, "hash");
  if (issuer) add_extension(x, &ctx, NID_authority_key_identifier, "keyid:always");
  if (spec.extended_key_usage) add_extension(x, &ctx, NID_ext_key_usage, spec.extended_key_usage);
  if (spec.subject_alt_name) add_extension(x, &ctx, NID_subject_alt_name, spec.subject_alt_name);
  if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) == 0) fail("sign " + spec.common_name);
  return cert;
}

std::string fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    if (i) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

CertAndKey write(const std::filesystem::path& dir, const std::string& stem, X509* cert, EVP_PKEY* key) {
  CertAndKey out{dir / (stem + ".crt"), dir / (stem + ".key"), fingerprint(cert)};
  std::unique_ptr<BIO, Free> c(BIO_new_file(out.cert.c_str(), "w"));
  if (!c || PEM_write_bio_X509(c.get(), cert) != 1) fail("write " + out.cert.string());
  std::unique_ptr<BIO, Free> k(BIO_new_file(out.key.c_str(), "w"));
  if (!k || PEM_write_bio_PrivateKey(k.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("write " + out.key.string());
  std::filesystem::permissions(out.key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return out;
}

}  // namespace

TlsFiles make_tls_files(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  TlsFiles files;
  auto ca_key = ec_key();
  auto ca = make_cert(ca_key.get(), {"cachet test CA", true}, nullptr, nullptr);
  files.ca = write(dir, "ca", ca.get(), ca_key.get());

  auto server_key = rsa_key();
  auto server = make_cert(server_key.get(), {"localhost", false, "serverAuth", "IP:127.0.0.1,DNS:localhost"}, ca.get(),
                          ca_key.get());
  files.server = write(dir, "server", server.get(), server_key.get());

  auto client_key = ec_key();
  auto client = make_cert(client_key.get(), {"ca-client", false, "clientAuth"}, ca.get(), ca_key.get());
  files.client = write(dir, "client", client.get(), client_key.get());

  auto self_key = ec_key();
  auto self = make_cert(self_key.get(), {"self-signed-client", false, "clientAuth"}, nullptr, nullptr);
  files.self_signed = write(dir, "self-signed", self.get(), self_key.get());

  auto other_ca_key = ec_key();
  auto other_ca = make_cert(other_ca_key.get(), {"unrelated CA", true}, nullptr, nullptr);
  auto unrelated_key = ec_key();
  auto unrelated =
      make_cert(unrelated_key.get(), {"unrelated-client", false, "clientAuth"}, other_ca.get(), other_ca_key.get());
  files.unrelated = write(dir, "unrelated", unrelated.get(), unrelated_key.get());
  return files;
}

}  // namespace cachet::test
