// `dsinfer bench -m MODEL [--prompt 512] [--gen 128] [--threads N] [--repetitions R] [--json]`:
// prefill and decode speed of one sequence against the machine's measured memory bandwidth
// (issue 4).
//
//   prefill   --prompt random token ids in one forward pass: tokens/s
//   decode    --gen tokens, greedy, end-of-sequence ignored: tokens/s over the steps after
//             the first generated token (runner::Generate's decode clock)
//   traffic   the weight bytes one decoded token reads (runner/decode_traffic.h: every matrix
//             in its decode form, k/E of the stacked experts, one embedding row), plus the KV
//             cache it attends over at the mean decode position
//   bandwidth MeasureReadBandwidth over a fresh --bandwidth-mib buffer with the same pool,
//             before each repetition and after the last; the highest is the roof
//   roofline  bandwidth / bytes per token: the decode speed memory allows; decode is reported
//             as a fraction of it, and (adjacent) as the median over repetitions of each
//             one's decode against the higher of the two probes around it: this host's
//             bandwidth moves between ~34 and ~65 GB/s over minutes, and a run compared with a
//             probe taken in another period says little
//   paired    (unless --no-paired) after those, one more decode per repetition in which every
//             step is followed by one timed pass over a --bandwidth-mib probe buffer: each
//             step's bytes/s against the mean of the passes just before and after it, the
//             median over all steps. This host's bandwidth also moves between ~20 and ~70 GB/s
//             from one 5 ms read to the next, so a decode of many steps meets the average of
//             that while the best probe is its top; a step and the passes beside it meet the
//             same memory. The passes evict the caches between steps, which can only slow a
//             paired step; the median step of a paired run is not the mean of a plain one.
//   weights   in the paired decode, where the model's packed weights fill at least
//             --weights-pass-min-mib, each step is also followed by a timed pass over them
//             (before the probe's, which evicts them from the caches again): on a virtual
//             machine each 2 MiB page has a read speed of its own, which holds for the
//             process's life (one of this project's hosts: 22-44 GB/s a page on one core,
//             bench/README.md), so a probe buffer's pages need not read like the weights'.
//             Each step against the weight passes beside it compares the same memory. A
//             pass over weights not far above the L3 may find part of them cached from the
//             step before it, which lowers that fraction, never raises it.
//             Weights past --weights-pass-max-mib are read that much at a time, in 64 MiB
//             pieces spread evenly over them, so that a pass over an R1 stays short.
//
// Each repetition reruns prefill and decode on the same KV storage; the figures reported are
// medians over repetitions. The 1-minute load average is printed with the results: on a
// shared machine the figures are only as good as the idle cores.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/command_options.h"
#include "app/commands.h"
#include "base/clock.h"
#include "kernels/kernel_table.h"
#include "model/kv_storage.h"
#include "model/load_model.h"
#include "platform/cpu_features.h"
#include "platform/memory_bandwidth.h"
#include "runner/decode_traffic.h"
#include "runner/generate.h"

namespace dsinfer {
namespace {

struct BenchArgs {
  std::string model;
  int64_t prompt = 512;
  int64_t gen = 128;
  int threads = 0;
  int repetitions = 1;
  int64_t bandwidth_mib = 1024;
  int64_t weights_pass_min_mib = 256;
  int64_t weights_pass_max_mib = 16384;
  std::string kv_type = "f16";
  std::string hf_type = "q8_0";
  uint64_t seed = 1;
  bool paired = true;
  bool json = false;
};

// One repetition's speeds.
struct RunTimes {
  double prefill_tok_s = 0;
  double decode_tok_s = 0;
  double fastest_step_s = 0;  // the quickest decode step: the speed without interruptions
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double LoadAverage1m() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return in ? load : -1;
}

// Stored bytes by type over the whole file, e.g. {"q8_0": ..., "f32": ...}.
nlohmann::ordered_json BytesByType(const WeightStore& store) {
  std::map<std::string, int64_t> bytes;
  for (const std::string& name : store.Names()) {
    const TensorView* view = store.Find(name);
    bytes[std::string(DTypeName(view->dtype))] += static_cast<int64_t>(view->bytes.size());
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [type, n] : bytes) out[type] = n;
  return out;
}

StatusOr<RunTimes> RunOnce(const Model& model, KvStorage& kv, std::span<const int32_t> prompt,
                           int64_t gen, ThreadPool* pool) {
  runner::GenerateOptions options;
  options.max_new_tokens = gen;
  options.sampling.temperature = 0;  // greedy; no stop token: every step runs
  // Token arrival times: the gaps between them are the decode steps.
  std::vector<int64_t> arrivals;
  arrivals.reserve(static_cast<size_t>(gen));
  DSI_ASSIGN_OR_RETURN(const runner::GenerateStats stats,
                       runner::Generate(
                           model, kv, prompt, options, nullptr,
                           [&](int32_t) {
                             arrivals.push_back(MonotonicNanos());
                             return true;
                           },
                           pool));
  RunTimes t;
  t.prefill_tok_s =
      static_cast<double>(stats.prompt_tokens) / std::max(stats.prefill_seconds, 1e-9);
  t.decode_tok_s =
      static_cast<double>(stats.generated_tokens - 1) / std::max(stats.decode_seconds, 1e-9);
  t.fastest_step_s = 1e300;
  for (size_t i = 1; i < arrivals.size(); ++i) {
    t.fastest_step_s =
        std::min(t.fastest_step_s, static_cast<double>(arrivals[i] - arrivals[i - 1]) * 1e-9);
  }
  return t;
}

// Decode steps with a probe pass after each: step i (1 .. gen - 1, between the arrivals of
// tokens i - 1 and i, less the pass after token i - 1) against the mean of passes i - 1 and i.
struct PairedSteps {
  std::vector<double> step_tok_s;
  std::vector<double> probe_bytes_per_s;    // one per token: step_tok_s.size() + 1
  std::vector<double> weights_bytes_per_s;  // as many, where the weights are read too
};

// `weights` empty: no weight passes.
StatusOr<PairedSteps> RunPaired(const Model& model, KvStorage& kv, std::span<const int32_t> prompt,
                                int64_t gen, std::span<const std::byte> probe,
                                std::span<const std::span<const std::byte>> weights,
                                ThreadPool* pool) {
  runner::GenerateOptions options;
  options.max_new_tokens = gen;
  options.sampling.temperature = 0;
  PairedSteps paired;
  int64_t resumed = 0;  // when the last pass ended and the next step began
  DSI_RETURN_IF_ERROR(runner::Generate(
                          model, kv, prompt, options, nullptr,
                          [&](int32_t) {
                            const int64_t arrived = MonotonicNanos();
                            if (resumed != 0) {
                              paired.step_tok_s.push_back(
                                  1e9 /
                                  static_cast<double>(std::max<int64_t>(arrived - resumed, 1)));
                            }
                            if (!weights.empty()) {
                              paired.weights_bytes_per_s.push_back(TimedReadPass(weights, pool));
                            }
                            paired.probe_bytes_per_s.push_back(TimedReadPass(probe, pool));
                            resumed = MonotonicNanos();
                            return true;
                          },
                          pool)
                          .status());
  return paired;
}

// The pieces of a weight pass over weights past --weights-pass-max-mib.
constexpr size_t kWeightPassPiece = size_t{64} << 20;

// The paired figures over args.repetitions runs of RunPaired on one probe buffer.
StatusOr<nlohmann::ordered_json> PairedFigures(const Model& model, KvStorage& kv,
                                               std::span<const int32_t> prompt,
                                               const BenchArgs& args, int64_t bytes_per_token,
                                               ThreadPool* pool) {
  DSI_ASSIGN_OR_RETURN(const ProbeBuffer probe,
                       ProbeBuffer::Create(static_cast<size_t>(args.bandwidth_mib) << 20));
  TimedReadPass(probe.bytes(), pool);  // untimed, as MeasureReadBandwidth's first pass
  const std::span<const std::byte> packed = model.weights().packed_arena.taken();
  std::vector<std::span<const std::byte>> weights;
  if (!packed.empty() && packed.size() >= (static_cast<size_t>(args.weights_pass_min_mib) << 20)) {
    weights = SpreadPieces(packed, static_cast<size_t>(args.weights_pass_max_mib) << 20,
                           kWeightPassPiece);
  }
  size_t weight_pass_bytes = 0;
  for (const std::span<const std::byte> piece : weights) weight_pass_bytes += piece.size();
  std::vector<double> steps, probes, fractions, weight_passes, weight_fractions;
  nlohmann::ordered_json step_runs = nlohmann::ordered_json::array();
  nlohmann::ordered_json probe_runs = nlohmann::ordered_json::array();
  nlohmann::ordered_json weight_runs = nlohmann::ordered_json::array();
  // Each step against the mean of the passes just before and after it.
  const auto beside = [&](const PairedSteps& run, const std::vector<double>& passes,
                          std::vector<double>& out) {
    for (size_t i = 0; i < run.step_tok_s.size(); ++i) {
      out.push_back(run.step_tok_s[i] * static_cast<double>(bytes_per_token) /
                    (0.5 * (passes[i] + passes[i + 1])));
    }
  };
  for (int rep = 0; rep < args.repetitions; ++rep) {
    DSI_ASSIGN_OR_RETURN(const PairedSteps run,
                         RunPaired(model, kv, prompt, args.gen, probe.bytes(), weights, pool));
    beside(run, run.probe_bytes_per_s, fractions);
    steps.insert(steps.end(), run.step_tok_s.begin(), run.step_tok_s.end());
    probes.insert(probes.end(), run.probe_bytes_per_s.begin(), run.probe_bytes_per_s.end());
    step_runs.push_back(run.step_tok_s);
    probe_runs.push_back(run.probe_bytes_per_s);
    if (!weights.empty()) {
      beside(run, run.weights_bytes_per_s, weight_fractions);
      weight_passes.insert(weight_passes.end(), run.weights_bytes_per_s.begin(),
                           run.weights_bytes_per_s.end());
      weight_runs.push_back(run.weights_bytes_per_s);
    }
  }
  nlohmann::ordered_json r;
  r["paired_steps"] = fractions.size();
  r["paired_decode_tok_s"] = Median(steps);
  r["paired_probe_bytes_per_s"] = Median(probes);
  r["paired_probe_bytes_per_s_min"] = *std::min_element(probes.begin(), probes.end());
  r["paired_probe_bytes_per_s_max"] = *std::max_element(probes.begin(), probes.end());
  r["paired_step_tok_s_runs"] = step_runs;
  r["paired_probe_bytes_per_s_runs"] = probe_runs;
  r["decode_fraction_of_paired_probes"] = Median(fractions);
  if (!weights.empty()) {
    r["weights_pass_bytes"] = weight_pass_bytes;
    r["weights_packed_bytes"] = packed.size();
    r["paired_weights_pass_bytes_per_s"] = Median(weight_passes);
    r["paired_weights_pass_bytes_per_s_runs"] = weight_runs;
    r["decode_fraction_of_paired_weights_passes"] = Median(weight_fractions);
  }
  return r;
}

void PrintTable(const nlohmann::ordered_json& r) {
  const auto gb = [](const nlohmann::ordered_json& v) { return v.get<double>() / 1e9; };
  const auto mib = [](const nlohmann::ordered_json& v) { return v.get<double>() / (1 << 20); };
  std::printf("model            %s (%s, %lld layers)\n", r["model"].get<std::string>().c_str(),
              r["arch"].get<std::string>().c_str(), r["layers"].get<long long>());
  std::printf("threads / isa    %d / %s   (load average %.2f at start, %.2f at end)\n",
              r["threads"].get<int>(), r["isa"].get<std::string>().c_str(),
              r["load_average_start"].get<double>(), r["load_average_end"].get<double>());
  std::printf("cpu              %s (%s, family 0x%x)\n", r["cpu"].get<std::string>().c_str(),
              r["cpu_vendor"].get<std::string>().c_str(), r["cpu_family"].get<int>());
  std::printf("weights          %.1f MiB in memory as decode reads them, %.1f MiB per token\n",
              mib(r["all_weight_bytes"]), mib(r["weight_bytes_per_token"]));
  const nlohmann::ordered_json& t = r["weight_bytes_per_token_by_part"];
  for (const auto& [part, bytes] : t.items()) {
    if (bytes.get<int64_t>() > 0) std::printf("  %-15s%10.2f MiB\n", part.c_str(), mib(bytes));
  }
  std::printf("KV cache         %.2f MiB per token at the mean decode position\n",
              mib(r["kv_bytes_per_token"]));
  std::printf("bandwidth        %.2f GB/s (read, %lld MiB buffer, best of %zu x 6 passes)\n",
              gb(r["bandwidth_bytes_per_s"]), r["bandwidth_buffer_mib"].get<long long>(),
              r["bandwidth_bytes_per_s_runs"].size());
  std::printf("prefill          %lld tokens: %.1f tok/s\n", r["prompt_tokens"].get<long long>(),
              r["prefill_tok_s"].get<double>());
  std::printf("decode           %lld tokens: %.2f tok/s (fastest step %.2f tok/s), %.2f GB/s\n",
              r["gen_tokens"].get<long long>(), r["decode_tok_s"].get<double>(),
              r["decode_fastest_step_tok_s"].get<double>(), gb(r["decode_bytes_per_s"]));
  std::printf(
      "roofline         %.2f tok/s; decode at %.1f %% of it, %.1f %% of the probes "
      "around each repetition\n",
      r["roofline_decode_tok_s"].get<double>(),
      100 * r["decode_fraction_of_roofline"].get<double>(),
      100 * r["decode_fraction_of_adjacent_roofline"].get<double>());
  if (r.contains("paired_steps")) {
    std::printf(
        "paired           %lld decode steps, each beside a probe pass: decode at %.1f %% of the "
        "probes beside it; steps %.2f tok/s, probes %.2f GB/s (%.2f-%.2f) (medians)\n",
        r["paired_steps"].get<long long>(),
        100 * r["decode_fraction_of_paired_probes"].get<double>(),
        r["paired_decode_tok_s"].get<double>(), gb(r["paired_probe_bytes_per_s"]),
        gb(r["paired_probe_bytes_per_s_min"]), gb(r["paired_probe_bytes_per_s_max"]));
  }
  if (r.contains("weights_pass_bytes")) {
    std::printf(
        "weight passes    the same steps beside passes over %.1f of the %.1f MiB of packed "
        "weights: decode at %.1f %% of those passes; passes %.2f GB/s (medians)\n",
        mib(r["weights_pass_bytes"]), mib(r["weights_packed_bytes"]),
        100 * r["decode_fraction_of_paired_weights_passes"].get<double>(),
        gb(r["paired_weights_pass_bytes_per_s"]));
  }
  std::printf("repetitions      %d (medians)\n", r["repetitions"].get<int>());
}

int Bench(const BenchArgs& args) {
  constexpr const char* kCommand = "dsinfer bench";
  const std::optional<DType> kv_type = DTypeFromName(args.kv_type);
  if (!kv_type.has_value() || (*kv_type != DType::kF16 && *kv_type != DType::kF32)) {
    return ReportError(kCommand, fmt::format("--kv-type {}: use f16 or f32", args.kv_type));
  }
  const StatusOr<TypeRequest> hf_type = HfTypeOption(args.hf_type);
  if (!hf_type.ok()) return ReportError(kCommand, hf_type.status().message());
  const int threads = ThreadCount(args.threads);
  const double load_start = LoadAverage1m();
  ThreadPool pool(threads);
  const Stopwatch load_clock;
  StatusOr<Model> model = LoadModel(args.model, {.hf_type = *hf_type}, &pool);
  if (!model.ok()) return ReportError(kCommand, model.status().message());
  const double load_seconds = load_clock.ElapsedSeconds();
  const ModelConfig& config = model->config();

  const runner::DecodeTraffic traffic = runner::DecodeTrafficOf(model->weights(), config);
  StatusOr<int64_t> kv_per_position = KvStorage::BytesPerBlock(config, 1, *kv_type);
  if (!kv_per_position.ok()) return ReportError(kCommand, kv_per_position.status().message());
  // Step i of decode attends over prompt + i positions; the mean over the timed steps
  // 1 .. gen-1 is prompt + gen / 2.
  const auto kv_bytes =
      static_cast<int64_t>(static_cast<double>(*kv_per_position) *
                           (static_cast<double>(args.prompt) + static_cast<double>(args.gen) / 2));
  const int64_t bytes_per_token = traffic.per_token() + kv_bytes;

  std::mt19937 rng(static_cast<uint32_t>(args.seed));
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(config.vocab_size - 1));
  std::vector<int32_t> prompt(static_cast<size_t>(args.prompt));
  for (int32_t& id : prompt) id = token(rng);
  StatusOr<KvStorage> kv = runner::KvStorageFor(config, args.prompt + args.gen, *kv_type);
  if (!kv.ok()) return ReportError(kCommand, kv.status().message());

  // Bandwidth is measured before every repetition and after the last: on a shared machine
  // other processes lower it for minutes at a time, and the best figure is the machine's.
  std::vector<double> bandwidths;
  const auto measure_bandwidth = [&]() -> Status {
    DSI_ASSIGN_OR_RETURN(
        const double bytes_per_s,
        MeasureReadBandwidth(static_cast<size_t>(args.bandwidth_mib) << 20, &pool));
    bandwidths.push_back(bytes_per_s);
    return Status::Ok();
  };
  std::vector<double> prefill, decode, fastest;
  for (int r = 0; r < args.repetitions; ++r) {
    if (Status s = measure_bandwidth(); !s.ok()) return ReportError(kCommand, s.message());
    StatusOr<RunTimes> run = RunOnce(*model, *kv, prompt, args.gen, &pool);
    if (!run.ok()) return ReportError(kCommand, run.status().message());
    prefill.push_back(run->prefill_tok_s);
    decode.push_back(run->decode_tok_s);
    fastest.push_back(1.0 / run->fastest_step_s);
  }
  if (Status s = measure_bandwidth(); !s.ok()) return ReportError(kCommand, s.message());
  const double bandwidth = *std::max_element(bandwidths.begin(), bandwidths.end());
  const double decode_tok_s = Median(decode);
  const double roofline = bandwidth / static_cast<double>(bytes_per_token);

  nlohmann::ordered_json r;
  r["model"] = args.model;
  r["arch"] = std::string(ModelArchName(config.arch));
  r["layers"] = config.num_hidden_layers;
  r["tensor_bytes_by_type"] = BytesByType(model->store());
  r["threads"] = threads;
  r["isa"] = std::string(IsaName(kernels::Kernels().isa));
  // Which host, for results compared across machines: the kernels tune some choices to the
  // vendor and cpuid family (x86/avx512/packed_x8.h, MatvecTilesFor).
  const CpuFeatures& cpu = GetCpuFeatures();
  r["cpu"] = cpu.brand;
  r["cpu_vendor"] = cpu.vendor;
  r["cpu_family"] = cpu.family;
  r["load_average_start"] = load_start;
  r["load_average_end"] = LoadAverage1m();
  r["load_seconds"] = load_seconds;
  r["prompt_tokens"] = args.prompt;
  r["gen_tokens"] = args.gen;
  r["repetitions"] = args.repetitions;
  r["prefill_tok_s"] = Median(prefill);
  r["decode_tok_s"] = decode_tok_s;
  r["decode_fastest_step_tok_s"] = Median(fastest);
  r["prefill_tok_s_runs"] = prefill;
  r["decode_tok_s_runs"] = decode;
  r["all_weight_bytes"] = traffic.all_weights;
  r["weight_bytes_per_token"] = traffic.per_token();
  r["weight_bytes_per_token_by_part"] = {
      {"attention", traffic.attention},           {"dense_mlp", traffic.dense_mlp},
      {"shared_experts", traffic.shared_experts}, {"routers", traffic.routers},
      {"routed_experts", traffic.routed_experts}, {"output", traffic.output},
      {"embedding_row", traffic.embedding_row},   {"vectors", traffic.vectors}};
  r["kv_bytes_per_token"] = kv_bytes;
  r["bytes_per_token"] = bytes_per_token;
  r["bandwidth_bytes_per_s"] = bandwidth;
  r["bandwidth_bytes_per_s_runs"] = bandwidths;
  r["bandwidth_buffer_mib"] = args.bandwidth_mib;
  r["decode_bytes_per_s"] = decode_tok_s * static_cast<double>(bytes_per_token);
  r["roofline_decode_tok_s"] = roofline;
  r["decode_fraction_of_roofline"] = decode_tok_s / roofline;
  std::vector<double> adjacent;
  for (size_t i = 0; i < decode.size(); ++i) {
    adjacent.push_back(decode[i] * static_cast<double>(bytes_per_token) /
                       std::max(bandwidths[i], bandwidths[i + 1]));
  }
  r["decode_fraction_of_adjacent_roofline"] = Median(adjacent);

  if (args.paired) {
    StatusOr<nlohmann::ordered_json> paired =
        PairedFigures(*model, *kv, prompt, args, bytes_per_token, &pool);
    if (!paired.ok()) return ReportError(kCommand, paired.status().message());
    r.update(*paired);
  }

  if (args.json) {
    std::puts(r.dump().c_str());
  } else {
    PrintTable(r);
  }
  return 0;
}

}  // namespace

void RegisterBenchCommand(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "prefill and decode speed against the measured memory-bandwidth roofline");
  cmd->add_option("-m,--model", args->model, "GGUF file or HF checkpoint directory")->required();
  cmd->add_option("--prompt", args->prompt, "prompt tokens evaluated in one pass (default 512)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--gen", args->gen, "tokens to generate, at least 2 (default 128)")
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  cmd->add_option("-t,--threads", args->threads, "threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--repetitions", args->repetitions, "runs; medians are reported (default 1)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--bandwidth-mib", args->bandwidth_mib,
                  "buffer of the bandwidth measurement, far above the L3 (default 1024)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_flag("--paired,!--no-paired", args->paired,
                "also time decode steps each beside a probe pass (default on)");
  cmd->add_option("--weights-pass-min-mib", args->weights_pass_min_mib,
                  "paired steps also pass over the packed weights where they fill at least "
                  "this much, above the L3 (default 256; 0: always)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--weights-pass-max-mib", args->weights_pass_max_mib,
                  "a weight pass reads at most this much, in 64 MiB pieces spread over larger "
                  "weights (default 16384)")
      ->check(CLI::Range(int64_t{64}, int64_t{1} << 30));
  cmd->add_option("--kv-type", args->kv_type, "KV cache element type: f16 (default) or f32");
  cmd->add_option("--hf-type", args->hf_type, HfTypeHelp());
  cmd->add_option("--seed", args->seed, "seed of the random prompt ids");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->callback([run, args] { *run = [args] { return Bench(*args); }; });
}

}  // namespace dsinfer
