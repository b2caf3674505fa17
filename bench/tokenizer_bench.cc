// Encode throughput (MB/s of UTF-8 input) of the DeepSeek-V3 tokenizer on the mixed corpus
// the reference test uses (English, CJK, code, digits, emoji, whitespace, long words), on one
// thread. The reference's speed on the same corpus: `node tests/tokenizer/reference_ids.mjs
// ... --bench`. Needs the assets of scripts/fetch-test-assets.sh; skips without them.
//
//   build/bench/tokenizer_bench [--benchmark_filter=Encode]
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/load_tokenizer.h"
#include "tokenizer/streaming_detokenizer.h"

namespace dsinfer::tokenizer {
namespace {

constexpr const char* kTokenizerDir = DSINFER_SOURCE_DIR "/.cache/deepseek-v3";
constexpr const char* kCorpus = DSINFER_SOURCE_DIR "/.cache/tokenizer-corpus.jsonl";

struct Fixture {
  std::optional<Tokenizer> tokenizer;
  std::vector<std::string> lines;
  size_t bytes = 0;
  std::string error;
};

const Fixture& Load() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    StatusOr<Tokenizer> t = LoadTokenizer(kTokenizerDir);
    if (!t.ok()) {
      f->error = t.status().ToString() + " (run scripts/fetch-test-assets.sh)";
      return f;
    }
    f->tokenizer.emplace(std::move(*t));
    std::ifstream in(kCorpus);
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json value = nlohmann::json::parse(line, nullptr, false);
      if (!value.is_string()) continue;
      f->lines.push_back(value.get<std::string>());
      f->bytes += f->lines.back().size();
    }
    if (f->lines.empty()) f->error = std::string("no corpus at ") + kCorpus;
    return f;
  }();
  return *fixture;
}

void BM_EncodeCorpus(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  const EncodeOptions options{.parse_special = true};
  size_t tokens = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    for (const std::string& line : f.lines) {
      StatusOr<std::vector<int32_t>> ids = f.tokenizer->Encode(line, options);
      tokens += ids->size();
      benchmark::DoNotOptimize(ids);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.bytes));
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncodeCorpus)->Unit(benchmark::kMillisecond);

void BM_StreamDecodeCorpus(benchmark::State& state) {
  const Fixture& f = Load();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  std::vector<int32_t> ids;
  for (const std::string& line : f.lines) {
    const StatusOr<std::vector<int32_t>> line_ids = f.tokenizer->Encode(line, {});
    ids.insert(ids.end(), line_ids->begin(), line_ids->end());
  }
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    StreamingDetokenizer stream(&*f.tokenizer);
    size_t out = 0;
    for (const int32_t id : ids) out += stream.Feed(id)->size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["tokens/s"] = benchmark::Counter(
      static_cast<double>(ids.size() * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StreamDecodeCorpus)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dsinfer::tokenizer

BENCHMARK_MAIN();
