#include "keys/keystore_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cachet/util/bytes.hpp>
#include <cerrno>
#include <cstring>

namespace cachet::keys {

namespace fs = std::filesystem;

WipeOnExit::~WipeOnExit() { secure_wipe(value.data(), value.size()); }

std::expected<std::string, std::string> read_small_file(const fs::path& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. It changes nothing for the
  // regular files that pass the check below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::unexpected(std::string(std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::unexpected(std::string("not a regular file"));
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return std::unexpected("larger than " + std::to_string(max_bytes >> 20) + " MiB");
  }
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      secure_wipe(out.data(), out.size());
      return std::unexpected(std::string(std::strerror(err)));
    }
    if (n == 0) break;  // the file shrank meanwhile
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

void strip_one_newline(std::string& s) {
  if (s.ends_with("\r\n"))
    s.resize(s.size() - 2);
  else if (s.ends_with('\n'))
    s.resize(s.size() - 1);
}

namespace {

// Why a `*.json` entry is not a keystore file, or "" when it is one (a regular file, possibly through links).
std::string unusable_entry_reason(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    struct stat link {};
    if (err == ELOOP) return "a symbolic link loop";
    if (err == ENOENT && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) return "a dangling symbolic link";
    return std::string("cannot stat: ") + std::strerror(err);
  }
  if (S_ISREG(st.st_mode)) return {};
  if (S_ISDIR(st.st_mode)) return "a directory, not a keystore file";
  if (S_ISFIFO(st.st_mode)) return "a FIFO, not a keystore file";
  if (S_ISSOCK(st.st_mode)) return "a socket, not a keystore file";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device, not a keystore file";
  return "not a regular file";
}

}  // namespace

std::vector<KeystoreFile> list_keystore_files(const KeyDirectory& dir, std::vector<LoadFailure>& failures) {
  std::vector<KeystoreFile> out;
  std::error_code ec;
  if (!fs::is_directory(dir.keystores, ec)) {
    failures.push_back({dir.keystores,
                        fs::exists(dir.keystores, ec) ? "not a directory" : "the keystores directory does not exist",
                        dir.source});
    return out;
  }
  for (fs::directory_iterator it(dir.keystores, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    if (path.extension() != ".json") continue;  // notes, passwords, sub-directories: not keystores
    if (auto reason = unusable_entry_reason(path); !reason.empty()) {
      failures.push_back({path, std::move(reason), dir.source});
      continue;
    }
    fs::path password = dir.password_file.empty() ? dir.passwords / (path.stem().string() + ".txt") : dir.password_file;
    out.push_back({path, std::move(password), dir.source});
  }
  if (ec) failures.push_back({dir.keystores, "cannot list the keystores directory: " + ec.message(), dir.source});
  // A stable order for logs and for which of two duplicates wins (the first path).
  std::sort(out.begin(), out.end(), [](const KeystoreFile& a, const KeystoreFile& b) { return a.path < b.path; });
  return out;
}

}  // namespace cachet::keys
