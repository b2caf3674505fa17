"""A float64 reference forward pass for GGUF models of arch llama, qwen2, deepseek and
deepseek2, written from the published formulas (shared/reference/deepseek-models.md §3,
§6, §8) and nothing of dsinfer's C++: it is the oracle the model_reference test holds
dsinfer's logits to.

Plain and slow on purpose: every weight is dequantised to float64 once, every position is
recomputed from scratch with a causal mask (no KV cache), MLA is computed in the naive
decompressed form (the absorbed form is here only to check the naive one).

    model = ReferenceModel(GgufFile(path))
    logits = model.forward([1, 2, 3])   # (3, vocab) float64; row i predicts token i+1

Usage as a script: reference_model.py MODEL.gguf 1,2,3  -> prints argmax per position.
"""
import math
import sys

import numpy as np

from gguf_reader import GgufFile

ARCHS = ("llama", "qwen2", "deepseek", "deepseek2")


# ---- ops (§3.1-3.4) ----

def rms_norm(x, w, eps):
    """§3.1 over the last axis."""
    return w * x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def silu(z):
    return z / (1.0 + np.exp(-z))


# ---- optional: the activation rounding of ggml-style dot products ----
# ggml (and dsinfer, measured) converts a matmul's input vector to the weight's "vec_dot
# type" before the dot products: F16 -> F16, BF16 -> BF16, the 32-blocks (Q4_0, Q5_0, Q8_0)
# -> Q8_0 blocks, Q4_1 / Q5_1 -> Q8_1 blocks (Q8_0's values plus s = f16(d * sum q), which
# the weight's per-block min multiplies: q8_1_min_terms), the K-quants -> Q8_K blocks
# (reference doc §7). Off by default: the reference is the exact math; on, it lets the test
# hold quantised files to a bound ~100x tighter than the rounding itself would allow.

def round_f16(x):
    return x.astype(np.float32).astype(np.float16).astype(np.float64)


def round_bf16(x):
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16  # round to nearest even
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


def _q8_0_steps(x):
    """x in Q8_0 blocks of 32 -> (x / d per block, d): d = max|x| / 127."""
    b = x.astype(np.float32).astype(np.float64).reshape(-1, 32)
    d = np.abs(b).max(axis=1, keepdims=True) / 127.0
    return np.divide(b, d, out=np.zeros_like(b), where=d > 0), d


def _q8_k_steps(x):
    """x in Q8_K blocks of 256 -> (iscale x per block, iscale): iscale = -127 / (the value of
    largest |x|)."""
    b = x.astype(np.float32).astype(np.float64).reshape(-1, 256)
    big = np.take_along_axis(b, np.abs(b).argmax(axis=1)[:, None], axis=1)
    iscale = np.divide(-127.0, big, out=np.zeros_like(big), where=big != 0)
    return iscale * b, iscale


def _rounded_steps(steps, flips):
    """Round to nearest even, except at each near-tie (flat index, scaled value) of `flips`:
    every element holding that value goes to its other neighbour, as a float32 computation of
    a value this close to a midpoint may. (Matched by value alone: the same input, rounded for
    two weights such as ffn_gate and ffn_up, or seen as one token's vector by the experts and
    as a row of the batch by the shared expert, is one rounding in an engine.)"""
    q = np.round(steps)
    for flip in flips:
        if flip[0] == "s":
            continue
        v = flip[1]
        at = np.nonzero(steps.reshape(-1) == v)[0]
        q.flat[at] = np.ceil(v) if np.round(v) <= v else np.floor(v)
    return q


def round_q8_0(x, flips=()):
    """quantize_row_q8_0_ref then dequantise: d = max|x| / 127 (stored f16), q = round(x/d)."""
    steps, d = _q8_0_steps(x)
    return (_rounded_steps(steps, flips) * round_f16(d)).reshape(x.shape)


def requantise_q8_0(x):
    """x's rows quantised to Q8_0 and back as dsinfer's weight quantiser does, in float32:
    d = max|x| / 127, q = x * (1 / d) rounded half away from zero, d stored f16."""
    b = x.astype(np.float32).reshape(-1, 32)
    d = np.abs(b).max(axis=1, keepdims=True) / np.float32(127)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d > 0)
    scaled = (b * inv).astype(np.float64)
    q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return (q * round_f16(d)).reshape(x.shape)


def split_k_b_type(kv_b_type, head_dim):
    """The type an engine gives attn_k_b when it cuts a legacy fused attn_kv_b: the file's
    own if it is F16 or BF16 (a transpose is exact), Q8_0 for a block type whose rows the head
    dim fills, F32 otherwise (dsinfer's SplitKBType)."""
    if kv_b_type in ("F16", "BF16"):
        return kv_b_type
    return "Q8_0" if kv_b_type != "F32" and head_dim % 32 == 0 else "F32"


def round_q8_k(x, flips=()):
    """quantize_row_q8_K_ref then dequantise: iscale = -127 / (the value of largest |x|)."""
    steps, iscale = _q8_k_steps(x)
    q = np.minimum(127.0, _rounded_steps(steps, flips))
    d = np.divide(1.0, iscale, out=np.zeros_like(iscale), where=iscale != 0)
    return (q * d.astype(np.float32)).reshape(x.shape)


def _q8_1_sums(x, flips):
    """Per block of 32: (s as quantize_row_q8_1 computes it in float32 before its f16
    rounding, the sum of the block's rounded values q, f16(d))."""
    steps, _ = _q8_0_steps(x)
    q_sum = _rounded_steps(steps, flips).sum(axis=1)
    d32 = np.abs(x.astype(np.float32).reshape(-1, 32)).max(axis=1) / np.float32(127)
    return q_sum.astype(np.float32) * d32, q_sum, round_f16(d32.astype(np.float64))


def _f16_neighbours(s32):
    """(nearest f16, the other f16 neighbour) of each float32 value."""
    near = s32.astype(np.float16)
    toward = np.where(near.astype(np.float32) <= s32, np.float16(np.inf), np.float16(-np.inf))
    return near, np.nextafter(near, toward.astype(np.float16))


def q8_1_min_terms(x, flips=()):
    """(terms, ties). terms: what Q8_1's stored sum adds over Q8_0's values, per block of 32:
    the dot of a Q4_1 / Q5_1 row with x is dequant(w) . round_q8_0(x) + sum over blocks of
    m * this, since ggml's min term is m * f16(d * sum q) (d before its own f16 rounding)
    where the dequantised product gives m * f16(d) * sum q. ties: [(relative gap, ("s",
    block, s))] of the blocks whose float32 s lies within NEAR_TIE of an f16 midpoint (exact
    midpoints happen: s = integer x float32 has few low bits). A flip ("s", block, value) in
    `flips` rounds every s equal to `value` to its other f16 neighbour (an engine's float32 s
    may land on the other side of the midpoint)."""
    s32, q_sum, d16 = _q8_1_sums(x, flips)
    near, other = _f16_neighbours(s32)
    mid = (near.astype(np.float64) + other.astype(np.float64)) / 2
    gap = np.abs(s32 - mid) / np.maximum(np.abs(s32), 1e-30)
    ties = [(float(gap[i]), ("s", int(i), float(s32[i]))) for i in np.nonzero(gap < NEAR_TIE)[0]]
    s16 = near.astype(np.float64)
    for flip in flips:
        if flip[0] == "s":  # by value, as _rounded_steps
            at = np.nonzero(s32 == np.float32(flip[2]))[0]
            s16[at] = other[at].astype(np.float64)
    return (s16 - d16 * q_sum).reshape(x.shape[:-1] + (-1,)), ties


# A Q8 rounding input within this relative distance of a midpoint k + 1/2 (|frac - 1/2| /
# max(|v|, 1), v in quantisation steps) is a near-tie: an engine computing it in float32 may
# round it the other way (seen at 4e-7 and 1.4e-7), moving one element by one step.
NEAR_TIE = 1e-6


def near_ties(x, rounding):
    """[(relative gap, (flat index, scaled value))] of the near-ties of Q8 rounding
    `rounding` over x; the second item is what round_q8_*(flips=) takes."""
    steps = {round_q8_0: _q8_0_steps, round_q8_k: _q8_k_steps}[rounding](x)[0].reshape(-1)
    gap = np.abs(steps - np.floor(steps) - 0.5) / np.maximum(np.abs(steps), 1.0)
    return [(float(gap[i]), (int(i), float(steps[i]))) for i in np.nonzero(gap < NEAR_TIE)[0]]


ACTIVATION_ROUNDING = {"F32": None, "F16": round_f16, "BF16": round_bf16, "Q8_0": round_q8_0,
                       "Q4_0": round_q8_0, "Q4_1": round_q8_0, "Q5_0": round_q8_0,
                       "Q5_1": round_q8_0, "Q4_K": round_q8_k, "Q5_K": round_q8_k,
                       "Q6_K": round_q8_k, "IQ4_NL": round_q8_0, "IQ2_XXS": round_q8_k,
                       "IQ1_S": round_q8_k, "IQ1_M": round_q8_k, "IQ2_XS": round_q8_k,
                       "IQ2_S": round_q8_k, "IQ3_XXS": round_q8_k, "IQ3_S": round_q8_k}


def softmax(z, axis=-1):
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def apply_rope(x, positions, inv_freq, interleaved):
    """§3.4: rotates the last axis (width d = 2 * len(inv_freq)) of x (T, heads, d).

    interleaved (GGUF llama/deepseek/deepseek2): pairs (x[2i], x[2i+1]);
    half-split (GGUF qwen2, NeoX): pairs (x[i], x[i + d/2]). Both rotate pair (u, w) by a_i.
    """
    d = x.shape[-1]
    assert d == 2 * len(inv_freq), (d, len(inv_freq))
    angle = np.asarray(positions, dtype=np.float64)[:, None] * inv_freq[None, :]  # (T, d/2)
    cos = np.cos(angle)[:, None, :]
    sin = np.sin(angle)[:, None, :]
    if interleaved:
        u, w = x[..., 0::2], x[..., 1::2]
    else:
        u, w = x[..., :d // 2], x[..., d // 2:]
    u2 = u * cos - w * sin
    w2 = u * sin + w * cos
    out = np.empty_like(x)
    if interleaved:
        out[..., 0::2], out[..., 1::2] = u2, w2
    else:
        out[..., :d // 2], out[..., d // 2:] = u2, w2
    return out


def causal_attention(q, k, v, scale):
    """§3.3: q, k (T, H, dk); v (T, H, dv) -> (T, H, dv); position t sees s <= t."""
    t = q.shape[0]
    scores = np.einsum("thd,shd->hts", q, k) * scale
    scores[:, np.triu(np.ones((t, t), dtype=bool), 1)] = -np.inf
    return np.einsum("hts,shd->thd", softmax(scores), v)


# ---- RoPE frequencies and scaling (§3.4, §3.6-3.8) ----

def yarn_mscale(factor, mscale):
    """§3.6 m(s, c) = 0.1 c ln(s) + 1 for s > 1."""
    return 1.0 if factor <= 1.0 else 0.1 * mscale * math.log(factor) + 1.0


def yarn_inv_freq(d, theta, factor, original_ctx, beta_fast=32.0, beta_slow=1.0):
    """§3.6 steps 1-4: the YaRN-blended inverse frequencies for rotary width d."""
    inv_freq = theta ** (-2.0 * np.arange(d // 2) / d)

    def corr_dim(n_rot):
        return d * math.log(original_ctx / (n_rot * 2 * math.pi)) / (2 * math.log(theta))

    low = max(math.floor(corr_dim(beta_fast)), 0)
    high = min(math.ceil(corr_dim(beta_slow)), d - 1)
    if high == low:
        high += 0.001
    ramp = np.clip((np.arange(d // 2) - low) / (high - low), 0.0, 1.0)
    return inv_freq / factor * ramp + inv_freq * (1.0 - ramp)


def llama3_rope_divisors(d, theta, factor, low_freq_factor, high_freq_factor, original_ctx):
    """§3.8: what llama.cpp's converter writes into rope_freqs.weight (used by the self-test)."""
    inv_freq = theta ** (-2.0 * np.arange(d // 2) / d)
    wavelen = 2 * math.pi / inv_freq
    low_wl, high_wl = original_ctx / low_freq_factor, original_ctx / high_freq_factor
    smooth = (original_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    blended = 1.0 / ((1 - smooth) / factor + smooth)
    return np.where(wavelen < high_wl, 1.0, np.where(wavelen > low_wl, factor, blended))


# ---- MoE routing (§3.10) ----

def route(logits, scoring, method, k, n_group, topk_group, bias, norm, scale):
    """Returns (expert ids, weights, margin). margin: the smallest gap between the last score
    kept and the first dropped in any selection (group or expert), so callers can tell a
    float32-vs-float64 flip of a near tie from a real disagreement."""
    s = softmax(logits) if scoring == "softmax" else 1.0 / (1.0 + np.exp(-logits))
    # Bias steers selection only (G6); the weights use the unbiased scores.
    sel = s + bias if bias is not None else s.copy()
    margin = math.inf
    n_exp = len(s)
    if n_group > 1 and topk_group < n_group:
        groups = sel.reshape(n_group, n_exp // n_group)
        if method == "noaux_tc":  # sum of the two largest biased scores per group
            group_score = np.sort(groups, axis=1)[:, -2:].sum(axis=1)
        else:  # group_limited_greedy: the largest softmax score of the group
            group_score = groups.max(axis=1)
        order = np.argsort(-group_score, kind="stable")
        margin = min(margin, group_score[order[topk_group - 1]] - group_score[order[topk_group]])
        keep = np.zeros(n_group, dtype=bool)
        keep[order[:topk_group]] = True
        sel = np.where(np.repeat(keep, n_exp // n_group), sel, -np.inf)  # G5: -inf
    order = np.argsort(-sel, kind="stable")
    idx = order[:k]
    if k < n_exp and np.isfinite(sel[order[k]]):
        margin = min(margin, sel[order[k - 1]] - sel[order[k]])
    w = s[idx]
    if norm:
        w = w / np.sum(w)
    return idx, w * scale, margin


# ---- the model ----

class Config:
    """Hyper-parameters read from the GGUF metadata (§6.2), in DeepSeek's config.json names."""

    def __init__(self, f):
        arch = f.architecture
        if arch not in ARCHS:
            raise ValueError(f"{f.path}: arch {arch} is not one of {ARCHS}")
        self.arch = arch

        def key(suffix, default=None):
            return f.get(f"{arch}.{suffix}", default)

        self.hidden_size = key("embedding_length")
        nextn = key("nextn_predict_layers", 0)  # the MTP layers are not part of the forward
        self.num_hidden_layers = key("block_count") - nextn
        self.num_attention_heads = key("attention.head_count")
        self.num_key_value_heads = key("attention.head_count_kv", self.num_attention_heads)
        self.rms_norm_eps = key("attention.layer_norm_rms_epsilon")
        self.rope_theta = key("rope.freq_base", 10000.0)
        self.vocab_size = f.tensors["token_embd.weight"].ne[1]
        self.mla = arch == "deepseek2"
        if self.mla:
            self.q_lora_rank = key("attention.q_lora_rank", 0)
            self.kv_lora_rank = key("attention.kv_lora_rank")
            self.qk_rope_head_dim = key("rope.dimension_count")
            self.split_kv_b = key("attention.key_length_mla") is not None  # G3
            if self.split_kv_b:
                qk_head_dim = key("attention.key_length_mla")
                self.v_head_dim = key("attention.value_length_mla")
            else:
                qk_head_dim = key("attention.key_length")
                self.v_head_dim = key("attention.value_length")
            self.qk_nope_head_dim = qk_head_dim - self.qk_rope_head_dim
            self.rope_dim = self.qk_rope_head_dim
        else:
            self.head_dim = key("attention.key_length",
                                self.hidden_size // self.num_attention_heads)
            self.rope_dim = key("rope.dimension_count", self.head_dim)
        # §3.4: GGUF llama/deepseek q,k rows are permuted by the converter -> interleaved;
        # qwen2 is not -> half-split; deepseek2 rope dims are interleaved as in the reference.
        self.rope_interleaved = arch != "qwen2"

        # RoPE scaling.
        self.rope_scaling = "none"
        self.rope_factor = 1.0
        scaling = key("rope.scaling.type", "none")
        if f.has_tensor("rope_freqs.weight"):
            self.rope_scaling = "llama3"  # §3.8: divisors in the tensor
        elif scaling == "linear":
            self.rope_scaling, self.rope_factor = "linear", key("rope.scaling.factor")
        elif scaling == "yarn":
            self.rope_scaling, self.rope_factor = "yarn", key("rope.scaling.factor")
            self.original_ctx = key("rope.scaling.original_context_length")
            self.beta_fast = key("rope.scaling.yarn_beta_fast", 32.0)
            self.beta_slow = key("rope.scaling.yarn_beta_slow", 1.0)
            # G4: GGUF stores 0.1 * mscale_all_dim.
            self.mscale_all_dim = key("rope.scaling.yarn_log_multiplier", 0.0) / 0.1
            if not self.mla:
                raise NotImplementedError("yarn outside deepseek2 is not modelled here")
        elif scaling == "none" and key("rope.scale_linear") is not None:
            self.rope_scaling, self.rope_factor = "linear", key("rope.scale_linear")
        elif scaling != "none":
            raise NotImplementedError(f"rope scaling {scaling}")

        # MoE.
        self.n_routed_experts = key("expert_count", 0)
        if self.n_routed_experts:
            self.num_experts_per_tok = key("expert_used_count")
            self.n_shared_experts = key("expert_shared_count", 0)
            self.first_k_dense_replace = key("leading_dense_block_count", 0)
            self.routed_scaling_factor = key("expert_weights_scale", 1.0)
            if arch == "deepseek":
                # MoE-16B: softmax, greedy, weights neither normalised nor scaled (§6.2).
                if self.routed_scaling_factor != 1.0:
                    raise NotImplementedError("deepseek arch with expert_weights_scale != 1")
                self.scoring_func, self.norm_topk_prob = "softmax", False
                self.n_group = self.topk_group = 1
            else:
                gating = key("expert_gating_func", 1)  # 1 softmax (old files lack it), 2 sigmoid
                self.scoring_func = {1: "softmax", 2: "sigmoid"}[gating]
                self.norm_topk_prob = bool(key("expert_weights_norm", False))
                self.n_group = key("expert_group_count", 1) or 1
                self.topk_group = key("expert_group_used_count", 1) or 1
            if self.scoring_func == "sigmoid":
                self.topk_method = "noaux_tc"
            elif self.n_group > 1:
                self.topk_method = "group_limited_greedy"
            else:
                self.topk_method = "greedy"

    def is_moe_layer(self, i):
        return self.n_routed_experts > 0 and i >= self.first_k_dense_replace

    def inv_freq(self, rope_freqs=None):
        """§3.4 with §3.6-3.8 applied: the per-pair angular speeds, float64."""
        d = self.rope_dim
        if self.rope_scaling == "yarn":
            return yarn_inv_freq(d, self.rope_theta, self.rope_factor, self.original_ctx,
                                 self.beta_fast, self.beta_slow)
        inv = self.rope_theta ** (-2.0 * np.arange(d // 2) / d)
        if self.rope_scaling == "linear":
            return inv / self.rope_factor
        if self.rope_scaling == "llama3":
            return inv / rope_freqs
        return inv

    def mla_softmax_scale(self):
        """§3.6 step 6: (dn + dr)^-1/2, times m(f, mscale_all_dim)^2 under YaRN."""
        scale = (self.qk_nope_head_dim + self.qk_rope_head_dim) ** -0.5
        if self.rope_scaling == "yarn":
            scale *= yarn_mscale(self.rope_factor, self.mscale_all_dim) ** 2
        return scale


class ReferenceModel:
    def __init__(self, gguf, round_activations=False, kv_f16=False, flips=()):
        """round_activations: apply ggml's activation rounding (see ACTIVATION_ROUNDING) to
        the input of every weight matmul; MLA's attn_k_b / attn_v_b only in the absorbed
        form (forward(absorbed_mla=True)), where their inputs are q_nope and o_lat. A fused
        attn_kv_b is cut as an engine cuts it at load: its V rows keep the file's type, its
        K rows (transposed) take split_k_b_type, requantised to Q8_0 where that is Q8_0.
        kv_f16: what a float16 KV cache keeps is rounded to f16: k (after RoPE) and v, or
        MLA's c_kv and k_pe.
        flips: near-ties from a forward's `ties` (their second items) to round the other
        way."""
        self.f = gguf if isinstance(gguf, GgufFile) else GgufFile(gguf)
        self.cfg = Config(self.f)
        self.round_activations = round_activations
        self.kv = round_f16 if kv_f16 else (lambda x: x)
        self.flips = tuple(flips)
        self._token = None  # the token moe() is running experts for
        self.ties = []  # per forward: (relative gap, tie, position) of each Q8 near-tie
        self._cache = {}
        rope_freqs = self.w("rope_freqs.weight") if self.cfg.rope_scaling == "llama3" else None
        self.inv_freq = self.cfg.inv_freq(rope_freqs)

    def w(self, name):
        if name not in self._cache:
            self._cache[name] = self.f.tensor(name)
        return self._cache[name]

    def lw(self, i, base, suffix="weight"):
        return self.w(f"blk.{i}.{base}.{suffix}")

    def has(self, i, base, suffix="weight"):
        return self.f.has_tensor(f"blk.{i}.{base}.{suffix}")

    def rounded_for(self, x, name):
        """x as a dot product with weight `name` sees it (round_activations only). Records
        the Q8 roundings' near-ties in `ties`; x's rows are positions."""
        return self.rounded_as(x, self.f.tensors[name].type_name)

    def rounded_as(self, x, type_name):
        """rounded_for a weight of `type_name`."""
        rounding = ACTIVATION_ROUNDING.get(type_name)
        if not self.round_activations or rounding is None:
            return x
        if rounding not in (round_q8_0, round_q8_k):
            return rounding(x)
        for gap, tie in near_ties(x, rounding):
            if all(t[1][-1] != tie[-1] for t in self.ties):  # one value, one rounding
                self.ties.append((gap, tie, self.position_of(x, tie[0])))
        return rounding(x, self.flips)

    def position_of(self, x, flat_index, per_item=1):
        """The position of x's `flat_index`-th item (element, or block of `per_item`): its row
        in a (T, ...) input, the token being routed for one token's vector (moe)."""
        if x.ndim == 1:
            return self._token if self._token is not None else 0
        return flat_index * per_item // (x.size // x.shape[0])

    def linear(self, x, name, expert=None):
        """x (..., in) @ W.T for the weight `name` (expert e of a stacked tensor if given)."""
        w = self.w(name) if expert is None else self.w(name)[expert]
        y = self.rounded_for(x, name) @ w.T
        mins = self.q8_1_mins(name)
        if mins is not None:
            mins = mins if expert is None else mins[expert]
            y = y + self.q8_1_terms(x) @ mins.T
        return y

    def q8_1_terms(self, x):
        """q8_1_min_terms(x), recording the near-ties of its f16 rounding in `ties`."""
        terms, ties = q8_1_min_terms(x, self.flips)
        for gap, tie in ties:
            if all(t[1][-1] != tie[-1] for t in self.ties):
                self.ties.append((gap, tie, self.position_of(x, tie[1], 32)))
        return terms

    def q8_1_mins(self, name):
        """The block mins of a Q4_1 / Q5_1 weight when activations are rounded, else None:
        its dots then add q8_1_min_terms(x) . mins (see q8_1_min_terms)."""
        if not self.round_activations or self.f.tensors[name].type_name not in ("Q4_1", "Q5_1"):
            return None
        key = name + "#mins"
        if key not in self._cache:
            self._cache[key] = self.f.block_mins(name)
        return self._cache[key]

    def mlp(self, x, i, suffix="", expert=None):
        """§3.2 SwiGLU with blk.i.ffn_{gate,up,down}{suffix}."""
        gate, up, down = (f"blk.{i}.ffn_{p}{suffix}.weight" for p in ("gate", "up", "down"))
        h = silu(self.linear(x, gate, expert)) * self.linear(x, up, expert)
        return self.linear(h, down, expert)

    # -- attention --

    def standard_attention(self, i, x, positions):
        """§3.3: x (T, D) normed -> (T, D). GQA, optional q/k/v biases (qwen2, G15)."""
        c = self.cfg
        t, hd, n_rot = x.shape[0], c.head_dim, c.rope_dim
        proj = {}
        for name in ("attn_q", "attn_k", "attn_v"):
            y = self.linear(x, f"blk.{i}.{name}.weight")
            if self.has(i, name, "bias"):
                y = y + self.lw(i, name, "bias")
            proj[name] = y
        q = proj["attn_q"].reshape(t, c.num_attention_heads, hd)
        k = proj["attn_k"].reshape(t, c.num_key_value_heads, hd)
        v = proj["attn_v"].reshape(t, c.num_key_value_heads, hd)
        # RoPE on the first n_rot dims of each head (all of it for these models).
        q = np.concatenate([apply_rope(q[..., :n_rot], positions, self.inv_freq,
                                       c.rope_interleaved), q[..., n_rot:]], axis=-1)
        k = np.concatenate([apply_rope(k[..., :n_rot], positions, self.inv_freq,
                                       c.rope_interleaved), k[..., n_rot:]], axis=-1)
        group = c.num_attention_heads // c.num_key_value_heads  # query head h -> kv head h/group
        k = np.repeat(self.kv(k), group, axis=1)
        v = np.repeat(self.kv(v), group, axis=1)
        o = causal_attention(q, k, v, 1.0 / math.sqrt(hd))
        return self.linear(o.reshape(t, -1), f"blk.{i}.attn_output.weight")

    def mla_weights(self, i):
        """W_UK (H, dn, rkv) and W_UV (H, dv, rkv) from either GGUF form (§6.3)."""
        c = self.cfg
        h, dn, dv, rkv = c.num_attention_heads, c.qk_nope_head_dim, c.v_head_dim, c.kv_lora_rank
        if c.split_kv_b:
            k_b = self.lw(i, "attn_k_b")  # ggml {dn, rkv, H} -> (H, rkv, dn) = W_UK[h]^T
            v_b = self.lw(i, "attn_v_b")  # ggml {rkv, dv, H} -> (H, dv, rkv) = W_UV[h]
            assert k_b.shape == (h, rkv, dn) and v_b.shape == (h, dv, rkv), (k_b.shape, v_b.shape)
            return k_b.transpose(0, 2, 1), v_b
        kv_b = self.lw(i, "attn_kv_b").reshape(h, dn + dv, rkv)  # HF kv_b_proj [H(dn+dv), rkv]
        w_uk = kv_b[:, :dn, :]
        if self.round_activations and self.split_k_b_type(i) == "Q8_0":  # rows of dn, as cut
            w_uk = requantise_q8_0(w_uk.transpose(0, 2, 1)).transpose(0, 2, 1)
        return w_uk, kv_b[:, dn:, :]

    def split_k_b_type(self, i):
        """The type of layer i's attn_k_b as an engine cuts it from a fused attn_kv_b."""
        kv_b_type = self.f.tensors[f"blk.{i}.attn_kv_b.weight"].type_name
        return split_k_b_type(kv_b_type, self.cfg.qk_nope_head_dim)

    def fused_v_b_mins(self, i):
        """q8_1_mins of the V rows of a fused attn_kv_b (H, dv, rkv/32), or None."""
        c = self.cfg
        mins = self.q8_1_mins(f"blk.{i}.attn_kv_b.weight")  # (H(dn+dv), rkv/32)
        if mins is None:
            return None
        h, dn, dv = c.num_attention_heads, c.qk_nope_head_dim, c.v_head_dim
        return mins.reshape(h, dn + dv, -1)[:, dn:, :]

    def mla_attention(self, i, x, positions, absorbed=False):
        """§3.9: x (T, D) normed -> (T, D)."""
        c = self.cfg
        t, h = x.shape[0], c.num_attention_heads
        dn, dr, rkv = c.qk_nope_head_dim, c.qk_rope_head_dim, c.kv_lora_rank
        eps = c.rms_norm_eps
        if c.q_lora_rank:
            c_q = rms_norm(self.linear(x, f"blk.{i}.attn_q_a.weight"),
                           self.lw(i, "attn_q_a_norm"), eps)
            q = self.linear(c_q, f"blk.{i}.attn_q_b.weight")
        else:
            q = self.linear(x, f"blk.{i}.attn_q.weight")
        q = q.reshape(t, h, dn + dr)
        q_nope = q[..., :dn]
        q_pe = apply_rope(q[..., dn:], positions, self.inv_freq, c.rope_interleaved)
        a = self.linear(x, f"blk.{i}.attn_kv_a_mqa.weight")  # (T, rkv + dr)
        c_kv = self.kv(rms_norm(a[:, :rkv], self.lw(i, "attn_kv_a_norm"), eps))  # (T, rkv)
        k_pe = apply_rope(a[:, None, rkv:], positions, self.inv_freq, c.rope_interleaved)
        k_pe = self.kv(k_pe)  # (T, 1, dr): one rope key shared by every head
        w_uk, w_uv = self.mla_weights(i)
        scale = c.mla_softmax_scale()
        if not absorbed:
            k_nope = np.einsum("hdc,tc->thd", w_uk, c_kv)  # (T, H, dn)
            k = np.concatenate([k_nope, np.broadcast_to(k_pe, (t, h, dr))], axis=-1)
            v = np.einsum("hdc,tc->thd", w_uv, c_kv)  # (T, H, dv)
            o = causal_attention(np.concatenate([q_nope, q_pe], axis=-1), k, v, scale)
        else:
            # With round_activations and the split form, the per-head products see q_nope
            # and o_lat as an engine's attn_k_b / attn_v_b dot products do (§6.3).
            # A fused attn_kv_b is cut as an engine cuts it (mla_weights): K rows in
            # split_k_b_type, V rows in the file's type.
            k_b, v_b = f"blk.{i}.attn_k_b.weight", f"blk.{i}.attn_v_b.weight"
            if not c.split_kv_b:
                v_b = f"blk.{i}.attn_kv_b.weight"
            q_nope_in = q_nope
            if c.split_kv_b:
                q_nope = self.rounded_for(q_nope, k_b)
            else:
                q_nope = self.rounded_as(q_nope, self.split_k_b_type(i))
            q_abs = np.einsum("thd,hdc->thc", q_nope, w_uk)  # (T, H, rkv)
            if c.split_kv_b and (mins := self.q8_1_mins(k_b)) is not None:  # (H, rkv, dn/32)
                q_abs = q_abs + np.einsum("thb,hcb->thc", self.q8_1_terms(q_nope_in), mins)
            scores = (np.einsum("thc,sc->hts", q_abs, c_kv)
                      + np.einsum("thd,sd->hts", q_pe, k_pe[:, 0, :])) * scale
            scores[:, np.triu(np.ones((t, t), dtype=bool), 1)] = -np.inf
            o_lat = np.einsum("hts,sc->thc", softmax(scores), c_kv)  # (T, H, rkv)
            o_lat_in = o_lat
            o_lat = self.rounded_for(o_lat, v_b)
            o = np.einsum("thc,hdc->thd", o_lat, w_uv)  # (T, H, dv)
            mins = self.q8_1_mins(v_b) if c.split_kv_b else self.fused_v_b_mins(i)
            if mins is not None:  # (H, dv, rkv/32)
                o = o + np.einsum("thb,hdb->thd", self.q8_1_terms(o_lat_in), mins)
        return self.linear(o.reshape(t, -1), f"blk.{i}.attn_output.weight")

    # -- feed-forward --

    def moe(self, i, x, margins):
        """§3.10: x (T, D) normed -> (T, D); margins (T,) lowered to each token's routing gap."""
        c = self.cfg
        router = self.lw(i, "ffn_gate_inp")  # (E, D), F32 in every file (G16)
        bias = self.lw(i, "exp_probs_b", "bias") if self.has(i, "exp_probs_b", "bias") else None
        out = np.zeros_like(x)
        for t in range(x.shape[0]):
            idx, w, margin = route(router @ x[t], c.scoring_func, c.topk_method,
                                   c.num_experts_per_tok, c.n_group, c.topk_group,
                                   bias if c.scoring_func == "sigmoid" else None,
                                   c.norm_topk_prob, c.routed_scaling_factor)
            margins[t] = min(margins[t], margin)
            self._token = t  # for the near-ties of x[t]'s roundings
            for e, we in zip(idx, w):  # ffn_*_exps: (E, Fe, D), (E, Fe, D), (E, D, Fe)
                out[t] += we * self.mlp(x[t], i, "_exps", expert=e)
            self._token = None
        if c.n_shared_experts:
            out += self.mlp(x, i, "_shexp")
        return out

    # -- whole model --

    def forward(self, ids, absorbed_mla=False, return_margins=False):
        """ids: token ids -> logits (T, V) float64 for every position (row t predicts t+1)."""
        c = self.cfg
        ids = np.asarray(ids, dtype=np.int64)
        if ids.min() < 0 or ids.max() >= c.vocab_size:
            raise ValueError(f"token id out of range [0, {c.vocab_size})")
        positions = np.arange(len(ids))
        margins = np.full(len(ids), math.inf)
        self.ties = []
        x = self.w("token_embd.weight")[ids]  # (T, D); no embedding scaling (§3)
        for i in range(c.num_hidden_layers):
            hn = rms_norm(x, self.lw(i, "attn_norm"), c.rms_norm_eps)
            if c.mla:
                x = x + self.mla_attention(i, hn, positions, absorbed=absorbed_mla)
            else:
                x = x + self.standard_attention(i, hn, positions)
            hn = rms_norm(x, self.lw(i, "ffn_norm"), c.rms_norm_eps)
            if c.is_moe_layer(i):
                x = x + self.moe(i, hn, margins)
            else:
                x = x + self.mlp(hn, i)
        x = rms_norm(x, self.w("output_norm.weight"), c.rms_norm_eps)
        head = "output.weight" if self.f.has_tensor("output.weight") \
            else "token_embd.weight"  # tied embeddings
        logits = self.linear(x, head)
        return (logits, margins) if return_margins else logits


def main():
    model = ReferenceModel(sys.argv[1])
    ids = [int(s) for s in sys.argv[2].split(",")]
    logits = model.forward(ids)
    print(",".join(str(int(a)) for a in logits.argmax(axis=1)))


if __name__ == "__main__":
    main()
