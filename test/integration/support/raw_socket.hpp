// A raw loopback TCP connection for byte-level tests (slowloris, silent and idle connections, connection floods):
// nothing is sent but what the test sends.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cachet::test {

class RawSocket {
 public:
  /// Connects to 127.0.0.1:`port` from the loopback address `source` ("127.0.0.2", …; empty: 127.0.0.1), so that
  /// tests can play several client addresses. Reads time out after `timeout`.
  explicit RawSocket(std::uint16_t port, const std::string& source = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  int fd() const { return fd_; }
  bool connected() const { return connected_; }
  bool send(std::string_view bytes);
  /// Closes the sending side: the server sees the end of the stream.
  void shutdown_write();
  /// True once the server has closed its side (EOF or reset), without blocking.
  bool closed_by_server();
  /// True once the server has sent something or closed, without blocking.
  bool answered_or_closed();
  /// Blocks (up to the read timeout) until the server closes; how long that took.
  std::chrono::milliseconds time_until_closed();
  /// Everything the server sends until it closes or the read timeout passes.
  std::string read_until_closed();

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace cachet::test
