// The bytes of HTTP/1.1 responses: status line and headers, chunk framing. Request parsing
// is Beast's (http_session.cc); responses are simple enough to write directly, which lets
// whole responses and stream chunks share one write queue of plain strings.
#ifndef DSINFER_SERVER_HTTP_WIRE_H_
#define DSINFER_SERVER_HTTP_WIRE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_message.h"

namespace dsinfer::server {

struct ResponseHead {
  int status = 200;
  std::string_view content_type;
  const std::vector<HttpHeader>* headers = nullptr;  // extra headers, may be null
  std::optional<int64_t> content_length;             // unset: chunked transfer encoding
  bool keep_alive = true;
};

// "HTTP/1.1 200 OK\r\n...\r\n\r\n". Header values with CR or LF are dropped (no response
// splitting through a value that came from a client).
std::string SerializeResponseHead(const ResponseHead& head);

// A whole response: head plus body.
std::string SerializeResponse(const HttpResponse& response, bool keep_alive);

// One chunk: "<hex size>\r\n<data>\r\n". `data` must not be empty.
std::string ChunkFrame(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_HTTP_WIRE_H_
