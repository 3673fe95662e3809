// Encodes each string of a JSON array with Hugging Face's own JavaScript tokenizer library
// (@huggingface/tokenizers, the tokenizer code of @huggingface/transformers), loaded from a
// folder's tokenizer.json + tokenizer_config.json: a reference written independently of kvscope.
// Prints [{text, nfc, ids, ids_special}]: ids without special tokens, ids_special with them.
// Usage: node hf-reference-ids.js NODE_MODULES_DIR TOKENIZER_DIR STRINGS.json > expected.json
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require(path.resolve(process.argv[2], '@huggingface/tokenizers'));
const dir = process.argv[3];
const readJson = (file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
const tokenizer = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
const strings = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));
const rows = strings.map((text) => ({
  text,
  nfc: text.normalize('NFC'),
  ids: tokenizer.encode(text, { add_special_tokens: false }).ids,
  ids_special: tokenizer.encode(text, { add_special_tokens: true }).ids,
}));
process.stdout.write(JSON.stringify(rows) + '\n');
