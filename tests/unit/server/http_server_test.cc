// The HTTP layer with trivial handlers, over real sockets on 127.0.0.1: keep-alive, limits,
// timeouts, streaming, disconnects, many idle connections and graceful drain.
#include "server/http_server.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http_test_client.h"

namespace dsinfer::server {
namespace {

using std::chrono::milliseconds;
using testing::TestClient;

constexpr milliseconds kWait{5000};  // upper bound on every wait; tests normally take ms

// Answers "<METHOD> <path> <body>" with 200, and counts calls.
struct EchoHandler {
  std::atomic<int> calls{0};
  HttpHandler Handler() {
    return [this](HttpRequest request, const std::shared_ptr<HttpExchange>& exchange) {
      calls.fetch_add(1);
      exchange->Respond({.status = 200,
                         .content_type = "text/plain",
                         .body = request.method + " " + request.path + " " + request.body,
                         .headers = {{"X-Request-Path", request.path}}});
    };
  }
};

std::unique_ptr<HttpServer> StartServer(HttpServerOptions options, HttpHandler handler) {
  options.host = "127.0.0.1";
  options.port = 0;
  StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

std::string Get(std::string_view path) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n\r\n";
}
std::string Post(std::string_view path, std::string_view body) {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

// Polls `done` every millisecond for at most kWait.
template <typename Fn>
bool Eventually(Fn done) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return done();
}

int OpenFileDescriptors() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count - 3;  // ".", ".." and the directory's own descriptor
}

TEST(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  EchoHandler echo;
  auto server = StartServer({}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  for (int i = 0; i < 3; ++i) {
    const std::string body = "payload-" + std::to_string(i * 7919);
    ASSERT_TRUE(client.SendAll(Post("/v1/echo?x=1", body)));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value()) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "POST /v1/echo " + body);
    EXPECT_EQ(response->headers["connection"], "keep-alive");
    EXPECT_EQ(response->headers["x-request-path"], "/v1/echo");
  }
  EXPECT_EQ(echo.calls.load(), 3);
  EXPECT_EQ(server->open_connections(), 1);
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  EchoHandler echo;
  auto server = StartServer({}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll(Post("/a", "first") + Get("/b") + Post("/c", "third")));
  for (const char* expected : {"POST /a first", "GET /b ", "POST /c third"}) {
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->body, expected);
  }
}

TEST(HttpServerTest, ConnectionCloseIsHonoured) {
  EchoHandler echo;
  auto server = StartServer({}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll("GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.WaitClosed(kWait));
}

TEST(HttpServerTest, DeclaredBodyOverTheLimitIs413WithoutReadingIt) {
  EchoHandler echo;
  auto server = StartServer({.max_body_bytes = 1000}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  // Only the header is sent: the answer must not wait for the 1 MB body.
  ASSERT_TRUE(client.SendAll("POST /v1/x HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find("1000 bytes"), std::string::npos) << response->body;
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.WaitClosed(kWait));
  EXPECT_EQ(echo.calls.load(), 0);
}

TEST(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  EchoHandler echo;
  auto server = StartServer({.max_body_bytes = 1000}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  std::string request = "POST /v1/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i)
    request += "200\r\n" + std::string(0x200, static_cast<char>('a' + i)) + "\r\n";
  request += "0\r\n\r\n";
  ASSERT_TRUE(client.SendAll(request));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(echo.calls.load(), 0);
}

TEST(HttpServerTest, BodyAtTheLimitIsAccepted) {
  EchoHandler echo;
  auto server = StartServer({.max_body_bytes = 1000}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  const std::string body(1000, 'q');
  ASSERT_TRUE(client.SendAll(Post("/x", body)));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /x " + body);
}

TEST(HttpServerTest, MalformedRequestIs400AndOversizedHeaderIs431) {
  EchoHandler echo;
  auto server = StartServer({.max_header_bytes = 2048}, echo.Handler());
  ASSERT_NE(server, nullptr);
  {
    TestClient client;
    ASSERT_TRUE(client.Connect(server->port()));
    ASSERT_TRUE(client.SendAll("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 400);
    EXPECT_NE(response->body.find("\"error\""), std::string::npos);
  }
  {
    TestClient client;
    ASSERT_TRUE(client.Connect(server->port()));
    ASSERT_TRUE(client.SendAll("GET / HTTP/1.1\r\nX-Big: " + std::string(4096, 'b') + "\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 431);
  }
  EXPECT_EQ(echo.calls.load(), 0);
}

TEST(HttpServerTest, Expect100ContinueIsAnsweredBeforeTheBody) {
  EchoHandler echo;
  auto server = StartServer({}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll(
      "POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = client.ReadUntil("\r\n\r\n", kWait);
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client.SendAll("hello"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "POST /e hello");
}

TEST(HttpServerTest, SlowHeaderGets408AndOtherClientsAreServedMeanwhile) {
  EchoHandler echo;
  auto server = StartServer({.header_timeout = milliseconds(300)}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient slow;
  ASSERT_TRUE(slow.Connect(server->port()));
  ASSERT_TRUE(slow.SendAll("GET /slow HTTP/1.1\r\nHost: t\r\nX-Partial: "));
  const auto start = std::chrono::steady_clock::now();
  // A normal client is not held up by the slow one.
  TestClient fast;
  ASSERT_TRUE(fast.Connect(server->port()));
  ASSERT_TRUE(fast.SendAll(Get("/fast")));
  auto fast_response = fast.ReadResponse(milliseconds(250));
  ASSERT_TRUE(fast_response.has_value());
  EXPECT_EQ(fast_response->body, "GET /fast ");

  auto response = slow.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 408);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 0.25);
  EXPECT_LT(waited, 3.0);
  EXPECT_TRUE(slow.WaitClosed(kWait));
}

TEST(HttpServerTest, SlowBodyGets408) {
  EchoHandler echo;
  auto server = StartServer({.body_timeout = milliseconds(300)}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll("POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(echo.calls.load(), 0);
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  EchoHandler echo;
  auto server = StartServer({.idle_timeout = milliseconds(300)}, echo.Handler());
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll(Get("/once")));
  ASSERT_TRUE(client.ReadResponse().has_value());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.WaitClosed(kWait));
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 0.25);
  EXPECT_TRUE(Eventually([&] { return server->open_connections() == 0; }));
}

// Streams from another thread: each chunk must reach the client while the stream is open.
TEST(HttpServerTest, StreamChunksArriveAsTheyAreSent) {
  std::promise<std::shared_ptr<HttpExchange>> got;
  auto server =
      StartServer({}, [&](const HttpRequest&, const std::shared_ptr<HttpExchange>& exchange) {
        exchange->StartStream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
        got.set_value(exchange);
      });
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll(Get("/stream")));
  auto future = got.get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  std::shared_ptr<HttpExchange> exchange = future.get();
  auto head = client.ReadUntil("\r\n\r\n", kWait);
  ASSERT_TRUE(head.has_value());
  EXPECT_NE(head->find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(head->find("Content-Type: text/event-stream"), std::string::npos);
  for (int i = 0; i < 3; ++i) {
    const std::string event = "data: {\"n\":" + std::to_string(i * 31) + "}\n\n";
    exchange->Send(event);
    exchange->Send("");  // skipped: would end the stream
    auto frame = client.ReadUntil(event + "\r\n", kWait);
    ASSERT_TRUE(frame.has_value()) << "chunk " << i << " did not arrive";
  }
  exchange->EndStream();
  EXPECT_TRUE(client.ReadUntil("0\r\n\r\n", kWait).has_value());
  // Keep-alive after a stream: the connection serves the next request.
  exchange.reset();
  EXPECT_TRUE(Eventually([&] { return server->active_requests() == 0; }));
}

TEST(HttpServerTest, ClientThatDisconnectsFiresOnClientGone) {
  std::promise<void> gone;
  std::shared_ptr<HttpExchange> held;
  std::mutex mutex;
  auto server =
      StartServer({}, [&](const HttpRequest&, const std::shared_ptr<HttpExchange>& exchange) {
        exchange->OnClientGone([&gone] { gone.set_value(); });
        exchange->StartStream(200, "text/event-stream", {});
        exchange->Send("data: first\n\n");
        const std::lock_guard<std::mutex> lock(mutex);
        held = exchange;
      });
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll(Get("/stream")));
  ASSERT_TRUE(client.ReadUntil("data: first\n\n", kWait).has_value());
  client.Close();
  ASSERT_EQ(gone.get_future().wait_for(kWait), std::future_status::ready);
  const std::lock_guard<std::mutex> lock(mutex);
  EXPECT_TRUE(held->client_gone());
  held->Send("data: late\n\n");  // ignored, no crash
  held->EndStream();
  EXPECT_EQ(server->active_requests(), 0);
}

TEST(HttpServerTest, NonStreamedRequestNoticesDisconnectWhileWaiting) {
  std::promise<void> gone;
  std::vector<std::shared_ptr<HttpExchange>> held;
  std::mutex mutex;
  auto server =
      StartServer({}, [&](const HttpRequest&, const std::shared_ptr<HttpExchange>& exchange) {
        exchange->OnClientGone([&gone] { gone.set_value(); });
        const std::lock_guard<std::mutex> lock(mutex);
        held.push_back(exchange);  // never answered
      });
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll(Post("/wait", "{}")));
  ASSERT_TRUE(Eventually([&] { return server->active_requests() == 1; }));
  client.Reset();
  EXPECT_EQ(gone.get_future().wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(server->active_requests(), 0);
}

TEST(HttpServerTest, ReaderThatDoesNotReadIsCutOff) {
  std::promise<void> gone;
  std::thread firehose;
  auto server = StartServer({.max_pending_write_bytes = 256 << 10},
                            [&](const HttpRequest&, const std::shared_ptr<HttpExchange>& exchange) {
                              exchange->OnClientGone([&gone] { gone.set_value(); });
                              exchange->StartStream(200, "text/event-stream", {});
                              firehose = std::thread([exchange] {
                                const std::string chunk(64 << 10, 'z');
                                // Up to 64 MB: far beyond socket buffers plus the allowance.
                                for (int i = 0; i < 1024 && !exchange->client_gone(); ++i) {
                                  exchange->Send(chunk);
                                  std::this_thread::sleep_for(std::chrono::microseconds(200));
                                }
                              });
                            });
  ASSERT_NE(server, nullptr);
  TestClient client;
  client.SetReceiveBuffer(4096);
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll(Get("/firehose")));
  EXPECT_EQ(gone.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(Eventually([&] { return server->active_requests() == 0; }));
  ASSERT_TRUE(Eventually([&] { return firehose.joinable(); }));
  firehose.join();
}

TEST(HttpServerTest, HandlerThatThrowsGives500) {
  auto server = StartServer({}, [](const HttpRequest&, const std::shared_ptr<HttpExchange>&) {
    throw std::runtime_error("handler bug");
  });
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll(Get("/boom")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 500);
}

// 2000 idle keep-alive connections on two I/O threads: each costs its sockets (two
// descriptors here: both ends live in this process) and no thread; a new client is still
// served at once.
TEST(HttpServerTest, ThousandsOfIdleConnectionsWithBoundedDescriptors) {
  constexpr int kIdle = 2000;
  EchoHandler echo;
  const int fds_before = OpenFileDescriptors();
  auto server = StartServer({.io_threads = 2}, echo.Handler());
  ASSERT_NE(server, nullptr);
  std::vector<TestClient> idle(kIdle);
  for (int i = 0; i < kIdle; ++i) ASSERT_TRUE(idle[i].Connect(server->port())) << i;
  // Half of them did one request first: keep-alive connections between requests.
  for (int i = 0; i < kIdle; i += 2) ASSERT_TRUE(idle[i].SendAll(Get("/warm")));
  for (int i = 0; i < kIdle; i += 2) ASSERT_TRUE(idle[i].ReadResponse().has_value()) << i;
  ASSERT_TRUE(Eventually([&] { return server->open_connections() == kIdle; }))
      << server->open_connections();
  const int fds = OpenFileDescriptors() - fds_before;
  EXPECT_LE(fds, 2 * kIdle + 32) << "descriptors beyond two per connection";

  TestClient fresh;
  ASSERT_TRUE(fresh.Connect(server->port()));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(fresh.SendAll(Get("/now")));
  auto response = fresh.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "GET /now ");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  for (TestClient& client : idle) client.Close();
  EXPECT_TRUE(Eventually([&] { return server->open_connections() == 1; }))
      << server->open_connections();
}

TEST(HttpServerTest, ConnectionsBeyondTheLimitAreRefused) {
  EchoHandler echo;
  auto server = StartServer({.max_connections = 20}, echo.Handler());
  ASSERT_NE(server, nullptr);
  std::vector<TestClient> clients(30);
  for (TestClient& client : clients) ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(Eventually([&] { return server->open_connections() == 20; }));
  int refused = 0;
  for (TestClient& client : clients) {
    if (client.WaitClosed(milliseconds(50))) ++refused;
  }
  EXPECT_EQ(refused, 10);
  EXPECT_EQ(server->open_connections(), 20);
}

// SIGTERM's path: in-flight requests finish (with Connection: close), idle connections are
// closed, new requests are answered by the handler (503 here), then the server is idle.
TEST(HttpServerTest, DrainFinishesInFlightRequestsAndClosesIdleOnes) {
  std::promise<std::shared_ptr<HttpExchange>> slow;
  HttpServer* raw = nullptr;
  auto server = StartServer(
      {}, [&](const HttpRequest& request, const std::shared_ptr<HttpExchange>& exchange) {
        if (request.path == "/slow") {
          slow.set_value(exchange);
        } else {
          exchange->Respond({.status = raw->draining() ? 503 : 200, .body = request.path});
        }
      });
  ASSERT_NE(server, nullptr);
  raw = server.get();
  TestClient idle;
  ASSERT_TRUE(idle.Connect(server->port()));
  ASSERT_TRUE(idle.SendAll(Get("/before")));
  ASSERT_EQ(idle.ReadResponse()->status, 200);

  // Connected before the drain, its request sent after: answered, not silently closed.
  TestClient fresh;
  ASSERT_TRUE(fresh.Connect(server->port()));
  ASSERT_TRUE(Eventually([&] { return server->open_connections() == 2; }));

  TestClient in_flight;
  ASSERT_TRUE(in_flight.Connect(server->port()));
  ASSERT_TRUE(in_flight.SendAll(Get("/slow")));
  auto future = slow.get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  std::shared_ptr<HttpExchange> exchange = future.get();

  server->Drain();
  EXPECT_TRUE(server->draining());
  EXPECT_TRUE(idle.WaitClosed(kWait)) << "idle keep-alive connection not closed";
  EXPECT_FALSE(server->WaitUntilIdle(milliseconds(50)));  // /slow is still in flight

  ASSERT_TRUE(fresh.SendAll(Get("/fresh")));
  auto fresh_response = fresh.ReadResponse();
  ASSERT_TRUE(fresh_response.has_value());
  EXPECT_EQ(fresh_response->status, 503);

  TestClient late;
  ASSERT_TRUE(late.Connect(server->port()));
  ASSERT_TRUE(late.SendAll(Get("/after")));
  auto refused = late.ReadResponse();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->headers["connection"], "close");

  exchange->Respond({.status = 200, .body = "done"});
  exchange.reset();
  auto finished = in_flight.ReadResponse();
  ASSERT_TRUE(finished.has_value());
  EXPECT_EQ(finished->status, 200);
  EXPECT_EQ(finished->body, "done");
  EXPECT_EQ(finished->headers["connection"], "close");
  EXPECT_TRUE(server->WaitUntilIdle(kWait));
  EXPECT_TRUE(in_flight.WaitClosed(kWait));
  server->Stop();
  EXPECT_EQ(server->open_connections(), 0);
}

TEST(HttpServerTest, StopClosesEverythingAndTellsInFlightExchanges) {
  std::promise<void> gone;
  std::promise<std::shared_ptr<HttpExchange>> held;
  auto server = StartServer({.io_threads = 3},
                            [&](const HttpRequest&, const std::shared_ptr<HttpExchange>& exchange) {
                              exchange->OnClientGone([&gone] { gone.set_value(); });
                              held.set_value(exchange);
                            });
  ASSERT_NE(server, nullptr);
  TestClient client;
  ASSERT_TRUE(client.Connect(server->port()));
  ASSERT_TRUE(client.SendAll(Get("/hang")));
  auto future = held.get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  future.get().reset();  // Stop needs the exchanges let go (the engine does so after cancelling)
  EXPECT_EQ(server->active_requests(), 1);
  server->Stop();
  EXPECT_EQ(gone.get_future().wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(client.WaitClosed(kWait));
}

TEST(HttpServerTest, BusyPortIsAnError) {
  EchoHandler echo;
  auto first = StartServer({}, echo.Handler());
  ASSERT_NE(first, nullptr);
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = first->port();
  StatusOr<std::unique_ptr<HttpServer>> second = HttpServer::Start(options, echo.Handler());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(std::to_string(first->port())), std::string::npos);
}

}  // namespace
}  // namespace dsinfer::server
