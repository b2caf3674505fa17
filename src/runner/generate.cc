#include "runner/generate.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "base/clock.h"
#include "runner/step_batch.h"
#include "sampling/request_rng.h"
#include "sampling/sampler.h"

namespace dsinfer::runner {

StatusOr<KvStorage> KvStorageFor(const ModelConfig& config, int64_t tokens, DType dtype,
                                 int64_t block_size) {
  if (block_size < 1) return InvalidArgumentError("KV block size must be at least 1");
  const int64_t blocks = std::max<int64_t>(1, (tokens + block_size - 1) / block_size);
  return KvStorage::Create(config, {.n_blocks = blocks, .block_size = block_size, .dtype = dtype});
}

StatusOr<GenerateStats> Generate(const Model& model, KvStorage& kv, std::span<const int32_t> prompt,
                                 const GenerateOptions& options, const LogitsSink& on_logits,
                                 const TokenSink& on_token, ThreadPool* pool) {
  if (prompt.empty()) return InvalidArgumentError("the prompt has no tokens");
  if (options.max_new_tokens < 0) return InvalidArgumentError("max_new_tokens is negative");
  const int64_t vocab = model.vocab_size();
  DSI_RETURN_IF_ERROR(options.sampling.Validate(static_cast<int32_t>(vocab)));
  const auto n_prompt = static_cast<int64_t>(prompt.size());
  const int64_t total = n_prompt + options.max_new_tokens;
  if (total > kv.n_blocks() * kv.block_size()) {
    return InvalidArgumentError(fmt::format("{} positions do not fit the KV storage of {}", total,
                                            kv.n_blocks() * kv.block_size()));
  }
  std::vector<int32_t> block_table(static_cast<size_t>(kv.n_blocks()));
  std::iota(block_table.begin(), block_table.end(), 0);

  GenerateStats stats;
  stats.prompt_tokens = n_prompt;
  std::vector<float> logits;
  std::vector<int64_t> rows;

  // Evaluates tokens at positions n_past.. and leaves the last row's logits in `logits`.
  const auto step = [&](std::span<const int32_t> tokens, int64_t n_past, bool all_rows) {
    const auto n = static_cast<int64_t>(tokens.size());
    rows.clear();
    for (int64_t i = all_rows ? 0 : n - 1; i < n; ++i) rows.push_back(i);
    const SequenceSlice slice{
        .first_token = 0, .n_tokens = n, .n_past = n_past, .block_table = block_table};
    logits.resize(rows.size() * static_cast<size_t>(vocab));
    DSI_RETURN_IF_ERROR(model.Forward(
        {.tokens = tokens, .sequences = {&slice, 1}, .logit_rows = rows}, kv, logits, pool));
    if (on_logits) {
      for (size_t r = 0; r < rows.size(); ++r) {
        on_logits(n_past + rows[r],
                  std::span<const float>(logits).subspan(r * static_cast<size_t>(vocab),
                                                         static_cast<size_t>(vocab)));
      }
    }
    logits.erase(logits.begin(),
                 logits.begin() + static_cast<std::ptrdiff_t>((rows.size() - 1) * vocab));
    return Status::Ok();
  };

  const Stopwatch prefill_clock;
  const int64_t chunk = options.prefill_chunk > 0 ? options.prefill_chunk : n_prompt;
  for (int64_t begin = 0; begin < n_prompt; begin += chunk) {
    const int64_t n = std::min(chunk, n_prompt - begin);
    DSI_RETURN_IF_ERROR(step(prompt.subspan(static_cast<size_t>(begin), static_cast<size_t>(n)),
                             begin, on_logits != nullptr));
  }
  stats.prefill_seconds = prefill_clock.ElapsedSeconds();

  sampling::Sampler sampler(static_cast<int32_t>(vocab));
  sampling::RequestRng rng(options.sampling.seed);
  sampling::SampledToken sampled;
  std::vector<int32_t> generated;
  Stopwatch decode_clock;
  for (int64_t i = 0; i < options.max_new_tokens; ++i) {
    if (i == 1) decode_clock.Restart();
    if (i > 0) {
      const int32_t last = generated.back();
      DSI_RETURN_IF_ERROR(step({&last, 1}, n_prompt + i - 1, true));
    }
    if (pool != nullptr && i + 1 < options.max_new_tokens) pool->ExpectWorkWithin(kNextStepWithin);
    DSI_RETURN_IF_ERROR(sampler.Sample(logits, {.prompt = prompt, .generated = generated},
                                       options.sampling, &rng, &sampled));
    generated.push_back(sampled.token);
    ++stats.generated_tokens;
    if (on_token && !on_token(sampled.token)) break;
    if (options.stop_token_id.has_value() && sampled.token == *options.stop_token_id) break;
  }
  stats.decode_seconds = decode_clock.ElapsedSeconds();
  return stats;
}

}  // namespace dsinfer::runner
