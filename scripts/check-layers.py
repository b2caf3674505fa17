#!/usr/bin/python3
"""Checks that every #include under src/ respects DESIGN.md's layer order: a file in src/X may
include "Y/..." only if Y is X itself or a layer above X in the table. Prints each violation
and exits 1 if there is any."""
import pathlib
import re
import sys

# DESIGN.md "Layers", top to bottom.
LAYERS = ["base", "platform", "tensor", "quant", "kernels", "formats", "model", "tokenizer",
          "kv_cache", "sampling", "scheduler", "runner", "engine", "telemetry", "server", "dist",
          "app"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_0-9]+)/')

root = pathlib.Path(__file__).resolve().parent.parent / "src"
violations = []
for path in sorted(root.rglob("*")):
    if path.suffix not in (".h", ".cc", ".cu", ".cuh"):
        continue
    layer = path.relative_to(root).parts[0]
    if layer not in RANK:
        violations.append(f"{path}: src/{layer}/ is not a layer in DESIGN.md")
        continue
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = INCLUDE.match(line)
        if m and m.group(1) in RANK and RANK[m.group(1)] > RANK[layer]:
            violations.append(f"{path}:{lineno}: {layer}/ must not include {m.group(1)}/ "
                              f"(a lower layer)")
for v in violations:
    print(v)
print(f"check-layers: {len(violations)} violation(s)")
sys.exit(1 if violations else 0)
