// TLS for the API listener: the server's certificate and key, the protocol and cipher policy, and who may connect
// (mutual TLS by client CA and/or by a Web3Signer-style known-clients file of certificate fingerprints).
#pragma once

#include <array>
#include <boost/asio/ssl/context.hpp>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef struct ssl_st SSL;

namespace cachet::server {

struct TlsOptions {
  std::string cert_file;           // PEM certificate chain, leaf first
  std::string key_file;            // PEM private key (not encrypted)
  std::string client_ca_file;      // PEM CA certificates: any client certificate they issued is accepted
  std::string known_clients_file;  // lines `NAME SHA256-FINGERPRINT`: these certificates are accepted as they are
};

using Sha256Fingerprint = std::array<unsigned char, 32>;

struct KnownClient {
  std::string name;
  Sha256Fingerprint fingerprint;
};

/// Parses a known-clients file (Web3Signer's format): one `NAME FINGERPRINT` a line, the fingerprint the SHA-256 of
/// the DER certificate as 32 hex pairs separated by ':' (or 64 hex digits), any case; '#' comment lines and blank
/// lines are skipped. The error names the line ("line 3: ..."). A fingerprint listed twice is an error.
std::expected<std::vector<KnownClient>, std::string> parse_known_clients(std::string_view text);

/// "AB:CD:…" (upper case), as the known-clients file and `openssl x509 -fingerprint -sha256` write it.
std::string format_fingerprint(const Sha256Fingerprint& fingerprint);

/// A warning when the key file can be read or written by anyone but its owner; nullopt when it cannot.
std::optional<std::string> key_file_permission_warning(const std::filesystem::path& key_file);

/// TLS 1.2 cipher suites: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only. TLS 1.3 keeps OpenSSL's
/// defaults (all of which are AEAD with ephemeral key exchange).
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/// The server's TLS context. Not movable: OpenSSL's verification callback holds its address.
class TlsContext {
 public:
  /// Loads the files and sets the policy: TLS 1.2 and 1.3 only, kTls12Ciphers, server cipher preference, no
  /// compression, no renegotiation. With a client CA file or known clients, a client must present a certificate
  /// that one of them accepts (either is enough), or the handshake fails. Errors name the flag and the file.
  static std::expected<std::unique_ptr<TlsContext>, std::string> create(const TlsOptions& options);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context& context() { return context_; }
  bool mutual() const { return has_client_ca_ || !known_clients_.empty(); }
  std::size_t known_client_count() const { return known_clients_.size(); }

  /// Who the handshake on `ssl` accepted, for logs: the known-clients NAME, else the CA-issued certificate's
  /// subject; empty without a client certificate.
  std::string client_name(SSL* ssl) const;

 private:
  TlsContext();
  const KnownClient* find_known(const Sha256Fingerprint& fingerprint) const;
  static int verify_certificate(struct x509_store_ctx_st* store, void* self);

  boost::asio::ssl::context context_;
  bool has_client_ca_ = false;
  std::vector<KnownClient> known_clients_;
};

}  // namespace cachet::server
