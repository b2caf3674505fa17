// The engine thread on a real (tiny, random) model with DeepSeek-V3's real tokenizer:
// requests complete with the right counts, greedy output is the same alone and in a batch of
// 32, cancellation frees the KV blocks, and drain / queue limits answer as documented.
#include "engine/engine.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "model/load_model.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "tokenizer/load_tokenizer.h"

namespace dsinfer::engine {
namespace {

// Collects one request's events; Wait() returns once the finished event arrived.
class Collector {
 public:
  EventSink Sink() {
    return [this](GenerationEvent e) {
      std::lock_guard<std::mutex> lock(mu_);
      tokens_.insert(tokens_.end(), e.token_ids.begin(), e.token_ids.end());
      text_ += e.text;
      if (e.finished) {
        last_ = std::move(e);
        done_ = true;
        cv_.notify_all();
      }
    };
  }
  // False on timeout (bounded: tests never hang).
  bool Wait(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return done_; });
  }
  size_t num_tokens() {
    std::lock_guard<std::mutex> lock(mu_);
    return tokens_.size();
  }
  std::vector<int32_t> tokens_;
  std::string text_;
  GenerationEvent last_;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_engine.gguf";
    // Q8_0: every matrix has a packed layout, the batch-invariant path (model_weights.h).
    StatusOr<ModelConfig> config = ModelPreset("tiny-qwen2");
    ASSERT_TRUE(WriteRandomGguf(*config, {.dtype = DType::kQ8_0, .seed = 3}, path_).ok());
    ThreadPool pool(1);
    StatusOr<Model> model = LoadModel(path_, {}, &pool);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = new Model(std::move(*model));
    StatusOr<tokenizer::Tokenizer> tok = tokenizer::LoadTokenizer(
        std::string(DSINFER_TEST_DATA_DIR) + "/../../.cache/deepseek-v3/tokenizer.json");
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    tokenizer_ = new tokenizer::Tokenizer(std::move(*tok));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete tokenizer_;
    std::remove(path_.c_str());
  }

  static std::unique_ptr<Engine> StartEngine(EngineOptions options = {}) {
    options.kv_cache_bytes = 8 << 20;
    options.threads = 2;
    StatusOr<std::unique_ptr<Engine>> engine = Engine::Start(model_, tokenizer_, options);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return std::move(*engine);
  }

  static GenerationRequest Request(const std::string& id, int salt, int32_t max_tokens) {
    GenerationRequest r;
    r.request_id = id;
    for (int i = 0; i < 5 + salt % 7; ++i) r.prompt_token_ids.push_back((salt * 31 + i * 7) % 500);
    r.params.temperature = 0;
    r.params.max_tokens = max_tokens;
    r.params.ignore_eos = true;
    return r;
  }

  static std::string path_;
  static Model* model_;
  static tokenizer::Tokenizer* tokenizer_;
};

std::string EngineTest::path_;
Model* EngineTest::model_ = nullptr;
tokenizer::Tokenizer* EngineTest::tokenizer_ = nullptr;

TEST_F(EngineTest, CompletesWithUsageAndLength) {
  auto engine = StartEngine();
  Collector c;
  ASSERT_TRUE(engine->Submit(Request("a", 1, 9), c.Sink()).ok());
  ASSERT_TRUE(c.Wait());
  EXPECT_EQ(c.tokens_.size(), 9u);
  EXPECT_EQ(c.last_.reason, GenerationEvent::Reason::kLength);
  EXPECT_EQ(c.last_.completion_tokens, 9);
  EXPECT_EQ(c.last_.prompt_tokens, 6);
  EXPECT_EQ(c.text_, *tokenizer_->Decode(c.tokens_));
  engine->Shutdown();
  EXPECT_EQ(engine->Stats().kv_blocks_used, 0);
}

TEST_F(EngineTest, GreedyOutputIsTheSameAloneAndInABatchOf32) {
  constexpr int kRequests = 32;
  std::vector<std::vector<int32_t>> alone(kRequests);
  {
    auto engine = StartEngine();
    for (int i = 0; i < kRequests; ++i) {
      Collector c;
      ASSERT_TRUE(engine->Submit(Request("r" + std::to_string(i), i, 12), c.Sink()).ok());
      ASSERT_TRUE(c.Wait());
      alone[static_cast<size_t>(i)] = c.tokens_;
    }
  }
  auto engine = StartEngine();
  std::vector<Collector> batch(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(
        engine
            ->Submit(Request("r" + std::to_string(i), i, 12), batch[static_cast<size_t>(i)].Sink())
            .ok());
  }
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(batch[static_cast<size_t>(i)].Wait());
    EXPECT_EQ(batch[static_cast<size_t>(i)].tokens_, alone[static_cast<size_t>(i)])
        << "request " << i;
  }
  EXPECT_GT(engine->Stats().steps, 0);
}

TEST_F(EngineTest, CancelFreesBlocksWithinAStep) {
  auto engine = StartEngine();
  Collector c;
  ASSERT_TRUE(engine->Submit(Request("long", 2, 400), c.Sink()).ok());
  // Bounded wait for the first tokens.
  for (int i = 0; i < 2000 && c.num_tokens() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GT(engine->Stats().kv_blocks_used, 0);
  engine->Cancel("long");
  ASSERT_TRUE(c.Wait());
  EXPECT_EQ(c.last_.reason, GenerationEvent::Reason::kCancelled);
  EXPECT_LT(c.tokens_.size(), 400u);
  // The gauges are refreshed when the engine thread handles the cancel, before it waits.
  for (int i = 0; i < 2000 && engine->Stats().kv_blocks_used != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(engine->Stats().kv_blocks_used, 0);
  EXPECT_EQ(engine->Stats().running, 0);
}

TEST_F(EngineTest, RejectsWhatItCannotRun) {
  EngineOptions options;
  options.max_model_len = 64;
  options.max_num_seqs = 1;
  options.max_queue = 1;
  auto engine = StartEngine(options);
  EXPECT_EQ(engine->max_model_len(), 64);
  Collector a, b, c;
  GenerationRequest too_long = Request("x", 1, 100);
  EXPECT_EQ(engine->Submit(too_long, a.Sink()).code(), StatusCode::kInvalidArgument);
  GenerationRequest bad_token = Request("y", 1, 4);
  bad_token.prompt_token_ids[0] = 100000;
  EXPECT_EQ(engine->Submit(bad_token, a.Sink()).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(engine->Submit(Request("one", 1, 50), a.Sink()).ok());
  EXPECT_EQ(engine->Submit(Request("one", 1, 5), b.Sink()).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(engine->Submit(Request("two", 1, 5), b.Sink()).ok());
  EXPECT_EQ(engine->Submit(Request("three", 1, 5), c.Sink()).code(),
            StatusCode::kResourceExhausted);
  engine->Drain();
  EXPECT_EQ(engine->Submit(Request("four", 1, 5), c.Sink()).code(), StatusCode::kUnavailable);
  // Drained requests still finish.
  ASSERT_TRUE(a.Wait());
  ASSERT_TRUE(b.Wait());
  EXPECT_EQ(a.tokens_.size(), 50u);
  EXPECT_EQ(b.tokens_.size(), 5u);
  engine->Shutdown();
}

}  // namespace
}  // namespace dsinfer::engine
