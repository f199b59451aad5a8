// Runs one request with the official openai package and prints what it saw as JSON, for
// test_openai_api.py:  node client.mjs BASE_URL API_KEY '{"op": …}'
//   {"op":"models"}                           → {"ids":[…]}
//   {"op":"chat", "request":{…}}              → the completion, or {"chunks":[…]} when streamed
// An error the package raises is printed as {"error":{status, code, type, message}} (exit 0).
import OpenAI from 'openai';

const [baseURL, apiKey, spec] = process.argv.slice(2);
const { op, request } = JSON.parse(spec);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

async function run() {
  if (op === 'models') {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    return { ids };
  }
  if (op === 'chat' && request.stream) {
    const stream = await client.chat.completions.create(request);
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks };
  }
  if (op === 'chat') return client.chat.completions.create(request);
  throw new Error(`unknown op ${op}`);
}

try {
  console.log(JSON.stringify(await run()));
} catch (e) {
  if (!(e instanceof OpenAI.APIError)) throw e;
  console.log(JSON.stringify({ error: { status: e.status ?? null, code: e.code ?? null, type: e.type ?? null, message: e.message } }));
}
