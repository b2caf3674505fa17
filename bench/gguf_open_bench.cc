// How long GgufFile::Open takes on DeepSeek-shaped files, from a tiny one to a full-size
// DeepSeek-V3 at Q4_K (~380 GiB). The big files are sparse: the table of tensors and the
// tokenizer metadata are real-sized, the tensor data is holes, so the disk stays empty while
// the file size is honest. Opening must cost the same whatever the file size: it reads the
// header and maps the file, it never touches tensor data.
//
//   build/bench/gguf_open_bench [--benchmark_filter=V3]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "formats/gguf_file.h"
#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"

namespace dsinfer {
namespace {

struct Dims {
  const char* name;
  int64_t layers, dense_layers, d, f, fe, experts, shared, heads, q_lora, kv_lora, nope, rope, v,
      vocab;
};

// Reference §1.2 values.
constexpr Dims kTiny = {"tiny", 2, 1, 256, 512, 128, 4, 1, 4, 0, 64, 32, 16, 32, 1000};
constexpr Dims kV2Lite = {"V2-Lite", 27, 1,   2048, 10944, 1408, 64,    2,
                          16,        0,  512, 128,  64,    128,  102400};
constexpr Dims kV3 = {"V3", 61, 3, 7168, 18432, 2048, 256, 1, 128, 1536, 512, 128, 64, 128, 129280};

// Q4_K where rows allow it, else the Q8_0 fallback llama.cpp uses (reference §7).
DType WeightType(int64_t ne0) { return ne0 % 256 == 0 ? DType::kQ4_K : DType::kQ8_0; }

void Add(GgufWriter& w, const std::string& name, std::vector<int64_t> ne, bool weight = true) {
  const DType dtype = weight ? WeightType(ne[0]) : DType::kF32;
  const Status s = w.AddTensorInfo(name, dtype, ne);
  if (!s.ok()) std::abort();
}

// Header of a deepseek2 GGUF with llama.cpp's tensor names and shapes (reference §6.3).
GgufWriter MakeDeepseek2(const Dims& m) {
  GgufWriter w;
  const auto kv = [&](const std::string& key, GgufValue value) {
    if (!w.AddKeyValue(key, std::move(value)).ok()) std::abort();
  };
  kv(std::string(gguf::kKeyArchitecture), GgufValue::String("deepseek2"));
  kv(std::string(gguf::kKeyName), GgufValue::String(std::string("bench ") + m.name));
  kv(gguf::ArchKey("deepseek2", gguf::kKeyBlockCount),
     GgufValue::U32(static_cast<uint32_t>(m.layers)));
  kv(gguf::ArchKey("deepseek2", gguf::kKeyEmbeddingLength),
     GgufValue::U32(static_cast<uint32_t>(m.d)));
  kv(gguf::ArchKey("deepseek2", gguf::kKeyKvLoraRank),
     GgufValue::U32(static_cast<uint32_t>(m.kv_lora)));
  std::vector<std::string> tokens, merges;
  for (int64_t i = 0; i < m.vocab; ++i) tokens.push_back(fmt::format("Ġtok{}", i));
  for (int64_t i = 0; i + 1 < m.vocab; ++i) merges.push_back(fmt::format("Ġt ok{}", i));
  kv(std::string(gguf::kKeyTokenizerModel), GgufValue::String("gpt2"));
  kv(std::string(gguf::kKeyTokens), GgufValue::StringArray(tokens));
  kv(std::string(gguf::kKeyMerges), GgufValue::StringArray(merges));

  Add(w, std::string(gguf::kTokenEmbd), {m.d, m.vocab});
  const int64_t qk = m.heads * (m.nope + m.rope);
  for (int64_t i = 0; i < m.layers; ++i) {
    Add(w, gguf::LayerTensor(i, gguf::kAttnNorm), {m.d}, false);
    if (m.q_lora > 0) {
      Add(w, gguf::LayerTensor(i, gguf::kAttnQA), {m.d, m.q_lora});
      Add(w, gguf::LayerTensor(i, gguf::kAttnQANorm), {m.q_lora}, false);
      Add(w, gguf::LayerTensor(i, gguf::kAttnQB), {m.q_lora, qk});
    } else {
      Add(w, gguf::LayerTensor(i, gguf::kAttnQ), {m.d, qk});
    }
    Add(w, gguf::LayerTensor(i, gguf::kAttnKvAMqa), {m.d, m.kv_lora + m.rope});
    Add(w, gguf::LayerTensor(i, gguf::kAttnKvANorm), {m.kv_lora}, false);
    Add(w, gguf::LayerTensor(i, gguf::kAttnKB), {m.nope, m.kv_lora, m.heads});
    Add(w, gguf::LayerTensor(i, gguf::kAttnVB), {m.kv_lora, m.v, m.heads});
    Add(w, gguf::LayerTensor(i, gguf::kAttnOutput), {m.heads * m.v, m.d});
    Add(w, gguf::LayerTensor(i, gguf::kFfnNorm), {m.d}, false);
    if (i < m.dense_layers) {
      Add(w, gguf::LayerTensor(i, gguf::kFfnGate), {m.d, m.f});
      Add(w, gguf::LayerTensor(i, gguf::kFfnUp), {m.d, m.f});
      Add(w, gguf::LayerTensor(i, gguf::kFfnDown), {m.f, m.d});
      continue;
    }
    Add(w, gguf::LayerTensor(i, gguf::kFfnGateInp), {m.d, m.experts}, false);
    Add(w, gguf::LayerTensor(i, gguf::kExpProbsB, "bias"), {m.experts}, false);
    Add(w, gguf::LayerTensor(i, gguf::kFfnGateExps), {m.d, m.fe, m.experts});
    Add(w, gguf::LayerTensor(i, gguf::kFfnUpExps), {m.d, m.fe, m.experts});
    Add(w, gguf::LayerTensor(i, gguf::kFfnDownExps), {m.fe, m.d, m.experts});
    Add(w, gguf::LayerTensor(i, gguf::kFfnGateShexp), {m.d, m.shared * m.fe});
    Add(w, gguf::LayerTensor(i, gguf::kFfnUpShexp), {m.d, m.shared * m.fe});
    Add(w, gguf::LayerTensor(i, gguf::kFfnDownShexp), {m.shared * m.fe, m.d});
  }
  Add(w, std::string(gguf::kOutputNorm), {m.d}, false);
  Add(w, std::string(gguf::kOutput), {m.d, m.vocab});
  return w;
}

// Writes the header and extends the file with a hole to its full size.
std::string WriteSparseFile(const Dims& m) {
  const GgufWriter w = MakeDeepseek2(m);
  const std::vector<std::byte> header = w.SerializeHeader();
  const char* tmp = std::getenv("TMPDIR");
  std::string path =
      fmt::format("{}/dsinfer-bench-{}-{}.gguf", tmp ? tmp : "/tmp", m.name, ::getpid());
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (fd < 0 || ::write(fd, header.data(), header.size()) != static_cast<ssize_t>(header.size()) ||
      ::ftruncate(fd, static_cast<off_t>(header.size() + w.DataSectionSize())) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  ::close(fd);
  return path;
}

void BM_OpenGguf(benchmark::State& state, const Dims* dims) {
  const std::string path = WriteSparseFile(*dims);
  uint64_t size = 0, tensors = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): benchmark idiom
    StatusOr<GgufFile> file = GgufFile::Open(path);
    if (!file.ok()) {
      state.SkipWithError(file.status().ToString().c_str());
      break;
    }
    size = file->file_size();
    tensors = file->tensors().size();
    benchmark::DoNotOptimize(file->FindTensor("output.weight"));
  }
  state.counters["file_GiB"] = static_cast<double>(size) / (1ULL << 30);
  state.counters["tensors"] = static_cast<double>(tensors);
  ::unlink(path.c_str());
}

BENCHMARK_CAPTURE(BM_OpenGguf, tiny, &kTiny)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OpenGguf, V2_Lite_Q4_K, &kV2Lite)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OpenGguf, V3_671B_Q4_K, &kV3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dsinfer

BENCHMARK_MAIN();
