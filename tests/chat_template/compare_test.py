#!/usr/bin/python3
"""ctest: `dsinfer chat-template` must render every test conversation with every template
byte for byte as render_reference.py (Jinja2 as transformers runs it) does. Where the
reference raises (a template's raise_exception, or Python rejecting an operation), dsinfer
must fail too.

Templates: tests/data/chat_templates/*.jinja (special tokens from tokens.json there) and,
when present, DeepSeek-V3's tokenizer_config.json in .cache/deepseek-v3/ (fetched by
scripts/fetch-test-assets.sh; skipped with a note when absent).

Usage: compare_test.py DSINFER_BINARY REPO_ROOT
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import render_reference  # noqa: E402


def main():
    dsinfer, root = sys.argv[1], sys.argv[2]
    data = os.path.join(root, "tests", "data", "chat_templates")
    with open(os.path.join(data, "tokens.json"), encoding="utf-8") as f:
        tokens = json.load(f)
    sources = [(path, tokens[os.path.basename(path)])
               for path in sorted(glob.glob(os.path.join(data, "*.jinja")))]
    v3 = os.environ.get("DSINFER_DEEPSEEK_V3_CONFIG",
                        os.path.join(root, ".cache", "deepseek-v3", "tokenizer_config.json"))
    if os.path.exists(v3):
        sources.append((v3, None))
    else:
        print(f"note: {v3} absent (run scripts/fetch-test-assets.sh); DeepSeek-V3 skipped")

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(HERE, "make_conversations.py"), tmp],
                       check=True, stdout=subprocess.DEVNULL)
        conversations = sorted(glob.glob(os.path.join(tmp, "*.json")))
        total = identical = both_rejected = 0
        failures = []
        for path, token_override in sources:
            template, template_tokens = render_reference.load_source(path)
            if token_override is not None:
                template_tokens = dict(token_override)
            for conv_path in conversations:
                with open(conv_path, "rb") as f:
                    conv_bytes = f.read()
                total += 1
                try:
                    expected = render_reference.render(template, template_tokens,
                                                       json.loads(conv_bytes), False)
                    expected_error = None
                except Exception as e:  # noqa: BLE001
                    expected, expected_error = None, f"{type(e).__name__}: {e}"
                cmd = [dsinfer, "chat-template", "-m", path]
                for key in ("bos_token", "eos_token"):
                    if token_override is not None and key in template_tokens:
                        cmd.append(f"--{key.replace('_', '-')}={template_tokens[key]}")
                run = subprocess.run(cmd, input=conv_bytes, capture_output=True, timeout=60)
                name = f"{os.path.basename(path)} x {os.path.basename(conv_path)}"
                if expected_error is not None:
                    if run.returncode != 0:
                        both_rejected += 1
                        identical += 1
                    else:
                        failures.append(f"{name}: reference raised ({expected_error}) "
                                        "but dsinfer rendered")
                elif run.returncode != 0:
                    failures.append(f"{name}: dsinfer failed: {run.stderr.decode()[:300]}")
                elif run.stdout != expected.encode("utf-8"):
                    got = run.stdout.decode("utf-8", "replace")
                    at = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                              min(len(got), len(expected)))
                    failures.append(f"{name}: differs at char {at}: expected "
                                    f"{expected[max(0, at - 40):at + 40]!r}, got "
                                    f"{got[max(0, at - 40):at + 40]!r}")
                else:
                    identical += 1
    for failure in failures[:20]:
        print("FAIL:", failure)
    print(f"{identical}/{total} renderings identical ({len(sources)} templates x "
          f"{len(conversations)} conversations; {both_rejected} rejected by both)")
    return 0 if identical == total else 1


if __name__ == "__main__":
    sys.exit(main())
