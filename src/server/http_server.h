// HttpServer: HTTP/1.1 over Boost.Asio/Beast for the OpenAI API (issue 6, DESIGN.md "How a
// request flows" step 1).
//
// A few I/O threads run one io_context; every connection is a session on its own strand, so
// thousands of idle keep-alive connections cost a socket and a few hundred bytes each, never
// a thread. Each session enforces the limits below, parses requests with Beast's parser and
// hands each complete request to the handler together with an HttpExchange for the answer.
//
//   limits        body over max_body_bytes -> 413 (before reading it, when Content-Length
//                 says so); header over max_header_bytes -> 431; malformed -> 400; each
//                 followed by closing the connection
//   timeouts      idle keep-alive connection: closed after idle_timeout; a request whose
//                 headers take longer than header_timeout from its first byte, or whose body
//                 takes longer than body_timeout, gets 408 and the connection closes; a
//                 socket write that takes longer than write_timeout closes the connection
//   slow readers  response bytes queued beyond max_pending_write_bytes close the connection
//                 (the exchange's client is gone: its engine request is cancelled)
//   connections   beyond max_connections, new connections are closed at once
//   Expect        "Expect: 100-continue" is answered before the body is read
//
// Drain (SIGTERM): Drain() makes every later response carry "Connection: close", closes
// keep-alive connections between requests, and keeps accepting so that the handler can
// answer new requests (503);
// WaitUntilIdle() returns once in-flight requests finished; Stop() closes everything.
//
// Thread safety: all public methods may be called from any thread. The handler runs on I/O
// threads and must not block. Stop (or destroy) the server only after whatever holds
// HttpExchanges (the engine) has let them go.
#ifndef DSINFER_SERVER_HTTP_SERVER_H_
#define DSINFER_SERVER_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "server/http_exchange.h"
#include "server/http_message.h"

namespace dsinfer::server {

// Runs on an I/O thread for every complete request; answers through the exchange, now or
// later, from any thread.
using HttpHandler = std::function<void(HttpRequest request, std::shared_ptr<HttpExchange>)>;

// The body of the layer's own error responses (400/408/413/431/500), e.g. OpenAI's JSON.
using ErrorBodyFn = std::function<std::string(int status, std::string_view message)>;
// Told of every request the layer answered itself (never reaching the handler).
using ProtocolErrorFn = std::function<void(int status, std::string_view remote)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see HttpServer::port())
  int io_threads = 1;
  int64_t max_body_bytes = int64_t{4} << 20;
  int64_t max_header_bytes = int64_t{16} << 10;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  int64_t max_pending_write_bytes = int64_t{4} << 20;
  int max_connections = 10'000;
  ErrorBodyFn error_body;             // null: {"error":{"message":...}}
  ProtocolErrorFn on_protocol_error;  // may be null
};

class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. Unavailable if the address cannot be bound.
  static StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                     HttpHandler handler);
  virtual ~HttpServer() = default;

  virtual int port() const = 0;  // the bound port

  virtual void Drain() = 0;  // idempotent
  virtual bool draining() const = 0;
  // True once no request is in flight; false if `timeout` passed first.
  virtual bool WaitUntilIdle(std::chrono::milliseconds timeout) = 0;
  // Closes the listener and every connection (in-flight exchanges see their client gone),
  // then joins the I/O threads. Idempotent.
  virtual void Stop() = 0;

  virtual int64_t open_connections() const = 0;
  virtual int64_t active_requests() const = 0;  // exchanges not yet completely written
};

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_HTTP_SERVER_H_
