// Writes the reference tokenizations the C++ conformance test compares against.
//
//   node tests/core/tokenizer/reference.mjs CORPUS_JSON OUT_JSON NAME=TOKENIZER_JSON...
//
// For every corpus string and every tokenizer.json it records what @huggingface/tokenizers (the
// reference implementation, pinned in package-lock.json) gives: ids with and without special
// tokens, and the decoded text of those ids with and without skip_special_tokens. The
// tokenizer is built from tokenizer.json alone (an empty tokenizer_config), and decoding uses
// clean_up_tokenization_spaces: false, because Cairn loads tokenizer.json alone.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

let Tokenizer;
try {
  ({ Tokenizer } = await import('@huggingface/tokenizers'));
} catch (e) {
  console.error('reference.mjs: @huggingface/tokenizers is not installed; run `npm ci` in the ' +
                'repository root (./cairn test does it). ' + e.message);
  process.exit(2);
}

const [corpusPath, outPath, ...specs] = process.argv.slice(2);
if (!corpusPath || !outPath || specs.length === 0) {
  console.error('usage: node reference.mjs CORPUS_JSON OUT_JSON NAME=TOKENIZER_JSON...');
  process.exit(2);
}
const corpus = JSON.parse(readFileSync(corpusPath, 'utf8'));
const out = { reference: '@huggingface/tokenizers', unicode: process.versions.unicode,
              tokenizers: [] };

const decode = (tok, ids, skip) =>
  ids.length === 0 ? '' :
  tok.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });

for (const spec of specs) {
  const eq = spec.indexOf('=');
  const name = spec.slice(0, eq);
  const file = spec.slice(eq + 1);
  const tok = new Tokenizer(JSON.parse(readFileSync(file, 'utf8')), {});
  const cases = corpus.map((text) => {
    const ids = tok.encode(text, { add_special_tokens: true }).ids;
    const plain = tok.encode(text, { add_special_tokens: false }).ids;
    if (ids.some((x) => !Number.isInteger(x)) || plain.some((x) => !Number.isInteger(x))) {
      throw new Error(`${name}: the reference produced a non-integer id for ${JSON.stringify(text)}`);
    }
    return {
      text,
      ids,
      ids_no_special: plain,
      decoded: decode(tok, ids, false),
      decoded_skip_special: decode(tok, ids, true),
    };
  });
  out.tokenizers.push({ name, file, cases });
  console.log(`reference: ${name}: ${cases.length} strings`);
}
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, JSON.stringify(out));
