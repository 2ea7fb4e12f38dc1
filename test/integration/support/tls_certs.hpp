// Certificates for the TLS tests, made at test time with OpenSSL's C API: a CA, a server certificate for
// 127.0.0.1 and localhost, a client certificate from the CA, a self-signed client certificate and one from an
// unrelated CA.
#pragma once

#include <filesystem>
#include <string>

namespace cachet::test {

struct CertAndKey {
  std::filesystem::path cert;  // PEM
  std::filesystem::path key;   // PEM, unencrypted, mode 0600
  std::string fingerprint;     // SHA-256 of the DER certificate, "AB:CD:…"
};

struct TlsFiles {
  CertAndKey ca;           // self-signed CA
  CertAndKey server;       // RSA 2048, issued by `ca`, SAN IP:127.0.0.1 and DNS:localhost, serverAuth
  CertAndKey client;       // EC P-256, issued by `ca`, CN "ca-client", clientAuth
  CertAndKey self_signed;  // EC P-256, self-signed, CN "self-signed-client", clientAuth
  CertAndKey unrelated;    // EC P-256, issued by another self-signed CA, CN "unrelated-client", clientAuth
};

/// Writes every file into `dir`; throws std::runtime_error when OpenSSL fails.
TlsFiles make_tls_files(const std::filesystem::path& dir);

}  // namespace cachet::test
