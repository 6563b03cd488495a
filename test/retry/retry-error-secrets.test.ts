import assert from 'node:assert/strict';
import { test } from 'node:test';
import { format, inspect } from 'node:util';
import OpenAI from 'openai';
import { classify } from '../../src/core/classify/index.ts';
import { RetryError } from '../../src/retry/index.ts';

test('util.inspect / console.log of a RetryError never shows a key its cause holds; cause stays the original', () => {
  // A fake key, built at run time so no key-shaped literal sits in the repository.
  const key = `sk-proj-${'Q'.repeat(40)}`;
  const sdkError = OpenAI.APIError.generate(
    401,
    { error: { message: `Incorrect API key provided: ${key}.`, type: 'invalid_request_error', code: 'invalid_api_key' } },
    undefined,
    new Headers({ authorization: `Bearer ${key}` }),
  );
  const err = new RetryError('retries_exhausted', [classify(sdkError)], sdkError);
  for (const text of [inspect(err, { depth: 10 }), format('%o', err), format('%O', err), JSON.stringify(err), String(err)]) {
    assert.ok(!text.includes(key), text.slice(0, 400));
  }
  assert.ok(inspect(err).includes('RetryError'));
  assert.equal(err.cause, sdkError, 'programs still get the original cause');
  assert.ok((err.cause as Error).message.includes(key));
});
