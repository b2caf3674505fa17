#include "server/http_server.h"

#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "base/logging.h"
#include "server/http_session.h"

namespace dsinfer::server {
namespace {

namespace net = boost::asio;
using boost::system::error_code;
using net::ip::tcp;

class HttpServerImpl final : public HttpServer {
 public:
  HttpServerImpl(const HttpServerOptions& options, HttpHandler handler)
      : host_(std::make_shared<SessionHost>()),
        acceptor_(net::make_strand(host_->ioc)),
        accept_retry_(acceptor_.get_executor()),
        work_(net::make_work_guard(host_->ioc)) {
    host_->options = options;
    host_->handler = std::move(handler);
  }
  ~HttpServerImpl() override {
    Stop();
    // Run what is still queued (the sessions' last handlers), so that they let go of their
    // sessions; a session an exchange still holds keeps the io_context alive with it.
    host_->ioc.restart();
    host_->ioc.poll();
  }
  HttpServerImpl(const HttpServerImpl&) = delete;
  HttpServerImpl& operator=(const HttpServerImpl&) = delete;

  Status Listen() {
    const HttpServerOptions& options = host_->options;
    const std::string where = fmt::format("{}:{}", options.host, options.port);
    if (options.port < 0 || options.port > 65535) {
      return InvalidArgumentError(fmt::format("port {} is not in 0..65535", options.port));
    }
    error_code ec;
    tcp::resolver resolver(host_->ioc);
    const auto results =
        resolver.resolve(options.host, std::to_string(options.port),
                         tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return InvalidArgumentError(fmt::format("cannot resolve host {}: {}", options.host,
                                              ec ? ec.message() : "no address"));
    }
    const tcp::endpoint endpoint = results.begin()->endpoint();
    if (acceptor_.open(endpoint.protocol(), ec) ||
        acceptor_.set_option(net::socket_base::reuse_address(true), ec) ||
        acceptor_.bind(endpoint, ec) ||
        acceptor_.listen(net::socket_base::max_listen_connections, ec)) {
      return UnavailableError(fmt::format("cannot listen on {}: {}", where, ec.message()));
    }
    port_ = acceptor_.local_endpoint(ec).port();
    return Status::Ok();
  }

  void Run() {
    Accept();
    const int threads = std::max(1, host_->options.io_threads);
    threads_.reserve(static_cast<size_t>(threads));
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { host_->ioc.run(); });
  }

  int port() const override { return port_; }

  void Drain() override {
    if (host_->draining.exchange(true)) return;
    ForEachSession([](const std::shared_ptr<HttpSession>& session) { session->CloseIfIdle(); });
  }
  bool draining() const override { return host_->draining.load(); }

  bool WaitUntilIdle(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(host_->mutex);
    return host_->idle.wait_for(lock, timeout, [this] { return host_->active_requests == 0; });
  }

  void Stop() override {
    if (host_->stopping.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      error_code ec;
      acceptor_.close(ec);
      accept_retry_.cancel();
    });
    ForEachSession([](const std::shared_ptr<HttpSession>& session) { session->Close(); });
    work_.reset();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }

  int64_t open_connections() const override { return host_->open_connections.load(); }
  int64_t active_requests() const override {
    const std::lock_guard<std::mutex> lock(host_->mutex);
    return host_->active_requests;
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(host_->ioc), [this](const error_code& ec,
                                                                tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open() || host_->stopping.load()) {
        return;
      }
      if (ec) {
        // Out of descriptors, most likely: back off instead of spinning on the error.
        LogWarn("http: accept failed: {}", ec.message());
        accept_retry_.expires_after(std::chrono::milliseconds(100));
        accept_retry_.async_wait([this](const error_code& wait_error) {
          if (!wait_error) Accept();
        });
        return;
      }
      if (host_->open_connections.load() >= host_->options.max_connections) {
        error_code ignored;
        socket.close(ignored);  // over the limit: refuse rather than queue
      } else {
        auto session = std::make_shared<HttpSession>(std::move(socket), host_);
        net::post(session->executor(), [session] { session->Start(); });
      }
      Accept();
    });
  }

  // Posts `fn` onto every live session's strand.
  template <typename Fn>
  void ForEachSession(Fn fn) {
    std::vector<std::shared_ptr<HttpSession>> live;
    {
      const std::lock_guard<std::mutex> lock(host_->mutex);
      live.reserve(host_->sessions.size());
      for (const auto& [id, weak] : host_->sessions) {
        if (std::shared_ptr<HttpSession> session = weak.lock()) live.push_back(std::move(session));
      }
    }
    for (std::shared_ptr<HttpSession>& session : live) {
      net::post(session->executor(), [session, fn] { fn(session); });
    }
  }

  std::shared_ptr<SessionHost> host_;  // first: the acceptor belongs to its io_context
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  int port_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                        HttpHandler handler) {
  auto server = std::make_unique<HttpServerImpl>(options, std::move(handler));
  DSI_RETURN_IF_ERROR(server->Listen());
  server->Run();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace dsinfer::server
