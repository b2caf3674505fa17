#!/usr/bin/env bash
# `dsinfer bench` on tiny random models (a dense qwen2 in q8_0, an MLA MoE in f32): the JSON
# object has every field, the byte counts add up, speeds and bandwidth are positive, the
# paired fraction is the median of each step against the probe passes beside it, and so is the
# fraction of the weight passes (forced on these small models with --weights-pass-min-mib 0, off
# by default below 256 MiB); the table form prints; --no-paired leaves the paired figures out;
# bad arguments and a missing model exit non-zero with a message. Speeds are
# never compared with a threshold (DESIGN.md: tests prove correctness, bench/ measures speed).
source "$(dirname "$0")/lib.sh"
dsinfer=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$dsinfer" random-model --arch qwen2 --like tiny-qwen2 --type q8_0 --seed 2 \
  -o "$dir/qwen2.gguf" >/dev/null 2>&1 && pass || fail "random-model qwen2"
"$dsinfer" random-model --arch deepseek2 --like tiny-v2-lite --seed 2 \
  -o "$dir/v2lite.gguf" >/dev/null 2>&1 && pass || fail "random-model v2-lite"

# model, expected arch, "moe" or "dense"
check_json() {
  local model=$1 arch=$2 kind=$3 text rc
  text=$("$dsinfer" bench -m "$model" --prompt 16 --gen 4 --threads 2 --repetitions 3 \
         --bandwidth-mib 64 --weights-pass-min-mib 0 --json 2>"$dir/stderr"); rc=$?
  [ "$rc" -eq 0 ] && pass || { fail "bench $model exit $rc: $(cat "$dir/stderr")"; return; }
  local problems
  printf '%s' "$text" >"$dir/bench.json"
  problems=$(/usr/bin/python3 - "$dir/bench.json" "$arch" "$kind" <<'EOF'
import json, math, sys
path, arch, kind = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(path))
bad = []
def need(cond, what):
    if not cond: bad.append(what)
fields = ["model", "arch", "layers", "tensor_bytes_by_type", "threads", "isa", "cpu",
          "cpu_vendor", "cpu_family",
          "load_average_start", "load_average_end", "load_seconds", "prompt_tokens",
          "gen_tokens", "repetitions", "prefill_tok_s", "decode_tok_s",
          "decode_fastest_step_tok_s", "prefill_tok_s_runs", "decode_tok_s_runs",
          "all_weight_bytes", "weight_bytes_per_token", "weight_bytes_per_token_by_part",
          "kv_bytes_per_token", "bytes_per_token", "bandwidth_bytes_per_s",
          "bandwidth_bytes_per_s_runs", "bandwidth_buffer_mib", "decode_bytes_per_s", "roofline_decode_tok_s",
          "decode_fraction_of_roofline", "decode_fraction_of_adjacent_roofline",
          "paired_steps", "paired_decode_tok_s", "paired_probe_bytes_per_s",
          "paired_probe_bytes_per_s_min", "paired_probe_bytes_per_s_max",
          "paired_step_tok_s_runs", "paired_probe_bytes_per_s_runs",
          "decode_fraction_of_paired_probes", "weights_pass_bytes",
          "paired_weights_pass_bytes_per_s", "paired_weights_pass_bytes_per_s_runs",
          "decode_fraction_of_paired_weights_passes"]
for f in fields:
    need(f in r, "missing " + f)
if bad:
    print("; ".join(bad)); sys.exit()
need(r["arch"] == arch, "arch " + r["arch"])
# The family Linux reports for this machine's CPU, where it reports one.
linux_family = [l.split(":")[1].strip() for l in open("/proc/cpuinfo") if l.startswith("cpu family")]
need(not linux_family or r["cpu_family"] == int(linux_family[0]), "cpu_family %r" % r["cpu_family"])
need(isinstance(r["cpu_vendor"], str) and r["cpu_vendor"] != "", "cpu_vendor")
need(r["threads"] == 2 and r["prompt_tokens"] == 16 and r["gen_tokens"] == 4, "echoed args")
need(len(r["prefill_tok_s_runs"]) == 3 and len(r["decode_tok_s_runs"]) == 3, "3 runs")
need(sorted(r["decode_tok_s_runs"])[1] == r["decode_tok_s"], "decode is the median run")
for f in ["prefill_tok_s", "decode_tok_s", "decode_fastest_step_tok_s", "bandwidth_bytes_per_s",
          "roofline_decode_tok_s", "decode_fraction_of_roofline", "load_seconds"]:
    need(isinstance(r[f], (int, float)) and math.isfinite(r[f]) and r[f] > 0, f + " > 0")
need(len(r["bandwidth_bytes_per_s_runs"]) == 4, "bandwidth before each run and after")
need(max(r["bandwidth_bytes_per_s_runs"]) == r["bandwidth_bytes_per_s"], "roof is the best")
# A memory read of 64 MiB on any machine this runs on: between 0.1 and 10000 GB/s.
need(1e8 < r["bandwidth_bytes_per_s"] < 1e13, "bandwidth plausible")
parts = r["weight_bytes_per_token_by_part"]
need(sum(parts.values()) == r["weight_bytes_per_token"], "parts add up")
need(r["bytes_per_token"] == r["weight_bytes_per_token"] + r["kv_bytes_per_token"], "total")
need(r["kv_bytes_per_token"] > 0 and parts["attention"] > 0 and parts["output"] > 0, "parts > 0")
need(parts["embedding_row"] < r["all_weight_bytes"] / 10, "embedding is one row")
need(abs(r["roofline_decode_tok_s"] * r["bytes_per_token"] - r["bandwidth_bytes_per_s"])
     < 1e-6 * r["bandwidth_bytes_per_s"], "roofline = bandwidth / bytes")
need(abs(r["decode_fraction_of_roofline"] * r["roofline_decode_tok_s"] - r["decode_tok_s"])
     < 1e-6 * r["decode_tok_s"], "fraction = decode / roofline")
bw = r["bandwidth_bytes_per_s_runs"]
adj = sorted(d * r["bytes_per_token"] / max(bw[i], bw[i + 1])
             for i, d in enumerate(r["decode_tok_s_runs"]))
need(abs(adj[1] - r["decode_fraction_of_adjacent_roofline"]) < 1e-9 * adj[1],
     "adjacent fraction = median of each run against its probes")
need(r["decode_fraction_of_adjacent_roofline"] >= r["decode_fraction_of_roofline"] - 1e-12,
     "the adjacent probes are never above the best one")
# Paired: 3 runs of gen - 1 = 3 steps, each between two of the run's 4 probe passes, and of its
# 4 weight passes.
steps, probes = r["paired_step_tok_s_runs"], r["paired_probe_bytes_per_s_runs"]
passes = r["paired_weights_pass_bytes_per_s_runs"]
need(r["paired_steps"] == 9 and [len(s) for s in steps] == [3] * 3
     and [len(p) for p in probes] == [4] * 3 and [len(p) for p in passes] == [4] * 3,
     "paired steps and passes per run")
need(0 < r["weights_pass_bytes"] == r["weights_packed_bytes"], "a pass over all the weights")
def check_beside(runs, fraction, median, what):
    """Each step against the mean of the passes before and after it: the median is `fraction`;
    the passes' median is `median`; both positive. Returns the passes sorted."""
    fr = sorted(s[i] * r["bytes_per_token"] / (0.5 * (p[i] + p[i + 1]))
                for s, p in zip(steps, runs) for i in range(3))
    need(abs(fr[4] - r[fraction]) < 1e-9 * fr[4], what + " fraction = median of each step")
    flat = sorted(x for p in runs for x in p)
    need(abs(0.5 * (flat[5] + flat[6]) - r[median]) < 1e-6 * flat[6], what + " median")
    need(all(math.isfinite(x) and x > 0 for x in flat) and fr[0] > 0, what + " figures > 0")
    return flat
if not bad:
    flat = check_beside(probes, "decode_fraction_of_paired_probes", "paired_probe_bytes_per_s",
                        "probe")
    need(flat[0] == r["paired_probe_bytes_per_s_min"] and flat[-1] == r["paired_probe_bytes_per_s_max"],
         "probe min and max")
    need(sorted(x for s in steps for x in s)[4] == r["paired_decode_tok_s"], "median step")
    check_beside(passes, "decode_fraction_of_paired_weights_passes",
                 "paired_weights_pass_bytes_per_s", "weight pass")
need(sum(r["tensor_bytes_by_type"].values()) > 0, "tensor bytes")
if kind == "moe":
    need(parts["routed_experts"] > 0 and parts["routers"] > 0, "expert parts")
    need(r["weight_bytes_per_token"] < r["all_weight_bytes"], "k of E experts only")
else:
    need(parts["routed_experts"] == 0 and parts["dense_mlp"] > 0, "dense parts")
    need("q8_0" in r["tensor_bytes_by_type"], "q8_0 tensors")
print("; ".join(bad))
EOF
)
  [ -z "$problems" ] && pass || fail "bench $model: $problems: ${text:0:600}"
}
check_json "$dir/qwen2.gguf" qwen2 dense
check_json "$dir/v2lite.gguf" deepseek2 moe

text=$("$dsinfer" bench -m "$dir/v2lite.gguf" --prompt 8 --gen 3 --threads 1 \
       --bandwidth-mib 16 2>&1); rc=$?
[ "$rc" -eq 0 ] && pass || fail "bench table exit $rc: $text"
expect_contains "$text" "routed_experts" "table lists the routed experts"
expect_contains "$text" "roofline" "table has the roofline"
expect_contains "$text" "decode           3 tokens" "table decode line"
expect_contains "$text" "paired           2 decode steps" "table paired line"
[[ "$text" != *"weight passes"* ]] && pass || fail "weight passes over a model under 256 MiB"
text=$("$dsinfer" bench -m "$dir/qwen2.gguf" --prompt 8 --gen 3 --threads 2 --bandwidth-mib 16 \
       --weights-pass-min-mib 0 2>&1); rc=$?
[ "$rc" -eq 0 ] && pass || fail "bench --weights-pass-min-mib 0 exit $rc: $text"
expect_contains "$text" "weight passes    the same steps beside passes over" "table weights line"
text=$("$dsinfer" bench -m "$dir/qwen2.gguf" --prompt 8 --gen 3 --threads 2 --bandwidth-mib 16 \
       --no-paired --json 2>&1); rc=$?
[ "$rc" -eq 0 ] && pass || fail "bench --no-paired exit $rc: $text"
expect_contains "$text" '"decode_tok_s"' "--no-paired JSON"
[[ "$text" != *'"paired_'* ]] && pass || fail "--no-paired still reports paired figures"

# errors: a non-zero exit and a message naming the problem
text=$("$dsinfer" bench -m "$dir/qwen2.gguf" --gen 1 2>&1); rc=$?
[ "$rc" -ne 0 ] && pass || fail "--gen 1 exit $rc"
expect_contains "$text" "--gen" "--gen 1 message"
text=$("$dsinfer" bench -m "$dir/missing.gguf" 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "missing model exit $rc"
expect_contains "$text" "dsinfer bench: error:" "missing model message"
expect_contains "$text" "missing.gguf" "missing model names the file"
text=$("$dsinfer" bench -m "$dir/qwen2.gguf" --kv-type q8_0 2>&1); rc=$?
[ "$rc" -eq 1 ] && pass || fail "--kv-type q8_0 exit $rc"
expect_contains "$text" "--kv-type q8_0" "kv type message"

finish
