#include "server/http_session.h"

#include <algorithm>
#include <exception>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include "base/logging.h"
#include "server/http_wire.h"

namespace dsinfer::server {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

// Bytes taken from the socket per read.
constexpr size_t kReadChunk = size_t{16} * 1024;
// While a request is handled, bytes of a pipelined next request are buffered up to this;
// beyond it the session stops reading (and notices a disconnect only when a write fails).
constexpr size_t kMaxBufferedWhileHandling = size_t{64} * 1024;
// How long a closing connection keeps discarding input after its last response.
constexpr std::chrono::milliseconds kLingerTime{1000};

// The handler's view of one exchange: every call hops onto the session's strand.
class SessionExchange final : public HttpExchange {
 public:
  SessionExchange(std::shared_ptr<HttpSession> session, uint64_t id,
                  std::shared_ptr<std::atomic<bool>> gone)
      : session_(std::move(session)), id_(id), gone_(std::move(gone)) {}

  void Respond(HttpResponse response) override {
    net::post(session_->executor(),
              [s = session_, id = id_, r = std::move(response)] { s->Respond(id, r); });
  }
  void StartStream(int status, std::string content_type, std::vector<HttpHeader> headers) override {
    net::post(session_->executor(),
              [s = session_, id = id_, status, type = std::move(content_type),
               h = std::move(headers)] { s->StartStream(id, status, type, h); });
  }
  void Send(std::string data) override {
    net::post(session_->executor(),
              [s = session_, id = id_, d = std::move(data)] { s->Send(id, d); });
  }
  void EndStream() override {
    net::post(session_->executor(), [s = session_, id = id_] { s->EndStream(id); });
  }
  void OnClientGone(std::function<void()> callback) override {
    net::dispatch(session_->executor(),
                  [s = session_, id = id_, cb = std::move(callback)]() mutable {
                    s->SetOnClientGone(id, std::move(cb));
                  });
  }
  bool client_gone() const override { return gone_->load(); }

 private:
  std::shared_ptr<HttpSession> session_;
  uint64_t id_;
  std::shared_ptr<std::atomic<bool>> gone_;
};

}  // namespace

void SessionHost::ExchangeStarted() {
  const std::lock_guard<std::mutex> lock(mutex);
  ++active_requests;
}

void SessionHost::ExchangeEnded() {
  const std::lock_guard<std::mutex> lock(mutex);
  if (--active_requests == 0) idle.notify_all();
}

std::string SessionHost::ErrorBody(int status, std::string_view message) const {
  if (options.error_body) return options.error_body(status, message);
  return fmt::format(R"({{"error":{{"message":"{}","type":"{}","param":null,"code":null}}}})",
                     JsonEscape(message), status >= 500 ? "server_error" : "invalid_request_error");
}

HttpSession::HttpSession(Socket socket, std::shared_ptr<SessionHost> host)
    : host_(std::move(host)), socket_(std::move(socket)), timer_(socket_.get_executor()) {
  host_->open_connections.fetch_add(1);
  const std::lock_guard<std::mutex> lock(host_->mutex);
  id_ = host_->next_session_id++;
}

HttpSession::~HttpSession() {
  if (exchange_active_) host_->ExchangeEnded();
  {
    const std::lock_guard<std::mutex> lock(host_->mutex);
    host_->sessions.erase(id_);
  }
  host_->open_connections.fetch_sub(1);
}

void HttpSession::Start() {
  {
    const std::lock_guard<std::mutex> lock(host_->mutex);
    host_->sessions.emplace(id_, weak_from_this());
  }
  if (host_->stopping.load()) {
    Close();
    return;
  }
  error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  if (!ec) remote_ = endpoint.address().to_string();
  // SSE chunks are small and must leave at once; reads are readiness-driven so that an idle
  // connection holds no buffer.
  socket_.set_option(net::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  phase_ = Phase::kIdle;
  read_deadline_ = Clock::now() + host_->options.idle_timeout;
  ArmTimer();
  ReadMore();
}

void HttpSession::CloseIfIdle() {
  // Only keep-alive connections between requests: a fresh connection whose request has not
  // arrived yet gets its answer (503 while draining) rather than a silent close.
  if (phase_ == Phase::kIdle && exchange_ > 0) Close();
}

void HttpSession::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  error_code ec;
  socket_.shutdown(Socket::shutdown_both, ec);
  socket_.close(ec);
  timer_.cancel();
  queued_.clear();
  parser_.reset();
  if (exchange_active_) {
    exchange_active_ = false;
    if (gone_) gone_->store(true);
    std::function<void()> callback = std::move(on_client_gone_);
    on_client_gone_ = nullptr;
    host_->ExchangeEnded();
    if (callback) callback();
  }
}

void HttpSession::ReadMore() {
  if (reading_ || phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kHandling && buffer_.size() >= kMaxBufferedWhileHandling) return;
  reading_ = true;
  socket_.async_wait(Socket::wait_read,
                     [self = shared_from_this()](const error_code& ec) { self->OnReadable(ec); });
}

void HttpSession::OnReadable(const error_code& wait_error) {
  reading_ = false;
  if (phase_ == Phase::kClosed) return;
  if (wait_error) {
    Close();
    return;
  }
  error_code ec;
  const size_t available = socket_.available(ec);
  const size_t want = std::clamp<size_t>(ec ? 0 : available, 1, kReadChunk);
  const size_t n = socket_.read_some(buffer_.prepare(want), ec);
  if (ec == net::error::would_block || ec == net::error::try_again) {
    ReadMore();
    return;
  }
  if (ec) {
    // End of stream or reset. While handling a request, the client is gone; mid-request, the
    // request is truncated; idle or lingering, the client simply closed.
    Close();
    return;
  }
  buffer_.commit(n);
  switch (phase_) {
    case Phase::kIdle:
      BeginRequest();
      Parse();
      break;
    case Phase::kHeader:
    case Phase::kBody: Parse(); break;
    case Phase::kLingering: buffer_.consume(buffer_.size()); break;
    case Phase::kHandling:  // a pipelined request waits for this response
    case Phase::kClosed: break;
  }
  ReadMore();
}

void HttpSession::BeginRequest() {
  parser_.emplace();
  parser_->header_limit(
      static_cast<uint32_t>(std::clamp<int64_t>(host_->options.max_header_bytes, 256, UINT32_MAX)));
  parser_->body_limit(static_cast<uint64_t>(std::max<int64_t>(host_->options.max_body_bytes, 0)));
  parser_->eager(true);
  phase_ = Phase::kHeader;
  request_arrived_ = Clock::now();
  request_arrived_wall_ = std::chrono::system_clock::now();
  read_deadline_ = request_arrived_ + host_->options.header_timeout;
  ArmTimer();
}

void HttpSession::Parse() {
  while (phase_ == Phase::kHeader || phase_ == Phase::kBody) {
    if (buffer_.size() == 0) return;
    error_code ec;
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) return;
    if (ec == http::error::body_limit) {
      FailRequest(413, fmt::format("request body is over the limit of {} bytes",
                                   host_->options.max_body_bytes));
      return;
    }
    if (ec == http::error::header_limit) {
      FailRequest(431, fmt::format("request headers are over the limit of {} bytes",
                                   host_->options.max_header_bytes));
      return;
    }
    if (ec) {
      FailRequest(400, fmt::format("malformed HTTP request: {}", ec.message()));
      return;
    }
    if (phase_ == Phase::kHeader && parser_->is_header_done()) {
      phase_ = Phase::kBody;
      read_deadline_ = Clock::now() + host_->options.body_timeout;
      ArmTimer();
      if (!parser_->is_done() &&
          boost::beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
        QueueWrite(std::string(kContinue));
      }
    }
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    if (used == 0) return;
  }
}

void HttpSession::Dispatch() {
  http::request<http::string_body> message = parser_->release();
  parser_.reset();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.path = request.target.substr(0, request.target.find('?'));
  for (const auto& field : message) {
    request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  request.body = std::move(message.body());
  request.remote = remote_;
  request.arrived = request_arrived_;
  request.arrived_wall = request_arrived_wall_;

  phase_ = Phase::kHandling;
  read_deadline_ = Clock::time_point::max();
  ArmTimer();
  keep_alive_ = message.keep_alive();
  ++exchange_;
  exchange_active_ = true;
  host_->ExchangeStarted();
  response_started_ = false;
  response_done_ = false;
  streaming_ = false;
  on_client_gone_ = nullptr;
  gone_ = std::make_shared<std::atomic<bool>>(false);
  auto exchange = std::make_shared<SessionExchange>(shared_from_this(), exchange_, gone_);
  try {
    host_->handler(std::move(request), exchange);
  } catch (const std::exception& e) {
    // A handler bug ends this request, never the process. Ignored if it already answered.
    LogError("http: handler threw: {}", e.what());
    exchange->Respond({.status = 500, .body = host_->ErrorBody(500, "internal error")});
  }
  ReadMore();
}

void HttpSession::FailRequest(int status, std::string_view message) {
  if (host_->options.on_protocol_error) host_->options.on_protocol_error(status, remote_);
  parser_.reset();
  buffer_.consume(buffer_.size());
  phase_ = Phase::kHandling;
  read_deadline_ = Clock::time_point::max();
  ArmTimer();
  keep_alive_ = false;
  response_started_ = true;
  response_done_ = true;
  QueueWrite(SerializeResponse({.status = status, .body = host_->ErrorBody(status, message)},
                               /*keep_alive=*/false));
}

bool HttpSession::CurrentExchange(uint64_t exchange) const {
  return phase_ == Phase::kHandling && exchange_active_ && exchange == exchange_;
}

void HttpSession::Respond(uint64_t exchange, const HttpResponse& response) {
  if (!CurrentExchange(exchange) || response_started_) return;
  response_started_ = true;
  response_done_ = true;
  if (host_->draining.load()) keep_alive_ = false;
  QueueWrite(SerializeResponse(response, keep_alive_));
}

void HttpSession::StartStream(uint64_t exchange, int status, const std::string& content_type,
                              const std::vector<HttpHeader>& headers) {
  if (!CurrentExchange(exchange) || response_started_) return;
  response_started_ = true;
  streaming_ = true;
  if (host_->draining.load()) keep_alive_ = false;
  QueueWrite(SerializeResponseHead({.status = status,
                                    .content_type = content_type,
                                    .headers = &headers,
                                    .content_length = std::nullopt,
                                    .keep_alive = keep_alive_}));
}

void HttpSession::Send(uint64_t exchange, const std::string& data) {
  if (!CurrentExchange(exchange) || !streaming_ || response_done_ || data.empty()) return;
  QueueWrite(ChunkFrame(data));
}

void HttpSession::EndStream(uint64_t exchange) {
  if (!CurrentExchange(exchange) || !streaming_ || response_done_) return;
  response_done_ = true;
  QueueWrite(std::string(kLastChunk));
}

void HttpSession::SetOnClientGone(uint64_t exchange, std::function<void()> callback) {
  if (exchange != exchange_ || !callback) return;
  if (exchange_active_) {
    on_client_gone_ = std::move(callback);
  } else if (gone_ != nullptr && gone_->load()) {
    callback();  // it went before the callback was set
  }
}

void HttpSession::QueueWrite(std::string bytes) {
  if (phase_ == Phase::kClosed) return;
  pending_bytes_ += static_cast<int64_t>(bytes.size());
  // One write alone is never "too slow"; a backlog behind it is a reader that does not read.
  if (pending_bytes_ > host_->options.max_pending_write_bytes &&
      pending_bytes_ != static_cast<int64_t>(bytes.size())) {
    LogWarn("http: {} reads too slowly ({} bytes queued); closing", remote_, pending_bytes_);
    Close();
    return;
  }
  queued_.push_back(std::move(bytes));
  if (in_flight_.empty()) WriteNext();
}

void HttpSession::WriteNext() {
  if (queued_.empty() || phase_ == Phase::kClosed) return;
  in_flight_.assign(std::make_move_iterator(queued_.begin()),
                    std::make_move_iterator(queued_.end()));
  queued_.clear();
  std::vector<net::const_buffer> buffers;
  buffers.reserve(in_flight_.size());
  for (const std::string& bytes : in_flight_) buffers.push_back(net::buffer(bytes));
  write_deadline_ = Clock::now() + host_->options.write_timeout;
  ArmTimer();
  net::async_write(socket_, buffers,
                   [self = shared_from_this()](const error_code& ec, size_t /*written*/) {
                     self->OnWritten(ec);
                   });
}

void HttpSession::OnWritten(const error_code& ec) {
  write_deadline_ = Clock::time_point::max();
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    Close();
    return;
  }
  for (const std::string& bytes : in_flight_) pending_bytes_ -= static_cast<int64_t>(bytes.size());
  in_flight_.clear();
  if (!queued_.empty()) {
    WriteNext();
    return;
  }
  ArmTimer();
  if (phase_ == Phase::kHandling && response_done_) FinishExchange();
}

void HttpSession::FinishExchange() {
  if (exchange_active_) {
    exchange_active_ = false;
    on_client_gone_ = nullptr;
    host_->ExchangeEnded();
  }
  streaming_ = false;
  if (!keep_alive_ || host_->draining.load()) {
    Linger();
    return;
  }
  phase_ = Phase::kIdle;
  read_deadline_ = Clock::now() + host_->options.idle_timeout;
  ArmTimer();
  if (buffer_.size() > 0) {
    BeginRequest();
    Parse();
  } else {
    buffer_.shrink_to_fit();  // idle connections hold no buffer
  }
  ReadMore();
}

void HttpSession::Linger() {
  phase_ = Phase::kLingering;
  error_code ec;
  socket_.shutdown(Socket::shutdown_send, ec);
  buffer_.consume(buffer_.size());
  read_deadline_ = Clock::now() + kLingerTime;
  ArmTimer();
  ReadMore();
}

void HttpSession::ArmTimer() {
  const Clock::time_point next = std::min(read_deadline_, write_deadline_);
  if (next == armed_for_ || phase_ == Phase::kClosed) return;
  armed_for_ = next;
  if (next == Clock::time_point::max()) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(next);  // cancels the wait for the previous deadline
  timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec != net::error::operation_aborted) self->OnTimer();
  });
}

void HttpSession::OnTimer() {
  if (phase_ == Phase::kClosed) return;
  const Clock::time_point now = Clock::now();
  if (now >= write_deadline_) {
    LogWarn("http: write to {} timed out; closing", remote_);
    Close();
    return;
  }
  if (now >= read_deadline_) {
    read_deadline_ = Clock::time_point::max();
    switch (phase_) {
      case Phase::kHeader:
      case Phase::kBody: FailRequest(408, "the request was not received in time"); return;
      case Phase::kIdle:
      case Phase::kLingering:
      case Phase::kHandling:
      case Phase::kClosed: Close(); return;
    }
  }
  // A wake-up for a deadline that has since moved: wait for the current one.
  if (timer_.expiry() <= now) {
    armed_for_ = Clock::time_point::max();
    ArmTimer();
  }
}

}  // namespace dsinfer::server
