// Tokenizer throughput of the JavaScript peers on the same corpus as tokenizer_bench.cc:
// @huggingface/tokenizers (the reference) for every tokenizer.json, and for GPT-2 also tiktoken
// (WASM) and gpt-3-encoder. usage: node tokenizer_bench.mjs CORPUS_JSON NAME=TOKENIZER_JSON...
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Tokenizer } = await import('@huggingface/tokenizers');
const [corpusPath, ...specs] = process.argv.slice(2);
const corpus = JSON.parse(readFileSync(corpusPath, 'utf8'));
const bytes = corpus.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);

function measure(name, impl, encode) {
  for (const s of corpus) encode(s);  // warm-up
  let rounds = 0, tokens = 0;
  const t0 = performance.now();
  let secs = 0;
  do {
    for (const s of corpus) tokens += encode(s).length;
    rounds++;
    secs = (performance.now() - t0) / 1000;
  } while (secs < 1.0);
  console.log(JSON.stringify({ bench: 'tokenizer', name, impl, mb_per_s: rounds * bytes / secs / 1e6,
                               tokens_per_s: tokens / secs }));
}

for (const spec of specs) {
  const name = spec.slice(0, spec.indexOf('='));
  const tok = new Tokenizer(JSON.parse(readFileSync(spec.slice(spec.indexOf('=') + 1), 'utf8')), {});
  measure(name, 'hf-tokenizers-js', (s) => tok.encode(s, { add_special_tokens: false }).ids);
  if (name === 'gpt2') {
    const { get_encoding } = require('tiktoken');
    const enc = get_encoding('gpt2');
    measure(name, 'tiktoken', (s) => enc.encode(s, 'all'));
    const gpt3 = require('gpt-3-encoder');
    measure(name, 'gpt-3-encoder', (s) => gpt3.encode(s));
  }
}
