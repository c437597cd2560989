// Dev-time reference: prints the ids Hugging Face's own tokenizers (the Rust library, through the npm package
// `tokenizers`) gives for strings, to check expected ids in tests. Not used by the build or CI.
//
//   mkdir -p /tmp/hfref && cd /tmp/hfref && npm install tokenizers@0.23.2
//   echo '["hello world", "<s>hi"]' | NODE_PATH=/tmp/hfref/node_modules node scripts/hf-tokenizer-ids.mjs PATH/tokenizer.json [--special]
//
// One JSON line per string: {"text", "ids", "decoded"}; --special adds the post-processor's BOS/EOS.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');
const [file, ...flags] = process.argv.slice(2);
if (!file) {
  console.error('usage: node hf-tokenizer-ids.mjs tokenizer.json [--special] < strings.json');
  process.exit(2);
}
const tokenizer = Tokenizer.fromFile(file);
const addSpecialTokens = flags.includes('--special');
for (const text of JSON.parse(readFileSync(0, 'utf8'))) {
  const encoding = await tokenizer.encode(text, null, { addSpecialTokens });
  const ids = encoding.getIds();
  console.log(JSON.stringify({ text, ids, decoded: await tokenizer.decode(ids, false) }));
}
