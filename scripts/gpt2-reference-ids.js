// Encodes each string of a JSON array with the gpt-3-encoder package's own JavaScript GPT-2
// encoder, a reference written independently of kvscope's C++ BPE.
// Usage: node gpt2-reference-ids.js PACKAGE_DIR/Encoder.js STRINGS.json > expected.json
const fs = require('fs');
const path = require('path');
const { encode } = require(path.resolve(process.argv[2]));
const strings = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
process.stdout.write(JSON.stringify(strings.map(text => ({ text, ids: encode(text) }))) + '\n');
