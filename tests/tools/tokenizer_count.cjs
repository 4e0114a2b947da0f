// Token counts by npm's reference tokenizers, for tests/unit/tokenizer_reference_test.cpp:
// reads JSON strings (one per line) on stdin, prints one count per line.
// Usage: node tokenizer_count.cjs NPM_DIR FILE   (FILE: a tokenizer.json, or
// cl100k_base.tiktoken / o200k_base.tiktoken, whose ranks js-tiktoken ships itself)
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const [npmDir, file] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(npmDir), 'package.json'));
let count;
const base = path.basename(file);
if (base.endsWith('.tiktoken')) {
  const enc = req('js-tiktoken').getEncoding(base.replace('.tiktoken', ''));
  count = (s) => enc.encode(s, 'all').length;
} else {
  const { Tokenizer } = req('@huggingface/tokenizers');
  const t = new Tokenizer(JSON.parse(fs.readFileSync(file, 'utf8')), {});
  count = (s) => t.encode(s, { add_special_tokens: false }).ids.length;
}
const lines = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
process.stdout.write(lines.map((l) => String(count(JSON.parse(l)))).join('\n') + '\n');
