// The official `openai` npm client against a running `dsinfer serve`: chat and completions,
// streamed and not, 32 concurrent streams, a client that disconnects mid-stream (its KV
// blocks must be freed), and errors as the client library sees them.
// Usage: node openai_client_test.mjs OPENAI_INDEX_MJS BASE_URL MODEL
import { pathToFileURL } from 'node:url';

const [openaiPath, baseUrl, model] = process.argv.slice(2);
const { default: OpenAI } = await import(pathToFileURL(openaiPath).href);
const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60000 });

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else { failed++; console.error(`FAIL: ${what}`); }
}
async function metric(name) {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}
// Polls until fn() is true, at most `ms`.
async function eventually(fn, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return fn();
}

// Chat, whole.
{
  const r = await client.chat.completions.create({
    model, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello' }],
    max_tokens: 10, ignore_eos: true, temperature: 0.7, seed: 3,
  });
  check(r.object === 'chat.completion', `chat object ${r.object}`);
  check(r.choices[0].message.role === 'assistant', 'chat role');
  check(typeof r.choices[0].message.content === 'string', 'chat content');
  check(r.usage.completion_tokens === 10 && r.choices[0].finish_reason === 'length', 'chat usage');
  check(r.usage.total_tokens === r.usage.prompt_tokens + 10, 'chat total_tokens');
}
// Chat, streamed with usage.
{
  const stream = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'count' }], max_tokens: 9, ignore_eos: true,
    stream: true, stream_options: { include_usage: true },
  });
  let content = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? '';
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  check(chunks >= 3, `chat stream chunks ${chunks}`);
  check(finish === 'length', `chat stream finish ${finish}`);
  check(usage !== null && usage.completion_tokens === 9, 'chat stream usage');
}
// Completions from token ids, whole and streamed; the same seed gives the same text.
{
  const params = { model, prompt: [7, 8, 9, 10], max_tokens: 8, ignore_eos: true, seed: 42, temperature: 1.0 };
  const whole = await client.completions.create(params);
  check(whole.object === 'text_completion' && whole.usage.prompt_tokens === 4, 'completion');
  const stream = await client.completions.create({ ...params, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
  check(text === whole.choices[0].text, `seeded stream ${JSON.stringify(text)} vs ${JSON.stringify(whole.choices[0].text)}`);
}
// 32 concurrent streams all complete.
{
  const runs = Array.from({ length: 32 }, async (_, i) => {
    const stream = await client.chat.completions.create({
      model, messages: [{ role: 'user', content: `request ${i}` }], max_tokens: 24,
      ignore_eos: true, stream: true,
    });
    let finish = null;
    let pieces = 0;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        if (choice.delta.content) pieces++;
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    }
    return { finish, pieces };
  });
  const results = await Promise.all(runs);
  check(results.every((r) => r.finish === 'length'), '32 streams finished');
  check(results.every((r) => r.pieces > 0), '32 streams had content');
  check(await eventually(async () => (await metric('dsinfer_requests_running')) === 0), 'running back to 0');
}
// A client that disconnects mid-stream: its blocks are in use while it streams and free soon
// after it goes.
{
  const controller = new AbortController();
  const stream = await client.completions.create(
    { model, prompt: [1, 2, 3, 4, 5], max_tokens: 2400, ignore_eos: true, stream: true },
    { signal: controller.signal });
  let seen = 0;
  let aborted = false;
  try {
    for await (const chunk of stream) {
      seen += chunk.choices.length;
      if (seen === 3) {
        check((await metric('dsinfer_kv_blocks_used')) > 0, 'blocks in use mid-stream');
        controller.abort();
      }
    }
  } catch (e) {
    aborted = true;
  }
  check(aborted || seen < 2400, 'stream was cut');
  check(await eventually(async () => (await metric('dsinfer_kv_blocks_used')) === 0),
    'kv blocks back to 0 after the disconnect');
  check((await metric('dsinfer_requests_running')) === 0, 'nothing running after the disconnect');
}
// Errors as the client library raises them.
{
  try {
    await client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] });
    check(false, 'unknown model must fail');
  } catch (e) {
    check(e.status === 404 && e.code === 'model_not_found', `unknown model: ${e.status} ${e.code}`);
  }
  try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], temperature: 'hot' });
    check(false, 'bad temperature must fail');
  } catch (e) {
    check(e.status === 400 && e.param === 'temperature', `bad temperature: ${e.status} ${e.param}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
