"""The default model in PyTorch: DeepSeek-V3's architecture (deepseek2 in GGUF) at ~10 M params.

MLA attention with q and kv LoRA, RoPE on the adjacent pairs (x[2i], x[2i+1]) as llama.cpp's
deepseek2 graph and dsinfer rotate them, layer 0 a dense SwiGLU MLP, later layers MoE with
V3 routing: sigmoid scores, e_score_correction_bias for the choice only (updated without an
auxiliary loss, see update_router_bias), group top-k by the sum of each group's two largest
biased scores, normalised weights times routed_scaling_factor, plus one shared expert.
The formulas mirror tests/model_reference/reference_model.py (the oracle of dsinfer's
forward); names follow DeepSeek's config.json and modeling code.
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Config:
    vocab_size: int = 4112
    hidden_size: int = 256
    num_hidden_layers: int = 6
    num_attention_heads: int = 4
    q_lora_rank: int = 96
    kv_lora_rank: int = 64
    qk_nope_head_dim: int = 32
    qk_rope_head_dim: int = 16
    v_head_dim: int = 32
    intermediate_size: int = 768  # the dense layers
    moe_intermediate_size: int = 192
    n_routed_experts: int = 8
    num_experts_per_tok: int = 2
    n_shared_experts: int = 1
    first_k_dense_replace: int = 1
    routed_scaling_factor: float = 1.5
    norm_topk_prob: bool = True
    n_group: int = 4
    topk_group: int = 2
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    max_position_embeddings: int = 256
    expert_pad: int = 128  # pad each expert's token batch to a multiple (stable GEMM shapes)

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * y


def rope_tables(cfg, t, device):
    d = cfg.qk_rope_head_dim
    inv_freq = cfg.rope_theta ** (-torch.arange(0, d, 2, dtype=torch.float64, device=device) / d)
    angle = torch.arange(t, dtype=torch.float64, device=device)[:, None] * inv_freq[None, :]
    return torch.cos(angle).float(), torch.sin(angle).float()  # (T, d/2)


def apply_rope(x, cos, sin):
    """x (B, T, ..., d): rotate the pairs (x[2i], x[2i+1]) by position * inv_freq[i]."""
    shape = (1, x.shape[1]) + (1,) * (x.dim() - 3) + (cos.shape[-1],)
    cos, sin = cos.view(shape), sin.view(shape)
    x = x.float()
    u, w = x[..., 0::2], x[..., 1::2]
    return torch.stack((u * cos - w * sin, u * sin + w * cos), dim=-1).flatten(-2)


class MLA(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        h, dn, dr, dv = (cfg.num_attention_heads, cfg.qk_nope_head_dim, cfg.qk_rope_head_dim,
                         cfg.v_head_dim)
        d, rq, rkv = cfg.hidden_size, cfg.q_lora_rank, cfg.kv_lora_rank
        self.q_a_proj = nn.Linear(d, rq, bias=False)
        self.q_a_layernorm = RMSNorm(rq, cfg.rms_norm_eps)
        self.q_b_proj = nn.Linear(rq, h * (dn + dr), bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(d, rkv + dr, bias=False)
        self.kv_a_layernorm = RMSNorm(rkv, cfg.rms_norm_eps)
        self.kv_b_proj = nn.Linear(rkv, h * (dn + dv), bias=False)  # viewed [H, dn+dv, rkv]
        self.o_proj = nn.Linear(h * dv, d, bias=False)
        self.scale = (dn + dr) ** -0.5  # no YaRN

    def forward(self, x, cos, sin, mask):
        cfg = self.cfg
        b, t, _ = x.shape
        h, dn, dr, dv = (cfg.num_attention_heads, cfg.qk_nope_head_dim, cfg.qk_rope_head_dim,
                         cfg.v_head_dim)
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x))).view(b, t, h, dn + dr)
        q_nope, q_pe = q[..., :dn], apply_rope(q[..., dn:], cos, sin)
        a = self.kv_a_proj_with_mqa(x)  # (B, T, rkv + dr)
        c_kv = self.kv_a_layernorm(a[..., :cfg.kv_lora_rank])
        k_pe = apply_rope(a[..., cfg.kv_lora_rank:], cos, sin)  # (B, T, dr), shared by heads
        kv = self.kv_b_proj(c_kv).view(b, t, h, dn + dv)
        k_nope, v = kv[..., :dn], kv[..., dn:]
        q = torch.cat([q_nope.to(q_pe.dtype), q_pe], dim=-1).transpose(1, 2)  # (B, H, T, dk)
        k = torch.cat([k_nope.to(k_pe.dtype), k_pe[:, :, None, :].expand(b, t, h, dr)],
                      dim=-1).transpose(1, 2)
        scores = torch.matmul(q * self.scale, k.transpose(-1, -2)).float()
        p = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
        o = torch.matmul(p.to(v.dtype), v.transpose(1, 2))  # (B, H, T, dv)
        return self.o_proj(o.transpose(1, 2).reshape(b, t, h * dv))


class MLP(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


def route(cfg, logits, bias):
    """V3 noaux_tc routing of fp32 router logits (N, E) -> (expert ids (N, k), weights)."""
    n, e = logits.shape
    s = torch.sigmoid(logits)
    sel = s + bias  # the bias chooses experts, it never weighs them
    if cfg.n_group > 1 and cfg.topk_group < cfg.n_group:
        groups = sel.view(n, cfg.n_group, e // cfg.n_group)
        group_score = groups.topk(2, dim=-1).values.sum(-1)  # (N, G)
        keep = torch.zeros_like(group_score, dtype=torch.bool)
        keep.scatter_(1, group_score.topk(cfg.topk_group, dim=-1).indices, True)
        keep = keep[:, :, None].expand(n, cfg.n_group, e // cfg.n_group).reshape(n, e)
        sel = sel.masked_fill(~keep, float("-inf"))
    idx = sel.topk(cfg.num_experts_per_tok, dim=-1).indices
    w = s.gather(1, idx)
    if cfg.norm_topk_prob:
        w = w / w.sum(-1, keepdim=True)
    return idx, w * cfg.routed_scaling_factor


class MoE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        e, d, f = cfg.n_routed_experts, cfg.hidden_size, cfg.moe_intermediate_size
        self.gate = nn.Linear(d, e, bias=False)  # the router, run in fp32
        self.register_buffer("e_score_correction_bias", torch.zeros(e))
        # Stacked experts in GGUF's order: (E, Fe, D), (E, Fe, D), (E, D, Fe).
        self.gate_exps = nn.Parameter(torch.empty(e, f, d))
        self.up_exps = nn.Parameter(torch.empty(e, f, d))
        self.down_exps = nn.Parameter(torch.empty(e, d, f))
        self.shared_experts = MLP(d, f * cfg.n_shared_experts)
        self.load = torch.zeros(e)  # tokens routed to each expert since the last bias update

    def forward(self, x):
        cfg = self.cfg
        shape = x.shape
        x2 = x.reshape(-1, shape[-1])
        with torch.autocast("cpu", enabled=False):
            logits = F.linear(x2.float(), self.gate.weight.float())
        idx, w = route(cfg, logits, self.e_score_correction_bias)
        if self.training:
            self.load += torch.bincount(idx.flatten(), minlength=cfg.n_routed_experts).float()
        out = torch.zeros(x2.shape[0], shape[-1], dtype=torch.float32, device=x.device)
        # One cast and one unbind per stacked tensor: slicing the parameter per expert would
        # cast it E times and give each slice's backward a full-size zero gradient.
        dtype = torch.get_autocast_cpu_dtype() if torch.is_autocast_cpu_enabled() else x2.dtype
        gate_w, up_w, down_w = (p.to(dtype).unbind(0)
                                for p in (self.gate_exps, self.up_exps, self.down_exps))
        x2 = x2.to(dtype)
        for e in range(cfg.n_routed_experts):
            tok, slot = (idx == e).nonzero(as_tuple=True)
            if tok.numel() == 0:
                continue
            we = w[tok, slot]
            pad = (-tok.numel()) % cfg.expert_pad if self.training else 0
            if pad:
                tok = torch.cat([tok, tok.new_zeros(pad)])
                we = torch.cat([we, we.new_zeros(pad)])
            xe = x2[tok]
            he = F.silu(F.linear(xe, gate_w[e])) * F.linear(xe, up_w[e])
            ye = F.linear(he, down_w[e])
            out.index_add_(0, tok, ye.float() * we[:, None])
        out = out.view(shape) + self.shared_experts(x).float()
        return out

    @torch.no_grad()
    def update_router_bias(self, speed):
        """Auxiliary-loss-free balancing (DeepSeek-V3 §2.1.2): b_i += speed * sign(mean - load_i)."""
        self.e_score_correction_bias += speed * torch.sign(self.load.mean() - self.load)
        self.load.zero_()


class Block(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = MLA(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.is_moe = i >= cfg.first_k_dense_replace
        self.mlp = MoE(cfg) if self.is_moe else MLP(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask).float()
        return x + self.mlp(self.post_attention_layernorm(x)).float()


class DeepSeekV3(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)  # untied
        self.reset_parameters()

    def reset_parameters(self, std=0.02):
        residual_std = std / math.sqrt(2 * self.cfg.num_hidden_layers)
        for name, p in self.named_parameters():
            if p.dim() == 1:
                continue  # norm weights stay 1
            is_residual = name.endswith(("o_proj.weight", "down_proj.weight", "down_exps"))
            nn.init.normal_(p, std=residual_std if is_residual else std)

    def moe_layers(self):
        return [layer.mlp for layer in self.layers if layer.is_moe]

    def forward(self, ids):
        """ids (B, T) -> logits (B, T, V) in fp32; row t predicts token t + 1."""
        t = ids.shape[1]
        cos, sin = rope_tables(self.cfg, t, ids.device)
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=ids.device), 1)
        x = self.embed_tokens(ids).float()
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.norm(x)).float()

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())
