#include "support/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace cachet::test {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

RawConnection::~RawConnection() { close(); }

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

bool RawConnection::connect() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    close();
    return false;
  }
  return true;
}

RawResponse RawConnection::exchange(std::string_view bytes, int timeout_ms, bool shutdown_write) {
  reused_ = fd_ >= 0;
  if (fd_ < 0 && !connect()) return RawResponse{0, {}, {}, false, "connect failed: " + std::string(strerror(errno))};
  std::size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (sent < bytes.size()) {
    // Never block on a send: a server that answers early (413) and stops reading must not stall the test.
    pollfd p{fd_, POLLOUT | POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    if (p.revents & POLLIN) break;  // the server answers before taking everything: read that answer
    if (!(p.revents & POLLOUT)) break;
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;  // EPIPE/ECONNRESET: whatever the server said before is still readable
    }
    sent += static_cast<std::size_t>(n);
  }
  if (shutdown_write) ::shutdown(fd_, SHUT_WR);
  return read_response(static_cast<int>(std::max<long>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count())));
}

RawResponse RawConnection::read_response(int timeout_ms) {
  RawResponse r;
  if (fd_ < 0) {
    r.error = "not connected";
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string& buf = pending_;
  std::size_t header_end = std::string::npos, body_start = 0;
  std::size_t content_length = std::string::npos;
  bool closed = false;
  auto parse_head = [&] {
    header_end = buf.find("\r\n\r\n");
    if (header_end == std::string::npos) return;
    body_start = header_end + 4;
    std::string_view head(buf.data(), header_end);
    const auto line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() >= 12 && status_line.starts_with("HTTP/1."))
      r.status = static_cast<unsigned>(std::atoi(std::string(status_line.substr(9, 3)).c_str()));
    std::string_view rest = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
    while (!rest.empty()) {
      const auto e = rest.find("\r\n");
      const std::string_view line = rest.substr(0, e);
      rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      r.headers[lower(trim(line.substr(0, colon)))] = std::string(trim(line.substr(colon + 1)));
    }
    if (auto it = r.headers.find("content-length"); it != r.headers.end())
      content_length = std::strtoull(it->second.c_str(), nullptr, 10);
  };
  for (;;) {
    if (header_end == std::string::npos) parse_head();
    if (header_end != std::string::npos && content_length != std::string::npos &&
        buf.size() - body_start >= content_length)
      break;
    if (closed) break;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      r.status = 0;
      r.error = "timed out after " + std::to_string(timeout_ms) + " ms waiting for a response";
      close();
      return r;
    }
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      closed = true;
    } else if (errno != EINTR && errno != EAGAIN) {
      r.error = std::string("connection error: ") + strerror(errno);
      closed = true;
    }
  }
  r.server_closed = closed;
  if (header_end == std::string::npos || r.status == 0) {
    r.status = 0;
    if (r.error.empty()) r.error = buf.empty() ? "closed without a response" : "closed after a partial response";
    close();
    return r;
  }
  if (content_length == std::string::npos) {  // no length: the body runs to the close
    r.body = buf.substr(body_start);
    buf.clear();
  } else if (buf.size() - body_start < content_length) {
    r.status = 0;
    r.error = "closed in the middle of the response body";
    close();
    return r;
  } else {
    r.body = buf.substr(body_start, content_length);
    buf.erase(0, body_start + content_length);
  }
  if (closed || lower(r.headers["connection"]) == "close") close();
  return r;
}

std::string http_request(std::string_view method, std::string_view target, std::string_view body,
                         const std::vector<std::pair<std::string, std::string>>& headers, std::uint16_t port) {
  std::string out;
  out.reserve(body.size() + 512);
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  out.append("Host: 127.0.0.1:").append(std::to_string(port)).append("\r\n");
  bool has_length = false;
  for (const auto& [k, v] : headers) {
    const auto name = lower(k);
    if (name == "content-length" || name == "transfer-encoding") has_length = true;
    out.append(k).append(": ").append(v).append("\r\n");
  }
  if (!has_length) out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

}  // namespace cachet::test
