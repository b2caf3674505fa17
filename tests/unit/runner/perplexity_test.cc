// runner::Perplexity on tiny random models against a direct computation: each chunk run on
// its own through Generate with every position's logits, BOS in place of its first token,
// and the second half's NLL summed in long double from an unshifted log-sum-exp. Also the
// chunk count and limits, the BOS substitution, and the errors for unusable contexts.
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../model/model_test_util.h"
#include "model/load_model.h"
#include "model/model_presets.h"
#include "model/random_model.h"
#include "runner/generate.h"
#include "runner/perplexity.h"

namespace dsinfer {
namespace {

using testing::TempPath;

constexpr int32_t kBos = 1;

std::vector<int32_t> Stream(int64_t n, int64_t vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    ids[static_cast<size_t>(i)] = static_cast<int32_t>((i * 131 + 7) % vocab);
  }
  return ids;
}

// Sum over chunks of -log p(token) for the second half, each chunk evaluated alone.
long double DirectNll(const Model& model, std::span<const int32_t> tokens, int64_t n_ctx,
                      int64_t chunks, bool bos, ThreadPool* pool) {
  long double total = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * n_ctx, tokens.begin() + (c + 1) * n_ctx);
    if (bos) chunk[0] = kBos;
    std::vector<std::vector<float>> rows;
    StatusOr<KvStorage> kv = runner::KvStorageFor(model.config(), n_ctx, DType::kF16);
    EXPECT_TRUE(kv.ok());
    runner::GenerateOptions options;
    options.max_new_tokens = 0;
    EXPECT_TRUE(
        runner::Generate(
            model, *kv, chunk, options,
            [&](int64_t, std::span<const float> row) { rows.emplace_back(row.begin(), row.end()); },
            nullptr, pool)
            .ok());
    EXPECT_EQ(static_cast<int64_t>(rows.size()), n_ctx);
    for (int64_t p = n_ctx / 2; p + 1 < n_ctx; ++p) {
      const std::vector<float>& row = rows[static_cast<size_t>(p)];
      long double sum = 0;
      for (const float v : row) sum += std::exp(static_cast<long double>(v));
      const int32_t target = tokens[static_cast<size_t>(c * n_ctx + p + 1)];
      total += std::log(sum) - row[static_cast<size_t>(target)];
    }
  }
  return total;
}

class PerplexityTest : public ::testing::TestWithParam<const char*> {};

TEST_P(PerplexityTest, EqualsEachChunkScoredDirectly) {
  StatusOr<ModelConfig> config = ModelPreset(GetParam());
  ASSERT_TRUE(config.ok());
  const TempPath file("perplexity.gguf");
  ASSERT_TRUE(WriteRandomGguf(*config, {.dtype = DType::kF32, .seed = 5}, file.path()).ok());
  ThreadPool pool(2);
  StatusOr<Model> model = LoadModel(file.path(), {}, &pool);
  ASSERT_TRUE(model.ok()) << model.status().ToString();

  constexpr int64_t kCtx = 16;
  const std::vector<int32_t> tokens = Stream(3 * kCtx + 9, config->vocab_size);  // 3 chunks
  StatusOr<KvStorage> kv = runner::KvStorageFor(model->config(), kCtx, DType::kF16);
  ASSERT_TRUE(kv.ok());
  for (const bool bos : {true, false}) {
    SCOPED_TRACE(bos ? "bos" : "no bos");
    runner::PerplexityOptions options{.n_ctx = kCtx};
    if (bos) options.bos_id = kBos;
    StatusOr<runner::PerplexityResult> r = runner::Perplexity(*model, *kv, tokens, options, &pool);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->chunks, 3);
    EXPECT_EQ(r->scored_tokens, 3 * (kCtx - 1 - kCtx / 2));
    const long double want = DirectNll(*model, tokens, kCtx, 3, bos, &pool);
    EXPECT_NEAR(r->nll_sum, static_cast<double>(want), 1e-9 * std::fabs(static_cast<double>(want)));
    EXPECT_NEAR(r->ppl, std::exp(r->nll_sum / static_cast<double>(r->scored_tokens)),
                1e-12 * r->ppl);
    ASSERT_EQ(r->running_ppl.size(), 3U);
    EXPECT_EQ(r->running_ppl.back(), r->ppl);
    EXPECT_GT(r->ppl_stderr, 0);
    EXPECT_LT(r->ppl_stderr, r->ppl);
  }
  // Chunk 0's first token is not BOS, so the substitution changes what it conditions on.
  ASSERT_NE(tokens[0], kBos);
  StatusOr<runner::PerplexityResult> with =
      runner::Perplexity(*model, *kv, tokens, {.n_ctx = kCtx, .bos_id = kBos}, &pool);
  StatusOr<runner::PerplexityResult> without =
      runner::Perplexity(*model, *kv, tokens, {.n_ctx = kCtx}, &pool);
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_NE(with->nll_sum, without->nll_sum);

  StatusOr<runner::PerplexityResult> two =
      runner::Perplexity(*model, *kv, tokens, {.n_ctx = kCtx, .max_chunks = 2}, &pool);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->chunks, 2);
  EXPECT_EQ(two->running_ppl[1], without->running_ppl[1]);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, PerplexityTest,
                         ::testing::Values("tiny-llama", "tiny-deepseek2"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

TEST(PerplexityErrors, RejectUnusableContexts) {
  StatusOr<ModelConfig> config = ModelPreset("tiny-llama");
  ASSERT_TRUE(config.ok());
  const TempPath file("perplexity_errors.gguf");
  ASSERT_TRUE(WriteRandomGguf(*config, {.dtype = DType::kF32, .seed = 5}, file.path()).ok());
  StatusOr<Model> model = LoadModel(file.path(), {}, nullptr);
  ASSERT_TRUE(model.ok());
  const std::vector<int32_t> tokens = Stream(64, config->vocab_size);
  StatusOr<KvStorage> kv = runner::KvStorageFor(model->config(), 64, DType::kF16);
  ASSERT_TRUE(kv.ok());
  const auto code = [&](int64_t n_ctx, std::span<const int32_t> t) {
    return runner::Perplexity(*model, *kv, t, {.n_ctx = n_ctx}, nullptr).status().code();
  };
  EXPECT_EQ(code(3, tokens), StatusCode::kInvalidArgument);  // scores nothing
  EXPECT_EQ(code(4, tokens), StatusCode::kOk);
  EXPECT_EQ(code(65, Stream(200, config->vocab_size)), StatusCode::kInvalidArgument);  // KV
  EXPECT_EQ(code(32, std::span(tokens).first(31)), StatusCode::kInvalidArgument);      // short
  EXPECT_EQ(code(config->max_position_embeddings + 1, tokens), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dsinfer
