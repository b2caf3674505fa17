// Prints the @lenml/tokenizers (transformers.js) ids of each corpus line as JSONL, the
// reference that `dsinfer tokenize --jsonl --special` must match id for id.
// Usage: node reference_ids.mjs TOKENIZERS_MAIN_MJS TOKENIZER_DIR CORPUS.jsonl [--bench]
// --bench: print encode throughput (MB/s of UTF-8 input) to stderr instead of ids.
import fs from "node:fs";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const [mainMjs, tokenizerDir, corpusPath, ...flags] = process.argv.slice(2);
const { TokenizerLoader } = await import(pathToFileURL(mainMjs).href);
const readJson = (name) => JSON.parse(fs.readFileSync(`${tokenizerDir}/${name}`, "utf8"));
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: readJson("tokenizer.json"),
  tokenizerConfig: readJson("tokenizer_config.json"),
});

const lines = [];
for await (const line of readline.createInterface({ input: fs.createReadStream(corpusPath) })) {
  lines.push(JSON.parse(line));
}
const encode = (text) => tokenizer.encode(text, { add_special_tokens: false });

if (flags.includes("--bench")) {
  const bytes = lines.reduce((n, t) => n + Buffer.byteLength(t, "utf8"), 0);
  const rounds = 5;
  const times = [];
  for (let r = 0; r < rounds; ++r) {
    tokenizer.model.clear_cache?.();  // measure BPE, not the LRU cache of the last round
    const start = process.hrtime.bigint();
    for (const text of lines) encode(text);
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(rounds / 2)];
  console.error(`node @lenml/tokenizers: ${(bytes / 1e6 / median).toFixed(2)} MB/s ` +
                `(${bytes} bytes, median of ${rounds})`);
} else {
  const out = lines.map((text) => JSON.stringify(encode(text))).join("\n");
  process.stdout.write(out + "\n");
}
