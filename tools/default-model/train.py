"""Trains the default model on the corpus of extract.py with the tokenizer of bpe.py.

    nohup nice -n 19 /usr/bin/python3 tools/default-model/train.py \
        --run /work/default-model-run --steps 2400 > /work/default-model-run/train.log 2>&1 &

RUN holds corpus/ (extract.py), tokenizer.json (bpe.py); this script adds tokens/ (the
encoded splits, with sha256s), ckpt/last.pt (every --ckpt-every steps and at the end; a
restarted run resumes from it), ckpt/best.pt (lowest val loss so far) and log.jsonl (one line per step; val loss every
--eval-every steps). Batches are a function of (seed, step), so a resumed run sees the same
data it would have seen. bf16 autocast on CPUs with AVX-512-BF16 (--no-bf16 for fp32).
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import BOS_ID, EOS_ID, Tokenizer  # noqa: E402
from model import Config, DeepSeekV3  # noqa: E402


def encode_split(tok, jsonl):
    """Documents -> one uint16 token stream: prose as BOS text EOS; chat documents already
    carry their template's BOS ... EOS."""
    ids, per_source = [], {}
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            if doc["src"] == "wordnet":
                d = tok.encode(doc["text"])
            else:
                d = [BOS_ID] + tok.encode(doc["text"]) + [EOS_ID]
            ids.extend(d)
            src = doc["src"].split("-")[0]
            per_source[src] = per_source.get(src, 0) + len(d)
    return np.asarray(ids, dtype=np.uint16), per_source


def prepare_tokens(run):
    out = os.path.join(run, "tokens")
    meta_path = os.path.join(out, "meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        return {k: np.load(os.path.join(out, k + ".npy")) for k in ("train", "heldout")}, meta
    tok = Tokenizer.load(os.path.join(run, "tokenizer.json"))
    os.makedirs(out, exist_ok=True)
    arrays, meta = {}, {"splits": {}}
    with open(os.path.join(run, "tokenizer.json"), "rb") as f:
        meta["tokenizer_sha256"] = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(run, "corpus", "manifest.json")) as f:
        meta["corpus"] = json.load(f)
    for split in ("train", "heldout"):
        arr, per_source = encode_split(tok, os.path.join(run, "corpus", split + ".jsonl"))
        np.save(os.path.join(out, split + ".npy"), arr)
        arrays[split] = arr
        meta["splits"][split] = {"tokens": int(arr.size), "tokens_by_source": per_source,
                                 "sha256": hashlib.sha256(arr.tobytes()).hexdigest()}
        print(f"{split}: {arr.size} tokens {per_source}", flush=True)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    return arrays, meta


def batch(tokens, seed, step, batch_size, ctx):
    rng = np.random.default_rng([seed, step])
    starts = rng.integers(0, tokens.size - ctx - 1, size=batch_size)
    chunk = np.stack([tokens[s:s + ctx + 1] for s in starts]).astype(np.int64)
    chunk = torch.from_numpy(chunk)
    return chunk[:, :-1], chunk[:, 1:]


def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def evaluate(model, tokens, ctx, batch_size, bf16, max_windows):
    model.eval()
    n = min(max_windows, (tokens.size - 1) // ctx)
    total, count = 0.0, 0
    for i in range(0, n, batch_size):
        rows = [tokens[j * ctx:j * ctx + ctx + 1].astype(np.int64)
                for j in range(i, min(n, i + batch_size))]
        chunk = torch.from_numpy(np.stack(rows))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(chunk[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), chunk[:, 1:].flatten(),
                                                 reduction="sum")
        total += loss.item()
        count += chunk[:, 1:].numel()
    model.train()
    return total / count


def read_log(run):
    path = os.path.join(run, "log.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def save_checkpoint(path, model, opt, step, args, cfg):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                "args": vars(args), "config": cfg.to_dict()}, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", default="/work/default-model-run")
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--bias-update-speed", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--eval-windows", type=int, default=256)
    ap.add_argument("--ckpt", default=None, help="checkpoint path (default RUN/ckpt/last.pt)")
    ap.add_argument("--no-bf16", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(os.cpu_count())  # Debian's torch starts with one thread
    torch.manual_seed(args.seed)
    bf16 = not args.no_bf16
    tokens, meta = prepare_tokens(args.run)
    cfg = Config(max_position_embeddings=args.ctx)
    model = DeepSeekV3(cfg)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    ckpt = args.ckpt or os.path.join(args.run, "ckpt", "last.pt")
    os.makedirs(os.path.dirname(ckpt), exist_ok=True)
    start, best_val = 0, float("inf")
    best = os.path.join(os.path.dirname(ckpt), "best.pt")
    if os.path.exists(best):
        best_val = min((r["val"] for r in read_log(args.run) if "val" in r), default=best_val)
    if os.path.exists(ckpt):
        state = torch.load(ckpt)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start = state["step"] + 1
        print(f"resumed from {ckpt} at step {start}", flush=True)
    print(f"params {model.num_parameters()} ({model.num_parameters() / 1e6:.2f} M), "
          f"train tokens {tokens['train'].size}, heldout {tokens['heldout'].size}, "
          f"threads {torch.get_num_threads()}, bf16 {bf16}, steps {start}..{args.steps}",
          flush=True)
    log = open(os.path.join(args.run, "log.jsonl"), "a")
    model.train()
    t_last = time.time()
    for step in range(start, args.steps):
        lr = lr_at(step, args)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = batch(tokens["train"], args.seed, step, args.batch, args.ctx)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        loads = [m.load.clone() for m in model.moe_layers()]
        for m in model.moe_layers():
            m.update_router_bias(args.bias_update_speed)
        now = time.time()
        rec = {"step": step, "loss": round(loss.item(), 4), "lr": round(lr, 6),
               "gnorm": round(gnorm.item(), 3), "s": round(now - t_last, 2),
               "max_load": round(max((l.max() / l.mean()).item() for l in loads), 2)}
        t_last = now
        last = step == args.steps - 1
        if (step + 1) % args.eval_every == 0 or last:
            rec["val"] = round(evaluate(model, tokens["heldout"], args.ctx, args.batch, bf16,
                                        args.eval_windows), 4)
            if rec["val"] < best_val:  # the export may prefer the best to the last
                best_val = rec["val"]
                save_checkpoint(os.path.join(os.path.dirname(ckpt), "best.pt"), model, opt,
                                step, args, cfg)
        if (step + 1) % args.ckpt_every == 0 or last:
            save_checkpoint(ckpt, model, opt, step, args, cfg)
            rec["ckpt"] = True
            t_last = time.time()
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(json.dumps(rec), flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
