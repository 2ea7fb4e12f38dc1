#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cachet/util/durable_file.hpp>
#include <cerrno>
#include <cstring>
#include <random>

namespace cachet {
namespace {

std::string errno_text(std::string_view what, const std::filesystem::path& path) {
  return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

std::expected<void, std::string> fsync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(errno_text("cannot open directory", dir));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return std::unexpected(errno_text("cannot fsync directory", dir));
  return {};
}

}  // namespace

std::expected<void, std::string> write_file_durably(const std::filesystem::path& path, std::string_view content,
                                                    unsigned mode) {
  const auto dir = path.parent_path();
  std::random_device rd;
  const auto tmp = dir / ("." + path.filename().string() + ".tmp" + std::to_string(rd()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return std::unexpected(errno_text("cannot create", tmp));
  ::fchmod(fd, mode);  // the umask must not widen or narrow what the caller asked for
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto err = errno_text("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return std::unexpected(err);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto err = errno_text("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return std::unexpected(err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = errno_text("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return std::unexpected(err);
  }
  return fsync_directory(dir);
}

std::expected<void, std::string> remove_file_durably(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return std::unexpected(errno_text("cannot remove", path));
  return fsync_directory(path.parent_path());
}

std::expected<void, std::string> ensure_directory(const std::filesystem::path& dir, unsigned mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected("cannot create directory " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), mode);
  return fsync_directory(dir.parent_path());
}

}  // namespace cachet
