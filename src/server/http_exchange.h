// HttpExchange: one request's way back to its client, handed to the handler with the request.
//
// The response is either whole (Respond) or a stream (StartStream, any number of Send, then
// EndStream) sent with chunked transfer encoding: each Send is one chunk, written as soon as
// the socket takes it, which is what Server-Sent Events need. Exactly one of Respond or
// StartStream..EndStream completes an exchange; calls out of that order, and calls after the
// client went away, are ignored.
//
// The client going away (the socket closed or reset, a write failed or timed out, a reader
// too slow for the queued bytes, the server stopping) before the response was completely
// written fires the OnClientGone callback once, on an I/O thread: that is where the server
// cancels the engine request, so its KV blocks are freed within one step.
//
// Thread safety: every method may be called from any thread (the engine's event sink calls
// Send); calls from one thread keep their order. The exchange keeps its connection's state
// alive, so drop it when the response is complete.
#ifndef DSINFER_SERVER_HTTP_EXCHANGE_H_
#define DSINFER_SERVER_HTTP_EXCHANGE_H_

#include <functional>
#include <string>
#include <vector>

#include "server/http_message.h"

namespace dsinfer::server {

class HttpExchange {
 public:
  virtual ~HttpExchange() = default;

  virtual void Respond(HttpResponse response) = 0;

  virtual void StartStream(int status, std::string content_type,
                           std::vector<HttpHeader> headers) = 0;
  // One chunk of the stream; empty data is skipped (a zero-length chunk would end it).
  virtual void Send(std::string data) = 0;
  virtual void EndStream() = 0;

  // Set it while handling the request (before the handler returns), or later: if the client
  // has already gone by then, the callback runs at once, on an I/O thread.
  virtual void OnClientGone(std::function<void()> callback) = 0;
  virtual bool client_gone() const = 0;
};

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_HTTP_EXCHANGE_H_
