// serve_load: a bounded, loopback-only load generator for `dsinfer serve` (issue 6). For each
// concurrency level C it keeps C streaming /v1/completions requests in flight (closed loop:
// each of C connections sends its next request when the previous one ends) until the level's
// request count is spent or its deadline passes, then reports:
//
//   aggregate tokens/s  completion tokens of every successful request / level wall time
//                       (first send -> last response end, prefill included)
//   TTFT                send -> first SSE chunk with non-empty text, per request (a new
//                       connection's connect counts as part of its first send)
//   ITL                 time between consecutive non-empty text chunks, pooled over requests
//   E2E                 send -> end of the response, per request
//
// Percentiles are nearest-rank over the level's samples. Every request is
// {"prompt": [ids], "max_tokens": M, "stream": true, "ignore_eos": true,
//  "stream_options": {"include_usage": true}}: ignore_eos (vLLM's extension, which the
// server accepts) makes every request generate exactly M tokens, and the usage chunk gives the
// token count (a chunk can hold no text when a token ends mid-UTF-8, so chunks are not tokens).
// Prompts are token ids drawn from a hash of a run-wide request number, so no two requests of
// a run share a prefix-cache block; --prompt-text sends text instead, prefixed with the
// request number for the same reason.
//
// Bounds: 127.0.0.1 only (any other host is refused: this tool must never load someone
// else's server), at most kMaxLevels levels of kMaxConcurrency connections and
// kMaxRequestsPerLevel requests, and a per-level deadline after which every socket is closed
// (the server then cancels those requests). One thread runs every connection (Asio).
//
//   serve_load --port P --model NAME [--concurrency 1,8,32] [--requests N] [--max-tokens M]
//              [--prompt-tokens K | --prompt-text T] [--deadline S] [--json FILE|-]
//
// bench/serve_load.sh makes a model, starts the server and runs this; bench/README.md
// "Serving" has the figures. Exit status: 0 when every request succeeded, 1 when one failed
// or a deadline passed, 2 for bad arguments.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "base/status.h"

namespace dsinfer::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr int kMaxLevels = 8;
constexpr int kMaxConcurrency = 256;
constexpr int64_t kMaxRequestsPerLevel = 10'000;
constexpr int kMaxTokensLimit = 1 << 16;
constexpr int kMaxPromptTokens = 1 << 16;
constexpr double kMaxDeadlineSeconds = 3600;
constexpr uint64_t kMaxResponseBytes = uint64_t{64} << 20;  // SSE body of one request

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string model;              // the served model id ("model" in each request)
  std::string levels = "1,8,32";  // --concurrency as given
  std::vector<int> concurrency;   // parsed from levels
  int64_t requests = 0;           // per level; 0: max(2 x its concurrency, 8)
  int max_tokens = 64;
  int prompt_tokens = 32;
  int32_t prompt_id_first = 1000;  // prompt ids lie in [first, first + range)
  int32_t prompt_id_range = 20000;
  std::string prompt_text;  // non-empty: a text prompt instead of ids
  double temperature = 0;
  int64_t warmup = 1;       // requests at concurrency 1 before the levels
  double deadline_s = 300;  // per level
  std::string json_path;    // "-": stdout
};

// "1,8,32" -> {1, 8, 32}.
StatusOr<std::vector<int>> ParseLevels(std::string_view list) {
  std::vector<int> levels;
  for (size_t begin = 0; begin <= list.size();) {
    const size_t end = std::min(list.find(',', begin), list.size());
    const std::string_view item = list.substr(begin, end - begin);
    int value = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      return InvalidArgumentError(
          fmt::format("--concurrency '{}': want a comma-separated list of integers", list));
    }
    levels.push_back(value);
    begin = end + 1;
  }
  return levels;
}

Status Validate(const Options& o) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(o.host, ec);
  if (ec || !address.is_v4() || address.to_v4() != asio::ip::address_v4::loopback()) {
    return InvalidArgumentError(fmt::format(
        "--host {}: only 127.0.0.1 is allowed (a load generator must not reach other hosts)",
        o.host));
  }
  if (o.port < 1 || o.port > 65535) return InvalidArgumentError("--port must be in 1..65535");
  if (o.model.empty()) return InvalidArgumentError("--model is required (the served model id)");
  if (o.concurrency.empty() || std::ssize(o.concurrency) > kMaxLevels) {
    return InvalidArgumentError(fmt::format("--concurrency takes 1..{} levels", kMaxLevels));
  }
  for (const int c : o.concurrency) {
    if (c < 1 || c > kMaxConcurrency) {
      return InvalidArgumentError(
          fmt::format("--concurrency {}: each level must be in 1..{}", c, kMaxConcurrency));
    }
  }
  if (o.requests < 0 || o.requests > kMaxRequestsPerLevel || o.warmup < 0 ||
      o.warmup > kMaxRequestsPerLevel) {
    return InvalidArgumentError(
        fmt::format("--requests and --warmup must be in 0..{}", kMaxRequestsPerLevel));
  }
  if (o.max_tokens < 1 || o.max_tokens > kMaxTokensLimit) {
    return InvalidArgumentError(fmt::format("--max-tokens must be in 1..{}", kMaxTokensLimit));
  }
  if (o.prompt_text.empty() && (o.prompt_tokens < 1 || o.prompt_tokens > kMaxPromptTokens)) {
    return InvalidArgumentError(fmt::format("--prompt-tokens must be in 1..{}", kMaxPromptTokens));
  }
  if (o.prompt_id_first < 0 || o.prompt_id_range < 1) {
    return InvalidArgumentError("--prompt-id-first must be >= 0 and --prompt-id-range >= 1");
  }
  if (!(o.deadline_s > 0 && o.deadline_s <= kMaxDeadlineSeconds)) {
    return InvalidArgumentError(fmt::format("--deadline must be in (0, {}]", kMaxDeadlineSeconds));
  }
  return Status::Ok();
}

// SplitMix64: a fixed, seedless hash, so a run's prompts are the same every time.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The request body for the run's request number `number` (unique across levels).
std::string RequestBody(const Options& o, uint64_t number) {
  Json body = {{"model", o.model},
               {"max_tokens", o.max_tokens},
               {"temperature", o.temperature},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}},
               {"ignore_eos", true}};
  if (!o.prompt_text.empty()) {
    body["prompt"] = fmt::format("[request {}] {}", number, o.prompt_text);
  } else {
    Json ids = Json::array();
    for (int i = 0; i < o.prompt_tokens; ++i) {
      const uint64_t h = Mix((number << 20) ^ static_cast<uint64_t>(i));
      ids.push_back(o.prompt_id_first +
                    static_cast<int32_t>(h % static_cast<uint64_t>(o.prompt_id_range)));
    }
    body["prompt"] = std::move(ids);
  }
  return body.dump();
}

struct RequestResult {
  Clock::time_point sent;
  Clock::time_point end;
  std::optional<Clock::time_point> first_text;
  Clock::time_point last_text;
  std::vector<double> gaps_s;  // between consecutive non-empty text chunks
  int64_t text_chunks = 0;
  int64_t completion_tokens = -1;  // from the usage chunk; -1: none arrived
  std::string finish_reason;
  bool saw_done = false;  // "data: [DONE]"
  std::string error;      // empty: the request succeeded
};

// One level's shared state. Only the io_context's one thread touches it.
struct Level {
  const Options* options = nullptr;
  asio::ip::tcp::endpoint endpoint;
  Clock::time_point deadline;
  int64_t requests = 0;
  int64_t started = 0;
  uint64_t first_number = 0;  // run-wide number of this level's request 0
  std::vector<RequestResult> results;
};

// One client connection: sends the level's next request when its previous one ends, over a
// kept-alive connection (reconnecting when the server closes it or a request failed).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& ioc, Level* level) : stream_(ioc), level_(level) {}

  void Next() {
    if (level_->started >= level_->requests || Clock::now() >= level_->deadline) {
      Close();
      return;
    }
    const uint64_t number = level_->first_number + static_cast<uint64_t>(level_->started++);
    request_ = {http::verb::post, "/v1/completions", 11};
    request_.set(http::field::host, fmt::format("127.0.0.1:{}", level_->endpoint.port()));
    request_.set(http::field::content_type, "application/json");
    request_.body() = RequestBody(*level_->options, number);
    request_.prepare_payload();
    result_ = RequestResult{};
    result_.sent = Clock::now();
    stream_.expires_at(level_->deadline);
    if (connected_) {
      Write();
      return;
    }
    stream_.async_connect(level_->endpoint,
                          [self = shared_from_this()](const beast::error_code& ec) {
                            if (ec) return self->Fail("connect", ec);
                            self->connected_ = true;
                            self->Write();
                          });
  }

 private:
  void Write() {
    http::async_write(stream_, request_,
                      [self = shared_from_this()](const beast::error_code& ec, size_t) {
                        if (ec) return self->Fail("write", ec);
                        self->parser_.emplace();
                        self->parser_->body_limit(kMaxResponseBytes);
                        self->scanned_ = 0;
                        self->Read();
                      });
  }

  void Read() {
    http::async_read_some(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](const beast::error_code& ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(const beast::error_code& ec) {
    const Clock::time_point now = Clock::now();
    if (ec) return Fail("read", ec);
    if (parser_->is_header_done() && parser_->get().result() == http::status::ok) {
      ConsumeRecords(now);
    }
    if (!parser_->is_done()) return Read();

    result_.end = now;
    const auto& response = parser_->get();
    if (response.result() != http::status::ok) {
      result_.error = fmt::format("HTTP {}: {}", response.result_int(),
                                  std::string_view(response.body()).substr(0, 300));
    } else if (result_.error.empty() && !result_.saw_done) {
      result_.error = "the stream ended without data: [DONE]";
    }
    if (!response.keep_alive()) Close();
    Finish();
  }

  // Handles every complete SSE record ("data: ...\n\n") the body holds past scanned_.
  void ConsumeRecords(Clock::time_point now) {
    const std::string& body = parser_->get().body();
    for (size_t end = body.find("\n\n", scanned_); end != std::string::npos;
         end = body.find("\n\n", scanned_)) {
      OnRecord(std::string_view(body).substr(scanned_, end - scanned_), now);
      scanned_ = end + 2;
    }
  }

  void OnRecord(std::string_view record, Clock::time_point now) {
    constexpr std::string_view kData = "data: ";
    if (!record.starts_with(kData)) return;  // comments and other SSE fields
    const std::string_view data = record.substr(kData.size());
    if (data == "[DONE]") {
      result_.saw_done = true;
      return;
    }
    const Json chunk = Json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (!chunk.is_object()) {
      result_.error = fmt::format("unparseable SSE record: {}", data.substr(0, 200));
      return;
    }
    if (const auto error = chunk.find("error"); error != chunk.end()) {
      result_.error = fmt::format("error record: {}", error->dump());
      return;
    }
    if (const auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
      const auto tokens = usage->find("completion_tokens");
      if (tokens != usage->end() && tokens->is_number_integer()) {
        result_.completion_tokens = tokens->get<int64_t>();
      }
    }
    const auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array() || choices->empty()) return;
    const Json& choice = (*choices)[0];
    const auto text = choice.find("text");
    if (text != choice.end() && text->is_string() && !text->get_ref<const std::string&>().empty()) {
      if (result_.first_text.has_value()) {
        result_.gaps_s.push_back(std::chrono::duration<double>(now - result_.last_text).count());
      } else {
        result_.first_text = now;
      }
      result_.last_text = now;
      ++result_.text_chunks;
    }
    const auto finish = choice.find("finish_reason");
    if (finish != choice.end() && finish->is_string())
      result_.finish_reason = finish->get<std::string>();
  }

  void Fail(std::string_view what, const beast::error_code& ec) {
    result_.end = Clock::now();
    result_.error = ec == beast::error::timeout ? "the level's deadline passed"
                                                : fmt::format("{}: {}", what, ec.message());
    Close();
    Finish();
  }

  void Finish() {
    level_->results.push_back(std::move(result_));
    Next();
  }

  void Close() {
    if (!connected_) return;
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
    connected_ = false;
    buffer_.clear();
  }

  beast::tcp_stream stream_;
  Level* level_;
  bool connected_ = false;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  size_t scanned_ = 0;  // body bytes already split into SSE records
  RequestResult result_;
};

struct LevelSummary {
  int concurrency = 0;
  int64_t requests = 0;  // planned
  int64_t ok = 0;
  int64_t failed = 0;       // started and failed (deadline included)
  int64_t not_started = 0;  // the deadline passed first
  int64_t length_finishes = 0;
  int64_t tokens = 0;  // completion tokens of the successful requests
  int64_t text_chunks = 0;
  double wall_s = 0;
  double tokens_per_s = 0;
  // Concurrency x the mean per-request decode rate ((tokens - 1) / (end - first text)): the
  // batch's steady decode throughput, without the prefill that tokens_per_s includes.
  double decode_tokens_per_s = 0;
  double ttft_p50_ms = 0, ttft_p99_ms = 0;
  double itl_p50_ms = 0, itl_p99_ms = 0;
  double e2e_p50_s = 0, e2e_p99_s = 0;
  std::string first_error;
};

// Nearest-rank percentile (p in (0, 1]) of `values`; 0 for none.
double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

LevelSummary Summarise(const Level& level, int concurrency) {
  LevelSummary s{.concurrency = concurrency, .requests = level.requests};
  s.not_started = level.requests - level.started;
  std::vector<double> ttft, itl, e2e;
  double decode_rates = 0;
  int64_t decode_requests = 0;
  std::optional<Clock::time_point> first_sent, last_end;
  for (const RequestResult& r : level.results) {
    first_sent = std::min(first_sent.value_or(r.sent), r.sent);
    last_end = std::max(last_end.value_or(r.end), r.end);
    if (!r.error.empty()) {
      ++s.failed;
      if (s.first_error.empty()) s.first_error = r.error;
      continue;
    }
    ++s.ok;
    s.tokens += r.completion_tokens >= 0 ? r.completion_tokens : r.text_chunks;
    s.text_chunks += r.text_chunks;
    if (r.finish_reason == "length") ++s.length_finishes;
    if (r.first_text.has_value()) {
      ttft.push_back(Seconds(*r.first_text - r.sent) * 1e3);
      const double decode_s = Seconds(r.end - *r.first_text);
      if (r.completion_tokens > 1 && decode_s > 0) {
        decode_rates += static_cast<double>(r.completion_tokens - 1) / decode_s;
        ++decode_requests;
      }
    }
    for (const double gap : r.gaps_s) itl.push_back(gap * 1e3);
    e2e.push_back(Seconds(r.end - r.sent));
  }
  if (first_sent.has_value()) s.wall_s = Seconds(*last_end - *first_sent);
  if (s.wall_s > 0) s.tokens_per_s = static_cast<double>(s.tokens) / s.wall_s;
  if (decode_requests > 0) {
    s.decode_tokens_per_s = concurrency * decode_rates / static_cast<double>(decode_requests);
  }
  s.ttft_p50_ms = Percentile(ttft, 0.50);
  s.ttft_p99_ms = Percentile(ttft, 0.99);
  s.itl_p50_ms = Percentile(itl, 0.50);
  s.itl_p99_ms = Percentile(itl, 0.99);
  s.e2e_p50_s = Percentile(e2e, 0.50);
  s.e2e_p99_s = Percentile(e2e, 0.99);
  return s;
}

// Runs `requests` requests over `concurrency` connections; numbers them from *next_number.
LevelSummary RunLevel(const Options& o, int concurrency, int64_t requests, uint64_t* next_number) {
  asio::io_context ioc;
  Level level{.options = &o,
              .endpoint = {asio::ip::address_v4::loopback(), static_cast<uint16_t>(o.port)},
              .deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(o.deadline_s)),
              .requests = requests,
              .first_number = *next_number};
  level.results.reserve(static_cast<size_t>(requests));
  for (int i = 0; i < concurrency; ++i) std::make_shared<Connection>(ioc, &level)->Next();
  ioc.run();
  *next_number += static_cast<uint64_t>(requests);
  return Summarise(level, concurrency);
}

// The Markdown table (bench/README.md's shape), then any failures.
void PrintTable(const std::vector<LevelSummary>& levels, std::FILE* out) {
  std::fprintf(
      out,
      "| concurrency | requests ok | gen tokens | wall s | aggregate tok/s | vs first | decode "
      "tok/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms | E2E p50 s | tokens/chunk |\n"
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
      "---: |\n");
  for (const LevelSummary& s : levels) {
    const double base = levels.front().tokens_per_s;
    const double chunk_ratio =
        s.text_chunks > 0 ? static_cast<double>(s.tokens) / static_cast<double>(s.text_chunks) : 0;
    std::fputs(
        fmt::format("| {} | {}/{} | {} | {:.1f} | {:.2f} | {:.2f}x | {:.1f} | {:.0f} | "
                    "{:.0f} | {:.1f} | {:.1f} | {:.2f} | {:.2f} |\n",
                    s.concurrency, s.ok, s.requests, s.tokens, s.wall_s, s.tokens_per_s,
                    base > 0 ? s.tokens_per_s / base : 0, s.decode_tokens_per_s, s.ttft_p50_ms,
                    s.ttft_p99_ms, s.itl_p50_ms, s.itl_p99_ms, s.e2e_p50_s, chunk_ratio)
            .c_str(),
        out);
  }
  for (const LevelSummary& s : levels) {
    if (s.failed > 0 || s.not_started > 0) {
      std::fprintf(out, "concurrency %d: %lld failed, %lld not started; first error: %s\n",
                   s.concurrency, static_cast<long long>(s.failed),
                   static_cast<long long>(s.not_started), s.first_error.c_str());
    }
    if (s.length_finishes != s.ok) {
      std::fprintf(out, "concurrency %d: %lld of %lld requests stopped before max_tokens\n",
                   s.concurrency, static_cast<long long>(s.ok - s.length_finishes),
                   static_cast<long long>(s.ok));
    }
  }
}

Json ToJson(const Options& o, const std::vector<LevelSummary>& levels) {
  Json out = {{"model", o.model},
              {"max_tokens", o.max_tokens},
              {"prompt", o.prompt_text.empty() ? Json(fmt::format("{} token ids", o.prompt_tokens))
                                               : Json(o.prompt_text)},
              {"temperature", o.temperature},
              {"levels", Json::array()}};
  for (const LevelSummary& s : levels) {
    out["levels"].push_back({{"concurrency", s.concurrency},
                             {"requests", s.requests},
                             {"ok", s.ok},
                             {"failed", s.failed},
                             {"not_started", s.not_started},
                             {"length_finishes", s.length_finishes},
                             {"completion_tokens", s.tokens},
                             {"text_chunks", s.text_chunks},
                             {"wall_s", s.wall_s},
                             {"tokens_per_s", s.tokens_per_s},
                             {"decode_tokens_per_s", s.decode_tokens_per_s},
                             {"ttft_ms", {{"p50", s.ttft_p50_ms}, {"p99", s.ttft_p99_ms}}},
                             {"itl_ms", {{"p50", s.itl_p50_ms}, {"p99", s.itl_p99_ms}}},
                             {"e2e_s", {{"p50", s.e2e_p50_s}, {"p99", s.e2e_p99_s}}},
                             {"first_error", s.first_error}});
  }
  return out;
}

int Run(Options o) {
  StatusOr<std::vector<int>> levels_or = ParseLevels(o.levels);
  Status status = levels_or.status();
  if (status.ok()) {
    o.concurrency = std::move(levels_or).value();
    status = Validate(o);
  }
  if (!status.ok()) {
    std::fprintf(stderr, "serve_load: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  uint64_t next_number = 0;
  if (o.warmup > 0) {
    const LevelSummary warm = RunLevel(o, 1, o.warmup, &next_number);
    std::fprintf(stderr, "warm-up: %lld/%lld requests ok in %.1f s\n",
                 static_cast<long long>(warm.ok), static_cast<long long>(o.warmup), warm.wall_s);
    if (warm.ok == 0) {
      std::fprintf(stderr, "serve_load: the warm-up failed: %s\n", warm.first_error.c_str());
      return 1;
    }
  }
  std::vector<LevelSummary> levels;
  bool all_ok = true;
  for (const int c : o.concurrency) {
    const int64_t requests = o.requests > 0 ? o.requests : std::max<int64_t>(int64_t{2} * c, 8);
    levels.push_back(RunLevel(o, c, requests, &next_number));
    const LevelSummary& s = levels.back();
    all_ok = all_ok && s.ok == s.requests;
    std::fprintf(stderr, "concurrency %d: %lld/%lld ok, %.1f tok/s in %.1f s\n", c,
                 static_cast<long long>(s.ok), static_cast<long long>(s.requests), s.tokens_per_s,
                 s.wall_s);
  }
  // With --json -, stdout is the JSON document alone.
  PrintTable(levels, o.json_path == "-" ? stderr : stdout);
  if (!o.json_path.empty()) {
    const std::string text = ToJson(o, levels).dump(2) + "\n";
    std::FILE* f = o.json_path == "-" ? stdout : std::fopen(o.json_path.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "serve_load: cannot write %s\n", o.json_path.c_str());
      return 1;
    }
    std::fputs(text.c_str(), f);
    if (f != stdout) std::fclose(f);
  }
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace dsinfer::bench

int main(int argc, char** argv) {
  dsinfer::bench::Options o;
  CLI::App app{"Bounded loopback load generator for dsinfer serve's /v1/completions"};
  // Every option may repeat and the last one wins, so a wrapper's defaults can be overridden.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--host", o.host, "server address: 127.0.0.1 only");
  app.add_option("--port", o.port, "server port")->required();
  app.add_option("--model", o.model, "served model id")->required();
  app.add_option("--concurrency", o.levels, "levels, comma-separated: streams kept in flight");
  app.add_option("--requests", o.requests, "requests per level (0: max(2 x concurrency, 8))");
  app.add_option("--max-tokens", o.max_tokens, "completion tokens per request (ignore_eos)");
  app.add_option("--prompt-tokens", o.prompt_tokens, "prompt length in token ids");
  app.add_option("--prompt-id-first", o.prompt_id_first, "smallest prompt token id");
  app.add_option("--prompt-id-range", o.prompt_id_range, "prompt ids lie in [first, first+range)");
  app.add_option("--prompt-text", o.prompt_text, "a text prompt instead of token ids");
  app.add_option("--temperature", o.temperature, "sampling temperature (0: greedy)");
  app.add_option("--warmup", o.warmup, "unreported requests before the levels");
  app.add_option("--deadline", o.deadline_s, "seconds each level may take");
  app.add_option("--json", o.json_path, "also write the results as JSON to FILE ('-': stdout)");
  CLI11_PARSE(app, argc, argv);
  return dsinfer::bench::Run(std::move(o));
}
