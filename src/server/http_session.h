// HttpSession: one client connection of HttpServer (http_server.h states the behaviour).
// Internal to the HTTP layer; handlers only see HttpExchange.
//
// A session lives on its own strand. It has at most one read in flight at any time, kept
// even while a request is being handled: that read is how a client that disconnects is
// noticed at once (and it buffers a pipelined next request, up to a cap). Phases:
//
//   kIdle --first byte--> kHeader --headers--> kBody --complete--> kHandling
//     ^                                                                |
//     +----------- response written, keep-alive -----------------------+
//   any phase --error, timeout, Connection: close--> kLingering --> kClosed
//
// kLingering has sent its last byte and shut down its sending side; it discards input for
// a moment before closing, so a client still sending a rejected body reads our 413 instead
// of a connection reset.
//
// Thread safety: all state is touched on the strand only; HttpExchange calls post to it.
#ifndef DSINFER_SERVER_HTTP_SESSION_H_
#define DSINFER_SERVER_HTTP_SESSION_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/http_server.h"

namespace dsinfer::server {

class HttpSession;

// What sessions share with their server: the io_context, options, handler, counters and the
// session registry that Drain and Stop walk. Shared, so that a session kept alive by an
// exchange someone still holds never outlives the io_context its socket belongs to.
struct SessionHost {
  boost::asio::io_context ioc;
  HttpServerOptions options;
  HttpHandler handler;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> open_connections{0};

  mutable std::mutex mutex;
  std::condition_variable idle;  // notified when active_requests drops to 0
  int64_t active_requests = 0;   // guarded by mutex
  uint64_t next_session_id = 0;  // guarded by mutex
  std::unordered_map<uint64_t, std::weak_ptr<HttpSession>> sessions;  // guarded by mutex

  void ExchangeStarted();
  void ExchangeEnded();
  std::string ErrorBody(int status, std::string_view message) const;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using Executor = Socket::executor_type;

  HttpSession(Socket socket, std::shared_ptr<SessionHost> host);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void Start();
  // Posted by the server: Drain closes keep-alive connections between requests; Stop closes
  // all.
  void CloseIfIdle();
  void Close();

  // The exchange's operations, on the strand. `exchange` is the sequence number of the
  // exchange calling: stale calls (an earlier exchange's) are ignored.
  void Respond(uint64_t exchange, const HttpResponse& response);
  void StartStream(uint64_t exchange, int status, const std::string& content_type,
                   const std::vector<HttpHeader>& headers);
  void Send(uint64_t exchange, const std::string& data);
  void EndStream(uint64_t exchange);
  void SetOnClientGone(uint64_t exchange, std::function<void()> callback);

  Executor executor() { return socket_.get_executor(); }

 private:
  enum class Phase { kIdle, kHeader, kBody, kHandling, kLingering, kClosed };
  using Clock = std::chrono::steady_clock;

  void ReadMore();
  void OnReadable(const boost::system::error_code& ec);
  void BeginRequest();
  void Parse();
  void Dispatch();
  void FailRequest(int status, std::string_view message);
  bool CurrentExchange(uint64_t exchange) const;
  void QueueWrite(std::string bytes);
  void WriteNext();
  void OnWritten(const boost::system::error_code& ec);
  void FinishExchange();
  void Linger();
  void ArmTimer();
  void OnTimer();

  std::shared_ptr<SessionHost> host_;  // first: destroyed after the socket and timer
  Socket socket_;
  boost::asio::steady_timer timer_;
  uint64_t id_ = 0;
  std::string remote_;
  Phase phase_ = Phase::kIdle;

  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  bool reading_ = false;
  Clock::time_point request_arrived_;
  std::chrono::system_clock::time_point request_arrived_wall_;

  Clock::time_point read_deadline_ = Clock::time_point::max();
  Clock::time_point write_deadline_ = Clock::time_point::max();
  Clock::time_point armed_for_ = Clock::time_point::max();

  // The current exchange.
  uint64_t exchange_ = 0;
  bool exchange_active_ = false;   // counted in host_->active_requests
  bool response_started_ = false;  // head queued
  bool response_done_ = false;     // last byte queued
  bool streaming_ = false;         // chunked: StartStream was called
  bool keep_alive_ = true;
  std::function<void()> on_client_gone_;
  std::shared_ptr<std::atomic<bool>> gone_;  // the exchange's client_gone(), shared with it

  // Bytes queued for the socket; `in_flight_` is the batch being written now.
  std::deque<std::string> queued_;
  std::vector<std::string> in_flight_;
  int64_t pending_bytes_ = 0;
};

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_HTTP_SESSION_H_
