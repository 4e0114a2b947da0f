// Reference token ids for tests/unit/tokenizer_reference_test.cpp, from npm's reference
// tokenizers (installed by tests/tools/tokenizer_reference.sh into a scratch directory):
//   @huggingface/tokenizers 0.2.0 (reads tokenizer.json) on Llama 3's vocabulary, which
//     llama3-tokenizer-js 1.2.0 ships in its own format and this script converts to a
//     tokenizer.json (twice: Llama 3's own pre-tokenizer, and GPT-2's ByteLevel regex with
//     add_prefix_space, so both pre-tokenizer forms are checked);
//   js-tiktoken 1.0.21 (cl100k_base, o200k_base), whose ranks this script writes as
//     .tiktoken files.
// Usage: node tokenizer_reference.cjs NPM_DIR OUT_DIR COUNT
// Writes OUT_DIR/{llama3.json, llama3_bytelevel.json, cl100k_base.tiktoken,
// o200k_base.tiktoken, corpus.jsonl, ids_<name>.jsonl}. Nothing here is committed: Llama 3's
// vocabulary licence forbids it.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const [npmDir, outDir, countArg] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(npmDir), 'package.json'));
const count = Number(countArg || 10000);
fs.mkdirSync(outDir, { recursive: true });

// ---- vocabularies ----
const llama = req('llama3-tokenizer-js').default;
const kLlamaBase = 128000;
const vocab = {};
for (let id = 0; id < kLlamaBase; ++id) vocab[llama.vocabById[id]] = id;
const merges = [...llama.merges.entries()].sort((a, b) => a[1] - b[1]).map((e) => e[0]);
const added = [];
for (let id = kLlamaBase; id < llama.vocabById.length; ++id)
  added.push({ id, content: llama.vocabById[id], single_word: false, lstrip: false,
               rstrip: false, normalized: false, special: true });
const kLlamaRegex = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
function tokenizerJson(preTokenizer, ignoreMerges) {
  return { version: '1.0', truncation: null, padding: null, added_tokens: added,
           normalizer: null, pre_tokenizer: preTokenizer, post_processor: null,
           decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
           model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null,
                    end_of_word_suffix: null, fuse_unk: false, byte_fallback: false,
                    ignore_merges: ignoreMerges, vocab, merges } };
}
const jsons = {
  llama3: tokenizerJson({ type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: kLlamaRegex }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] }, true),
  llama3_bytelevel: tokenizerJson(
    { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, false),
};
for (const [name, j] of Object.entries(jsons))
  fs.writeFileSync(path.join(outDir, name + '.json'), JSON.stringify(j));

const tiktoken = req('js-tiktoken');
const encodings = {};
for (const name of ['cl100k_base', 'o200k_base']) {
  const enc = tiktoken.getEncoding(name);
  encodings[name] = enc;
  const lines = [];
  for (const [rank, bytes] of [...enc.textMap.entries()].sort((a, b) => a[0] - b[0]))
    lines.push(Buffer.from(bytes).toString('base64') + ' ' + rank);
  fs.writeFileSync(path.join(outDir, name + '.tiktoken'), lines.join('\n') + '\n');
}

// ---- corpus: deterministic, varied ----
let seed = 0x9e3779b9;
function rnd() {  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (n) => Math.floor(rnd() * n);
const words = ('the quick brown fox jumps over lazy dog time person year way day thing man world ' +
  'life hand part child eye woman place work week case point number group problem fact ' +
  'tokenizer streaming latency throughput Hello World HTTP JSON UTF-8 naïve café résumé ' +
  'coöperate Straße größer Ελληνικά русский язык Україна 日本語 中文字符 한국어 ' +
  'العربية עברית हिन्दी ภาษาไทย Tiếng Việt ქართული Հայերեն')
  .split(' ');
const code = ['def f(x):\n    return x**2\n', 'for (int i = 0; i < n; ++i) { sum += a[i]; }',
  'const x = {"a": [1, 2, 3], "b": null};', '#include <vector>\n', '<div class="x">&amp;</div>',
  'SELECT * FROM t WHERE id = 42;', 'if err != nil {\n\treturn err\n}', '$ ls -la | grep foo',
  'λx.x', 'x += 1 # comment', '//// ====== ------', '```python\nprint("hi")\n```'];
const emoji = ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '🏳️‍🌈', '❤️', '🤖', '✨', '🔥🔥', '🧑🏿‍💻', '🙂🙃'];
const punct = ['.', ',', '!', '?', '...', '—', '–', '“', '”', '«', '»', '(', ')', '[', ']',
  '{', '}', ';', ':', '@', '#', '$', '%', '^', '&', '*', '~', '`', '|', '\\', '/', '<', '>',
  '¿', '¡', '。', '、', '！', '？', '・', '→', '∑', '∞', '≠', '±', '€', '£', '¥', '©', '®'];
const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ll",
  "'D", "n't", "'x", "''", "'"];
const specials = ['<|endoftext|>', '<|begin_of_text|>', '<|eot_id|>', '<|start_header_id|>',
  '<|end_header_id|>', '<|fim_prefix|>', '<|endofprompt|>', '<|reserved_special_token_5|>',
  '<|notatoken|>', '<|', '|>'];
// Code points from stable Unicode blocks, with U+0085 and U+FEFF and the two letters whose
// case folding differs between the JS references and the Rust originals (U+017F, U+212A)
// left out (docs/scenarios.md "Tokenizer").
const ranges = [[0x20, 0x7e], [0xa0, 0x17e], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x5ff],
  [0x600, 0x6ff], [0x900, 0x97f], [0xe00, 0xe5b], [0x3040, 0x30ff], [0x4e00, 0x4fff],
  [0xac00, 0xad00], [0x2000, 0x206f], [0x1f300, 0x1f64f], [0x300, 0x36f], [0xff01, 0xff5e]];
function randomChars(n) {
  let s = '';
  for (let i = 0; i < n; ++i) {
    const [lo, hi] = pick(ranges);
    let cp = lo + int(hi - lo + 1);
    if (cp === 0x85 || cp === 0xfeff || cp === 0x17f || cp === 0x212a || cp === 0xad) cp = 0x41;
    s += String.fromCodePoint(cp);
  }
  return s;
}
function whitespace() {
  const kinds = [' ', '  ', '\t', '\n', '\r\n', '\n\n', ' \n', '\u00a0', '\u3000', '\u2003',
    '\u2028', '\r', '\v', '\f'];
  if (rnd() < 0.1) return ' '.repeat(1 + int(300));
  if (rnd() < 0.1) return pick(kinds).repeat(1 + int(40));
  let s = '';
  const n = 1 + int(4);
  for (let i = 0; i < n; ++i) s += pick(kinds);
  return s;
}
function number() {
  switch (int(5)) {
    case 0: return String(int(10));
    case 1: return String(int(1e9));
    case 2: return (rnd() * 1e4).toFixed(int(6));
    case 3: { let s = ''; const n = 1 + int(60); for (let i = 0; i < n; ++i) s += int(10); return s; }
    default: return int(1000) + ',' + String(int(1000)).padStart(3, '0') + ',' + String(int(1000)).padStart(3, '0');
  }
}
function fragment() {
  const r = rnd();
  if (r < 0.35) return pick(words);
  if (r < 0.45) return whitespace();
  if (r < 0.52) return number();
  if (r < 0.59) return pick(punct);
  if (r < 0.64) return pick(contractions);
  if (r < 0.69) return pick(emoji);
  if (r < 0.75) return pick(code);
  if (r < 0.78) return pick(specials);
  if (r < 0.90) return randomChars(1 + int(12));
  return (rnd() < 0.5 ? ' ' : '') + pick(words).toUpperCase();
}
const corpus = ['', ' ', 'a', '\n', '   ', 'Hello world!', "I'm here, isn't it? They'll've",
  ' '.repeat(1000), '\n'.repeat(50), '1234567890123', '<|endoftext|>', '<|begin_of_text|>hi'];
while (corpus.length < count) {
  const n = 1 + int(rnd() < 0.9 ? 20 : 200);
  let s = '';
  for (let i = 0; i < n; ++i) s += (rnd() < 0.5 ? ' ' : '') + fragment();
  corpus.push(s);
}
fs.writeFileSync(path.join(outDir, 'corpus.jsonl'), corpus.map((s) => JSON.stringify(s)).join('\n') + '\n');

// ---- reference ids ----
const { Tokenizer } = req('@huggingface/tokenizers');
const refs = {};
for (const [name, j] of Object.entries(jsons)) {
  const t = new Tokenizer(j, {});
  refs[name] = (s) => t.encode(s, { add_special_tokens: false }).ids;
}
for (const [name, enc] of Object.entries(encodings)) refs[name] = (s) => enc.encode(s, 'all');
for (const [name, f] of Object.entries(refs)) {
  const out = corpus.map((s) => JSON.stringify(f(s)));
  fs.writeFileSync(path.join(outDir, 'ids_' + name + '.jsonl'), out.join('\n') + '\n');
}
console.log('wrote', corpus.length, 'strings x', Object.keys(refs).length, 'tokenizers to', outDir);
