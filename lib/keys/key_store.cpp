// The key map: a shared_mutex so that the signing path (find) only ever takes the shared side.
#include <openssl/sha.h>

#include <cachet/keys/key_store.hpp>
#include <mutex>

namespace cachet::keys {

PasswordDigest::PasswordDigest(std::string_view password) {
  SHA256(reinterpret_cast<const unsigned char*>(password.data()), password.size(), bytes.data());
}

std::shared_ptr<const Key> KeyStore::find(const crypto::PublicKey& pubkey) const {
  std::shared_lock lock(mutex_);
  auto it = keys_.find(pubkey);
  return it == keys_.end() ? nullptr : it->second;
}

bool KeyStore::insert(std::shared_ptr<const Key> key) {
  if (!key) return false;
  const crypto::PublicKey pubkey = key->pubkey;
  std::unique_lock lock(mutex_);
  // try_emplace leaves `key` alone when the pubkey is already there.
  return keys_.try_emplace(pubkey, std::move(key)).second;
}

std::shared_ptr<const Key> KeyStore::erase(const crypto::PublicKey& pubkey) {
  std::shared_ptr<const Key> removed;
  {
    std::unique_lock lock(mutex_);
    auto it = keys_.find(pubkey);
    if (it == keys_.end()) return nullptr;
    removed = std::move(it->second);
    keys_.erase(it);
  }
  return removed;
}

void KeyStore::apply(const std::vector<crypto::PublicKey>& removed,
                     const std::vector<std::shared_ptr<const Key>>& added) {
  std::unique_lock lock(mutex_);
  for (const auto& pubkey : removed) keys_.erase(pubkey);
  for (const auto& key : added) keys_.insert_or_assign(key->pubkey, key);
}

std::vector<std::shared_ptr<const Key>> KeyStore::list() const {
  std::shared_lock lock(mutex_);
  std::vector<std::shared_ptr<const Key>> out;
  out.reserve(keys_.size());
  for (const auto& [pubkey, key] : keys_) out.push_back(key);
  return out;
}

std::size_t KeyStore::size() const {
  std::shared_lock lock(mutex_);
  return keys_.size();
}

}  // namespace cachet::keys
