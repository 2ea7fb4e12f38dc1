// Finding keystore files in a directory and reading them (and their passwords) safely: a directory entry that is not
// a regular file is reported, never opened in a way that could block (a FIFO, a device).
#pragma once

#include <cachet/keys/keystore_loader.hpp>
#include <expected>
#include <filesystem>
#include <string>
#include <vector>

namespace cachet::keys {

// A keystore is about 1 KiB and a password shorter still; a larger file is a mistake, not something to read whole.
inline constexpr std::size_t kMaxKeystoreFileBytes = 1 << 20;

/// Reads a whole regular file with one buffer and no stream buffering, so a password leaves a single copy to wipe.
/// Opened non-blocking and checked with fstat before any read: a FIFO or device is refused at once.
std::expected<std::string, std::string> read_small_file(const std::filesystem::path& path,
                                                        std::size_t max_bytes = kMaxKeystoreFileBytes);

/// Editors and `echo` end a password file with a newline that is not part of the password; only one is removed so
/// that a password that really ends in whitespace still works.
void strip_one_newline(std::string& s);

/// Wipes a string in place when it goes out of scope (moving it would leave a short password in the old object).
struct WipeOnExit {
  std::string& value;
  explicit WipeOnExit(std::string& v) : value(v) {}
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;
  ~WipeOnExit();
};

/// A keystore file found in a directory, with the password file that goes with it.
struct KeystoreFile {
  std::filesystem::path path;
  std::filesystem::path password_path;
  KeySource source = KeySource::External;
};

/// Every `*.json` entry of `dir.keystores` that is a regular file (or a link to one), sorted by path. Entries named
/// `*.json` that are not (a directory, a FIFO, a socket, a device, a dangling link, a symlink loop) go to `failures`
/// with the reason; other names are ignored. A directory that cannot be listed is one failure.
std::vector<KeystoreFile> list_keystore_files(const KeyDirectory& dir, std::vector<LoadFailure>& failures);

}  // namespace cachet::keys
