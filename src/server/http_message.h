// HttpRequest and HttpResponse: the HTTP layer's plain values, free of Beast types, so
// handlers (server.cc, tests) need no Asio headers.
#ifndef DSINFER_SERVER_HTTP_MESSAGE_H_
#define DSINFER_SERVER_HTTP_MESSAGE_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"

namespace dsinfer::server {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // "/v1/models?x=1"
  std::string path;    // target without its query string
  std::vector<HttpHeader> headers;
  std::string body;    // at most HttpServerOptions::max_body_bytes
  std::string remote;  // the client's address, "127.0.0.1"
  // When the request's first byte arrived (latency is measured from here).
  MonotonicClock::time_point arrived;
  std::chrono::system_clock::time_point arrived_wall;  // for logs

  // The first header named `name` (ASCII case-insensitive); "" when absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<HttpHeader> headers;  // extra headers; framing headers are the layer's
};

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_HTTP_MESSAGE_H_
