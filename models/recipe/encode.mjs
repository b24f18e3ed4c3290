// Encodes texts with a tokenizer.json exactly as Cairn's engine will at run time (Cairn's
// tokenizer conforms to @huggingface/tokenizers, which this uses), for the training recipe.
//
//   node models/recipe/encode.mjs TOKENIZER_JSON TEXTS_JSON OUT_JSON
//
// TEXTS_JSON: an array of strings; OUT_JSON: an array of id arrays (no special tokens added;
// special tokens written in the text, such as <|im_start|>, are matched as such).
import { readFileSync, writeFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';

const [tokPath, textsPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node encode.mjs TOKENIZER_JSON TEXTS_JSON OUT_JSON');
  process.exit(2);
}
const tok = new Tokenizer(JSON.parse(readFileSync(tokPath, 'utf8')), {});
const texts = JSON.parse(readFileSync(textsPath, 'utf8'));
writeFileSync(outPath, JSON.stringify(texts.map((t) => tok.encode(t, { add_special_tokens: false }).ids)));
