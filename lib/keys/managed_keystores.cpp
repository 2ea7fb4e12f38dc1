#include <openssl/sha.h>

#include <boost/json/parse.hpp>
#include <cachet/keys/managed_keystores.hpp>
#include <cachet/util/durable_file.hpp>

namespace cachet::keys {
namespace {

// The keystore's own `pubkey` field, to answer `duplicate` without paying for the KDF.
std::optional<crypto::PublicKey> declared_pubkey(std::string_view keystore_json) {
  boost::system::error_code ec;
  auto json = boost::json::parse(keystore_json, ec);
  if (ec || !json.is_object()) return std::nullopt;
  const auto* field = json.as_object().if_contains("pubkey");
  if (!field || !field->is_string()) return std::nullopt;
  auto bytes = from_hex_fixed<48>(std::string_view(field->get_string()));
  if (!bytes) return std::nullopt;
  return *bytes;
}

}  // namespace

std::filesystem::path ManagedKeystores::keystore_file(const crypto::PublicKey& pubkey) const {
  return dir_ / (to_hex(pubkey) + ".json");
}

std::filesystem::path ManagedKeystores::password_file(const crypto::PublicKey& pubkey) const {
  return dir_ / (to_hex(pubkey) + ".txt");
}

ImportResult ManagedKeystores::import(std::string_view keystore_json, std::string_view password, KeyStore& store,
                                      const crypto::KeystoreLimits& limits) const {
  using Status = ImportResult::Status;
  if (auto declared = declared_pubkey(keystore_json); declared && store.find(*declared))
    return {Status::Duplicate, {}, declared};

  auto decrypted = crypto::decrypt_keystore(keystore_json, password, limits);
  if (!decrypted) return {Status::Error, decrypted.error(), declared_pubkey(keystore_json)};
  const auto pubkey = decrypted->pubkey;

  std::lock_guard lock(mutex_);
  if (store.find(pubkey)) return {Status::Duplicate, {}, pubkey};
  if (auto made = ensure_directory(dir_); !made) return {Status::Error, made.error(), pubkey};
  // Password first: a keystore file on disk without its password would fail to load at the next start.
  // The loader strips one trailing newline, so the stored file ends with one and the password round-trips exactly.
  std::string password_line;  // built in place: a temporary would leave a short password behind unwiped
  password_line.reserve(password.size() + 1);
  password_line.append(password).push_back('\n');
  auto written = write_file_durably(password_file(pubkey), password_line);
  secure_wipe(password_line.data(), password_line.size());
  if (!written) return {Status::Error, written.error(), pubkey};
  if (auto w = write_file_durably(keystore_file(pubkey), keystore_json); !w) {
    (void)remove_file_durably(password_file(pubkey));
    return {Status::Error, w.error(), pubkey};
  }
  Bytes32 sha256{};
  SHA256(reinterpret_cast<const unsigned char*>(keystore_json.data()), keystore_json.size(), sha256.data());
  auto key = std::make_shared<const Key>(Key{std::move(decrypted->secret), pubkey, KeySource::Managed,
                                             std::move(decrypted->derivation_path), keystore_file(pubkey).string(),
                                             password_file(pubkey).string(), sha256, PasswordDigest(password)});
  store.insert(std::move(key));
  return {Status::Imported, {}, pubkey};
}

DeleteResult ManagedKeystores::remove(const crypto::PublicKey& pubkey, KeyStore& store) const {
  using Status = DeleteResult::Status;
  std::lock_guard lock(mutex_);
  auto key = store.find(pubkey);
  if (!key) return {Status::NotFound, {}};
  if (key->readonly())
    return {Status::Error, "key is read-only: it was loaded from --keystores-path and can only be removed there"};
  store.erase(pubkey);  // stops signing at once
  auto removed = remove_file_durably(keystore_file(pubkey));
  if (removed) removed = remove_file_durably(password_file(pubkey));
  if (!removed) {
    // Still on disk, so it would come back at the next start: keep memory and disk in agreement.
    store.insert(std::move(key));
    return {Status::Error, removed.error()};
  }
  return {Status::Deleted, {}};
}

}  // namespace cachet::keys
