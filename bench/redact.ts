/**
 * `node bench/redact.ts`: redact() timing. The unit tests prove the scan linear by counting character
 * reads (redactCost); this prints what that costs in time on this machine: ns per typical message (with
 * and without a secret) and MB/s on 5 MB adversarial inputs (key-like runs and near misses), where the
 * regex version threw RangeError or slowed down. Prints a markdown table.
 */
import { performance } from 'node:perf_hooks';
import { redact } from '../src/core/redact.ts';

const KEY = ['sk', 'proj', 'Zq9vR2mX7tL4pW8nK3jH6fD1sA5gB0cE'].join('-'); // fake, built at run time
const TYPICAL = [
  'Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 100. Please try again in 494ms. Visit https://platform.openai.com/account/rate-limits to learn more.',
  'Incorrect API key provided: sk-proj-****abcd. You can find your API key at https://platform.openai.com/account/api-keys.',
  "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
  'The server had an error while processing your request. Sorry about that!',
];
const WITH_SECRET = [`Incorrect API key provided: ${KEY}.`, `Authorization: Bearer ${KEY}`, '{"api-key": "8f14e45fceea167a5a36dedd4bea2543"}', `token_${KEY}&api-key%3D${KEY}`];

function perOp(inputs: readonly string[], ms: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (const s of inputs) redact(s);
    n += inputs.length;
    t = performance.now();
  }
  return ((t - t0) * 1e6) / n;
}

const MB5 = 5 * 1024 * 1024;
const fill = (unit: string): string => unit.repeat(Math.ceil(MB5 / unit.length));
const LARGE: Record<string, string> = {
  'sk-sk-sk-… (one key)': fill('sk-'),
  'api-key=api-key=…': fill('api-key='),
  'sk-abcdefg … (near misses)': fill('sk-abcdefg '),
  'Bearer short … (near misses)': fill('Bearer short '),
  'prose with api/key/basic words': fill('The API key, authorization and basic usage of sk-1 tokens. '),
};

perOp([...TYPICAL, ...WITH_SECRET], 300); // warm-up
console.log('| input | time |');
console.log('|---|---:|');
console.log(`| typical message, no secret | ${perOp(TYPICAL, 1000).toFixed(0)} ns/op |`);
console.log(`| message with a secret | ${perOp(WITH_SECRET, 1000).toFixed(0)} ns/op |`);
for (const [name, text] of Object.entries(LARGE)) {
  redact(text);
  const t0 = performance.now();
  redact(text);
  const ms = performance.now() - t0;
  console.log(`| 5 MB ${name} | ${(text.length / 1e6 / (ms / 1000)).toFixed(0)} MB/s |`);
}
