// A blocking HTTP/1.1 client over a raw socket for the HTTP layer's tests: it sends exactly
// the bytes a test writes (malformed, partial, slow) and reads responses with bounded waits.
#ifndef DSINFER_TESTS_UNIT_SERVER_HTTP_TEST_CLIENT_H_
#define DSINFER_TESTS_UNIT_SERVER_HTTP_TEST_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dsinfer::server::testing {

struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
};

class TestClient {
 public:
  TestClient() = default;
  ~TestClient() { Close(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  TestClient(TestClient&& other) noexcept : fd_(other.fd_), pending_(std::move(other.pending_)) {
    other.fd_ = -1;
  }

  bool Connect(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }

  bool SendAll(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads more bytes into the pending buffer; false on timeout, EOF or error.
  bool ReadMore(std::chrono::milliseconds timeout) {
    pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    pending_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  // Reads until `needle` is in the pending bytes; returns everything up to and including it.
  std::optional<std::string> ReadUntil(std::string_view needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const size_t at = pending_.find(needle);
      if (at != std::string::npos) {
        std::string out = pending_.substr(0, at + needle.size());
        pending_.erase(0, at + needle.size());
        return out;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !ReadMore(left)) return std::nullopt;
    }
  }

  std::optional<std::string> ReadExactly(size_t n, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pending_.size() < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !ReadMore(left)) return std::nullopt;
    }
    std::string out = pending_.substr(0, n);
    pending_.erase(0, n);
    return out;
  }

  // One whole response (Content-Length or chunked), or nullopt on timeout or a cut connection.
  std::optional<ParsedResponse> ReadResponse(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    std::optional<std::string> head = ReadUntil("\r\n\r\n", timeout);
    if (!head) return std::nullopt;
    ParsedResponse response;
    response.status = std::atoi(head->substr(9, 3).c_str());
    size_t pos = head->find("\r\n") + 2;
    while (pos < head->size() - 2) {
      const size_t end = head->find("\r\n", pos);
      const std::string line = head->substr(pos, end - pos);
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      pos = end + 2;
    }
    if (response.headers.count("content-length") != 0) {
      std::optional<std::string> body =
          ReadExactly(std::stoul(response.headers["content-length"]), timeout);
      if (!body) return std::nullopt;
      response.body = std::move(*body);
      return response;
    }
    for (;;) {  // chunked
      std::optional<std::string> size_line = ReadUntil("\r\n", timeout);
      if (!size_line) return std::nullopt;
      const size_t size = std::stoul(*size_line, nullptr, 16);
      std::optional<std::string> data = ReadExactly(size + 2, timeout);
      if (!data) return std::nullopt;
      if (size == 0) return response;
      response.body += data->substr(0, size);
    }
  }

  // True once the server closed the connection (EOF or reset) within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return true;
      pending_.append(chunk, static_cast<size_t>(n));
    }
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes with a reset (SO_LINGER 0), as a killed client does.
  void Reset() {
    linger lin{.l_onoff = 1, .l_linger = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
    Close();
  }
  void SetReceiveBuffer(int bytes) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
  int fd() const { return fd_; }
  const std::string& pending() const { return pending_; }

 private:
  int fd_ = -1;
  std::string pending_;
};

}  // namespace dsinfer::server::testing

#endif  // DSINFER_TESTS_UNIT_SERVER_HTTP_TEST_CLIENT_H_
