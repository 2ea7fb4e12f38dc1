// The keymanager API's request bodies (POST and DELETE /eth/v1/keystores, keymanager-APIs
// apis/local_keystores.yaml): parsed here, apart from the handler's I/O, so that the handler and the fuzz target
// (test/fuzz/keymanager_body_fuzz.cpp) run the same code. Every error is the message of a 400.
#pragma once

#include <boost/json/object.hpp>
#include <cachet/crypto/bls.hpp>
#include <cachet/slashing/interchange.hpp>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachet::server {

/// The body as a JSON object (at most 8 levels deep: keystores arrive as JSON strings, so a body is shallow). It
/// holds an import's passwords: the caller wipes them (wipe_passwords) when done with it.
std::expected<boost::json::object, std::string> parse_keymanager_body(std::string_view body);

/// Overwrites the strings of `body`'s "passwords" array, if any.
void wipe_passwords(boost::json::object& body);

/// POST: "keystores" and "passwords", arrays of strings of the same length, and an optional "slashing_protection",
/// an EIP-3076 interchange as a JSON string (null: none).
struct ImportRequest {
  std::vector<std::string> keystores;
  std::vector<std::string> passwords;  // wiped by the destructor (moving the vector out takes them along)
  std::optional<slashing::Interchange> slashing_protection;

  ImportRequest() = default;
  ImportRequest(ImportRequest&&) = default;
  ImportRequest& operator=(ImportRequest&&) = default;
  ImportRequest(const ImportRequest&) = delete;
  ImportRequest& operator=(const ImportRequest&) = delete;
  ~ImportRequest();
};
std::expected<ImportRequest, std::string> parse_import_request(const boost::json::object& body);

/// DELETE: "pubkeys", an array of 0x-prefixed 48-byte hex public keys (either case).
std::expected<std::vector<crypto::PublicKey>, std::string> parse_delete_request(const boost::json::object& body);

}  // namespace cachet::server
