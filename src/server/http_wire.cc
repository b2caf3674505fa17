#include "server/http_wire.h"

#include <fmt/format.h>
#include <boost/beast/http/status.hpp>

namespace dsinfer::server {
namespace {

bool Printable(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

}  // namespace

std::string SerializeResponseHead(const ResponseHead& head) {
  namespace http = boost::beast::http;
  const auto beast_reason =
      http::obsolete_reason(static_cast<http::status>(static_cast<unsigned>(head.status)));
  const std::string_view reason(beast_reason.data(), beast_reason.size());
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nServer: dsinfer\r\n", head.status,
                                reason.empty() ? std::string_view("Unknown") : reason);
  if (!head.content_type.empty() && Printable(head.content_type)) {
    out += fmt::format("Content-Type: {}\r\n", head.content_type);
  }
  if (head.headers != nullptr) {
    for (const HttpHeader& header : *head.headers) {
      if (header.name.empty() || !Printable(header.name) || !Printable(header.value)) continue;
      out += fmt::format("{}: {}\r\n", header.name, header.value);
    }
  }
  if (head.content_length.has_value()) {
    out += fmt::format("Content-Length: {}\r\n", *head.content_length);
  } else {
    out += "Transfer-Encoding: chunked\r\n";
  }
  out += head.keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return out;
}

std::string SerializeResponse(const HttpResponse& response, bool keep_alive) {
  std::string out =
      SerializeResponseHead({.status = response.status,
                             .content_type = response.content_type,
                             .headers = &response.headers,
                             .content_length = static_cast<int64_t>(response.body.size()),
                             .keep_alive = keep_alive});
  out += response.body;
  return out;
}

std::string ChunkFrame(std::string_view data) {
  std::string out = fmt::format("{:x}\r\n", data.size());
  out.reserve(out.size() + data.size() + 2);
  out += data;
  out += "\r\n";
  return out;
}

}  // namespace dsinfer::server
