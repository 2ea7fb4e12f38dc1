// HTTP/1.1 over a plain socket with nothing checked on the way out, for tests that send malformed or hostile
// requests: the bytes go as given, and the answer (or how the connection ended) is reported exactly.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachet::test {

struct RawResponse {
  unsigned status = 0;  // 0: no complete response; `error` says how the connection ended
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  bool server_closed = false;                  // the server closed the connection (after or instead of answering)
  std::string error;                           // "closed without a response", "timed out", "reset", ...
};

/// One connection, reused while the server keeps it alive. Not thread-safe.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) : port_(port) {}
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Sends `bytes` (connecting first when needed) and reads one response within `timeout_ms`. With
  /// `shutdown_write` the sending side is closed after the bytes (the server sees end of stream). The connection is
  /// closed afterwards when the server closed it or said `Connection: close`.
  RawResponse exchange(std::string_view bytes, int timeout_ms = 30000, bool shutdown_write = false);
  /// Reads one more response (pipelined requests).
  RawResponse read_response(int timeout_ms = 30000);
  /// Whether the last exchange used a connection that had already carried a response.
  bool reused() const { return reused_; }
  void close();

 private:
  bool connect();
  std::uint16_t port_;
  int fd_ = -1;
  bool reused_ = false;
  std::string pending_;  // bytes received past the last response
};

/// `METHOD target HTTP/1.1` with Host, the given headers in order, Content-Length (unless `headers` has one or a
/// Transfer-Encoding) and the body.
std::string http_request(std::string_view method, std::string_view target, std::string_view body,
                         const std::vector<std::pair<std::string, std::string>>& headers, std::uint16_t port);

}  // namespace cachet::test
