/**
 * Every recipe in src/mock/recipes.ts (rendered in docs/scenario.md) does what it documents, and the
 * abilities behind them: the `Date` header from the mock's clock, and per-key model access.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock, createMock, listen, type Mock } from '../../src/mock/index.ts';
import { RECIPES, type Recipe } from '../../src/mock/recipes.ts';

async function call(mock: Mock, e: { method: string; path: string; key: string; body?: object }): Promise<Response> {
  return mock.fetch(`http://mock.local${e.path}`, {
    method: e.method,
    headers: { authorization: `Bearer ${e.key}`, ...(e.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(e.body === undefined ? {} : { body: JSON.stringify(e.body) }),
  });
}

async function check(r: Recipe, mock: Mock, start: number): Promise<void> {
  const pending = call(mock, r.example);
  const delay = r.options.scenario?.flatMap((x) => (Array.isArray(x.fault) ? x.fault : [x.fault])).find((f) => f.type === 'delay');
  if (delay?.type === 'delay') {
    let settled = false;
    void pending.then(() => (settled = true));
    await mock.advance(delay.ms - 1);
    assert.equal(settled, false, `${r.title}: answered before the delay`);
    await mock.advance(1);
  }
  const res = await pending;
  const json = (await res.json()) as { error?: { code?: unknown } };
  assert.equal(res.status, r.example.status, r.title);
  assert.equal(json.error?.code ?? null, r.example.code, r.title);
  // The Date header is the mock's clock, whatever real time is.
  assert.equal(res.headers.get('date'), new Date(Math.floor(mock.now() / 1000) * 1000).toUTCString(), r.title);
  assert.equal(Math.floor(Date.parse(res.headers.get('date')!) / 1000), Math.floor((start + (delay?.type === 'delay' ? delay.ms : 0)) / 1000), r.title);
}

describe('recipes for an account or server in trouble (docs/scenario.md)', () => {
  for (const r of RECIPES) {
    test(r.title, async () => {
      const start = Date.now() + (r.clockOffsetMs ?? 0);
      const mock = createMock({ ...r.options, clock: createManualClock(start) });
      await check(r, mock, start);
      await mock.close();
      if (r.rule !== undefined) {
        const viaRule = createMock({ scenario: [r.rule], clock: createManualClock(start) });
        await check(r, viaRule, start);
        await viaRule.close();
      }
    });
  }
});

describe('the Date header', () => {
  test('comes from the mock clock, in-process and over loopback (node does not put its own)', async () => {
    const tenMinutesAgo = Date.parse('2026-03-01T12:00:00Z');
    const clock = createManualClock(tenMinutesAgo);
    const server = await listen({ mock: { clock } });
    try {
      const headers = { authorization: `Bearer ${['sk', 'date'].join('-')}` };
      const res = await fetch(`${server.url}/models`, { headers });
      await res.text();
      assert.equal(res.headers.get('date'), 'Sun, 01 Mar 2026 12:00:00 GMT');
      await clock.advance(61_500);
      const later = await fetch(`${server.url}/nope`, { headers });
      await later.text();
      assert.equal(later.status, 404);
      assert.equal(later.headers.get('date'), 'Sun, 01 Mar 2026 12:01:01 GMT', 'error answers carry it too');
    } finally {
      await server.close();
    }
  });
});

describe('modelAccess', () => {
  const small = ['key', 'small', String(process.pid)].join('-');
  const full = ['key', 'full', String(process.pid)].join('-');
  const mock = createMock({ models: ['gpt-4o-mini', 'gpt-4o'], modelAccess: { [small]: ['gpt-4o-mini'] } });

  test('a listed key sees only its models; another key sees all', async () => {
    const ids = async (key: string) => ((await (await call(mock, { method: 'GET', path: '/v1/models', key })).json()) as { data: { id: string }[] }).data.map((m) => m.id);
    assert.deepEqual(await ids(small), ['gpt-4o-mini']);
    assert.deepEqual(await ids(full), ['gpt-4o-mini', 'gpt-4o']);
    assert.equal((await call(mock, { method: 'GET', path: '/v1/models/gpt-4o', key: full })).status, 200);
    const denied = await call(mock, { method: 'GET', path: '/v1/models/gpt-4o', key: small });
    assert.equal(denied.status, 404);
    assert.deepEqual(((await denied.json()) as { error: object }).error, {
      message: 'The model `gpt-4o` does not exist or you do not have access to it.',
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    });
    const unknown = await call(mock, { method: 'GET', path: '/v1/models/gpt-nope', key: full });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'model_not_found');
  });

  test('inference on a model the key may not use is the 404, logged as not_found; its own model answers', async () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] };
    const denied = await call(mock, { method: 'POST', path: '/v1/chat/completions', key: small, body });
    assert.equal(denied.status, 404);
    await denied.text();
    const entry = mock.log.at(-1)!;
    assert.ok(entry.kind === 'request' && entry.outcome === 'not_found' && entry.model === 'gpt-4o');
    assert.ok(!JSON.stringify(mock.log).includes(small), 'the key is never logged');
    const ok = await call(mock, { method: 'POST', path: '/v1/chat/completions', key: small, body: { ...body, model: 'gpt-4o-mini' } });
    assert.equal(ok.status, 200);
    await ok.text();
  });

  test('misuse names the option and never a key', () => {
    for (const bad of [[], 'x', { [small]: 'gpt-4o' }, { [small]: [1] }]) {
      assert.throws(
        () => createMock({ modelAccess: bad as never }),
        (e: unknown) => e instanceof TypeError && e.message.startsWith('createMock: options.modelAccess must be an object from API key to an array of model ids, got ') && !e.message.includes(small),
        JSON.stringify(bad),
      );
    }
  });
});
