#include "server/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cachet::server {
namespace {

constexpr std::string_view kSpace = " \t\r";

// The first queued OpenSSL error's reason ("no start line", "key values mismatch"), and an empty queue after.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown OpenSSL error";
}

// The file's text, or why it cannot be read (so a missing file is named before OpenSSL's vaguer reasons).
std::expected<std::string, std::string> read_text(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(flag + ": cannot read " + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<Sha256Fingerprint> parse_fingerprint(std::string_view text) {
  const bool separated = text.find(':') != std::string_view::npos;
  if (text.size() != (separated ? 32 * 3 - 1 : 64)) return std::nullopt;
  Sha256Fingerprint out{};
  for (std::size_t i = 0, pos = 0; i < out.size(); ++i) {
    if (separated && i > 0 && text[pos++] != ':') return std::nullopt;
    const int hi = hex_digit(text[pos++]);
    const int lo = hex_digit(text[pos++]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return out;
}

std::optional<Sha256Fingerprint> fingerprint_of(X509* cert) {
  Sha256Fingerprint out{};
  unsigned int len = 0;
  if (!cert || X509_digest(cert, EVP_sha256(), out.data(), &len) != 1 || len != out.size()) return std::nullopt;
  return out;
}

// Never prompt on the terminal for an encrypted key: it simply fails to load.
int no_password(char*, int, int, void*) { return 0; }

}  // namespace

std::expected<std::vector<KnownClient>, std::string> parse_known_clients(std::string_view text) {
  std::vector<KnownClient> clients;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    const auto first = line.find_first_not_of(kSpace);
    if (first == std::string_view::npos || line[first] == '#') continue;
    line = line.substr(first, line.find_last_not_of(kSpace) - first + 1);
    const auto gap = line.find_first_of(kSpace);
    const auto at = "line " + std::to_string(line_number) + ": ";
    if (gap == std::string_view::npos) return std::unexpected(at + "expected NAME SHA256-FINGERPRINT");
    const std::string_view name = line.substr(0, gap);
    const std::string_view rest = line.substr(line.find_first_not_of(kSpace, gap));
    if (rest.find_first_of(kSpace) != std::string_view::npos)
      return std::unexpected(at + "expected NAME SHA256-FINGERPRINT, found more fields");
    auto fingerprint = parse_fingerprint(rest);
    if (!fingerprint)
      return std::unexpected(at + "the fingerprint must be 32 hex pairs separated by ':' (SHA-256 of the certificate)");
    for (const auto& c : clients) {
      if (c.fingerprint == *fingerprint) return std::unexpected(at + "fingerprint already listed for '" + c.name + "'");
    }
    clients.push_back({std::string(name), *fingerprint});
  }
  return clients;
}

std::string format_fingerprint(const Sha256Fingerprint& fingerprint) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char b : fingerprint) {
    if (!out.empty()) out += ':';
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::optional<std::string> key_file_permission_warning(const std::filesystem::path& key_file) {
  struct stat st {};
  if (::stat(key_file.c_str(), &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0) return std::nullopt;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return "--tls-key-file " + key_file.string() + " is accessible by users other than its owner (mode " + mode +
         "); chmod 600 it";
}

TlsContext::TlsContext() : context_(boost::asio::ssl::context::tls_server) {}

std::expected<std::unique_ptr<TlsContext>, std::string> TlsContext::create(const TlsOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty())
    return std::unexpected("--tls-cert-file and --tls-key-file must be given together");
  if (options.cert_file.empty())
    return std::unexpected("--tls-client-ca-file and --tls-known-clients-file need --tls-cert-file and --tls-key-file");
  ERR_clear_error();
  std::unique_ptr<TlsContext> tls(new TlsContext());
  SSL_CTX* ctx = tls->context_.native_handle();

  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1)
    return std::unexpected("TLS: cannot set the cipher list: " + openssl_reason());
  // Sessions are resumed only within this context, and a resumed session keeps the client that was accepted.
  static constexpr unsigned char kSessionContext[] = "cachet";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_default_passwd_cb(ctx, no_password);

  if (auto text = read_text("--tls-cert-file", options.cert_file); !text) return std::unexpected(text.error());
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1)
    return std::unexpected("--tls-cert-file: " + options.cert_file + ": not a PEM certificate: " + openssl_reason());
  if (auto text = read_text("--tls-key-file", options.key_file); !text) return std::unexpected(text.error());
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return std::unexpected("--tls-key-file: " + options.key_file +
                           ": not an unencrypted PEM private key: " + openssl_reason());
  if (SSL_CTX_check_private_key(ctx) != 1)
    return std::unexpected("--tls-key-file: " + options.key_file + " does not match the certificate in " +
                           options.cert_file);

  if (!options.client_ca_file.empty()) {
    if (auto text = read_text("--tls-client-ca-file", options.client_ca_file); !text)
      return std::unexpected(text.error());
    if (SSL_CTX_load_verify_locations(ctx, options.client_ca_file.c_str(), nullptr) != 1)
      return std::unexpected("--tls-client-ca-file: " + options.client_ca_file +
                             ": not PEM certificates: " + openssl_reason());
    // The CertificateRequest names these CAs, so a client holding several certificates picks the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (!names) return std::unexpected("--tls-client-ca-file: " + options.client_ca_file + ": no CA certificate in it");
    SSL_CTX_set_client_CA_list(ctx, names);
    tls->has_client_ca_ = true;
  }
  if (!options.known_clients_file.empty()) {
    auto text = read_text("--tls-known-clients-file", options.known_clients_file);
    if (!text) return std::unexpected(text.error());
    auto clients = parse_known_clients(*text);
    if (!clients)
      return std::unexpected("--tls-known-clients-file: " + options.known_clients_file + ": " + clients.error());
    if (clients->empty())
      return std::unexpected("--tls-known-clients-file: " + options.known_clients_file + " lists no client");
    tls->known_clients_ = std::move(*clients);
  }
  if (tls->mutual()) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, &TlsContext::verify_certificate, tls.get());
  }
  ERR_clear_error();
  return tls;
}

// Replaces OpenSSL's chain verification for client certificates: a listed fingerprint is accepted as it is
// (self-signed certificates are the point of the known-clients file); otherwise the chain must verify against
// the client CA file, when there is one.
int TlsContext::verify_certificate(X509_STORE_CTX* store, void* self) {
  const auto& tls = *static_cast<const TlsContext*>(self);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (auto fingerprint = fingerprint_of(leaf); fingerprint && tls.find_known(*fingerprint)) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  if (tls.has_client_ca_) return X509_verify_cert(store) == 1 ? 1 : 0;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

const KnownClient* TlsContext::find_known(const Sha256Fingerprint& fingerprint) const {
  for (const auto& c : known_clients_) {
    if (c.fingerprint == fingerprint) return &c;
  }
  return nullptr;
}

std::string TlsContext::client_name(SSL* ssl) const {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert) return {};
  if (auto fingerprint = fingerprint_of(cert)) {
    if (const auto* known = find_known(*fingerprint)) return known->name;
  }
  char subject[256];
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  return subject;
}

}  // namespace cachet::server
