#include "server/generation_call.h"

#include <chrono>
#include <ctime>
#include <utility>

namespace dsinfer::server {
namespace {

using Reason = engine::GenerationEvent::Reason;

double Seconds(MonotonicClock::duration d) { return std::chrono::duration<double>(d).count(); }

const char* FinishReasonName(Reason reason) {
  switch (reason) {
    case Reason::kStop: return "stop";
    case Reason::kLength: return "length";
    case Reason::kCancelled: return "cancelled";
    case Reason::kError: return "error";
    case Reason::kNone: return "none";
  }
  return "none";
}

// The status nginx logs for "client closed request".
constexpr int kClientClosed = 499;

}  // namespace

GenerationCall::GenerationCall(const GenerationContext& context, std::string route,
                               std::string request_id, const ParsedRequest& parsed,
                               const HttpRequest& request, std::shared_ptr<HttpExchange> exchange)
    : context_(context),
      route_(std::move(route)),
      request_id_(std::move(request_id)),
      method_(request.method),
      remote_(request.remote),
      model_name_(parsed.model),
      stream_(parsed.stream),
      arrived_(request.arrived),
      arrived_wall_(request.arrived_wall),
      builder_(parsed, *context.model,
               ResponseOptions{.id = ResponseId(parsed.kind, request_id_),
                               .created = static_cast<int64_t>(std::time(nullptr))}),
      exchange_(std::move(exchange)) {}

void GenerationCall::Run(const GenerationContext& context, std::string route,
                         std::string request_id, ParsedRequest parsed, const HttpRequest& request,
                         const std::shared_ptr<HttpExchange>& exchange) {
  auto call = std::make_shared<GenerationCall>(context, std::move(route), request_id, parsed,
                                               request, exchange);
  parsed.generation.request_id = request_id;
  const Status submitted = context.engine->Submit(
      std::move(parsed.generation),
      [call](engine::GenerationEvent event) { call->OnEvent(std::move(event)); });
  if (!submitted.ok()) {
    const ApiError error = ErrorFromStatus(submitted);
    exchange->Respond({.status = error.http_status,
                       .body = ErrorJson(error),
                       .headers = {{"X-Request-Id", request_id}}});
    call->Record(error.http_status, nullptr);
    return;
  }
  // Cancel frees the request's KV blocks within one step; unknown or finished ids are ignored.
  exchange->OnClientGone([engine = context.engine, request_id] { engine->Cancel(request_id); });
  call->Open();
}

void GenerationCall::Open() {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (stream_) {
    exchange_->StartStream(200, "text/event-stream",
                           {{"Cache-Control", "no-cache"}, {"X-Request-Id", request_id_}});
    exchange_->Send(builder_.Start());
  }
  open_ = true;
  std::vector<engine::GenerationEvent> held = std::move(held_);
  held_.clear();
  for (const engine::GenerationEvent& event : held) Deliver(event);
}

void GenerationCall::OnEvent(engine::GenerationEvent event) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (!open_) {
    held_.push_back(std::move(event));
    return;
  }
  Deliver(event);
}

void GenerationCall::Deliver(const engine::GenerationEvent& event) {
  if (exchange_ == nullptr) return;  // already finished
  const MonotonicClock::time_point now = MonotonicClock::now();
  const size_t tokens = event.token_ids.size();
  if (tokens > 0) {
    if (!first_token_.has_value()) {
      first_token_ = now;
      context_.metrics->ObserveTimeToFirstToken(Seconds(now - arrived_));
    } else {
      // An event may carry several tokens: spread the gap over them.
      const double gap = Seconds(now - last_token_) / static_cast<double>(tokens);
      for (size_t i = 0; i < tokens; ++i) context_.metrics->ObserveInterToken(gap);
    }
    last_token_ = now;
  }
  // Whether the client left before its answer was complete: read before the last bytes go
  // out, since a client that has read them may close at once, and it was served (200).
  const bool left_early = event.finished && exchange_->client_gone();
  int status = 200;
  if (stream_) {
    exchange_->Send(builder_.Chunk(event));
    if (event.finished) exchange_->EndStream();
  } else {
    builder_.Add(event);
    if (event.finished) {
      JsonResponse response = builder_.Final();
      status = response.http_status;
      exchange_->Respond({.status = response.http_status,
                          .body = std::move(response.body),
                          .headers = {{"X-Request-Id", request_id_}}});
    }
  }
  if (!event.finished) return;
  if (left_early || event.reason == Reason::kCancelled) status = kClientClosed;
  context_.metrics->ObserveQueueTime(event.queue_seconds);
  Record(status, &event);
  exchange_.reset();  // lets the connection go
}

void GenerationCall::Record(int status, const engine::GenerationEvent* last) {
  const double duration = Seconds(MonotonicClock::now() - arrived_);
  context_.metrics->CountRequest(route_, status);
  if (last != nullptr) context_.metrics->ObserveEndToEnd(duration);
  if (context_.access_log == nullptr) return;
  telemetry::AccessLogRecord record{.time = arrived_wall_,
                                    .request_id = request_id_,
                                    .method = method_,
                                    .route = route_,
                                    .status = status,
                                    .remote = remote_,
                                    .model = model_name_,
                                    .stream = stream_,
                                    .duration_seconds = duration};
  if (last != nullptr) {
    record.prompt_tokens = last->prompt_tokens;
    record.completion_tokens = last->completion_tokens;
    record.cached_tokens = last->cached_prompt_tokens;
    record.finish_reason = FinishReasonName(last->reason);
    record.queue_seconds = last->queue_seconds;
    if (first_token_.has_value()) record.first_token_seconds = Seconds(*first_token_ - arrived_);
  }
  context_.access_log->Write(record);
}

}  // namespace dsinfer::server
