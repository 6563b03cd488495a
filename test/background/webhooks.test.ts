import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createResultHub, createWebhookHandler, generateWebhookSecret, signWebhook } from '../../src/webhooks/index.ts';
import { openJournal, type JobOutcome } from '../../src/journal/index.ts';
import { waitForResponse } from '../../src/background/wait.ts';
import { RateLimitError } from '../../src/core/errors.ts';
import { FakeResponses, serverError } from './fake-client.ts';
import { createManualClock } from '../../src/mock/index.ts';
import { json, serveLoopback } from './loopback.ts';

const dir = mkdtempSync(join(tmpdir(), 'faultline-webhooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup() {
  const clock = createManualClock(1_700_000_000_000);
  const fake = new FakeResponses(clock);
  const secret = generateWebhookSecret();
  const outcomes: JobOutcome[] = [];
  const journal = openJournal(join(dir, `w${++n}.db`), { clock, onResult: (o) => void outcomes.push(o) });
  const hub = createResultHub();
  const deliver = (webhookId: string, type: string, id: string, sign = secret) => {
    const body = JSON.stringify({ id: `evt_${webhookId}`, object: 'event', created_at: Math.floor(clock.now() / 1000), type, data: { id } });
    return { body, headers: signWebhook({ id: webhookId, sentAt: clock.now(), body, secret: sign }) };
  };
  return { clock, fake, secret, journal, outcomes, hub, deliver };
}

describe('webhook handler', () => {
  test('verifies, retrieves, classifies, records, wakes the waiter; duplicates are dropped', async () => {
    const { clock, fake, secret, journal, hub, deliver } = setup();
    const id = fake.add({ durationMs: 30_000, final: 'failed', error: { code: 'rate_limit_exceeded', message: 'Rate limit reached' } });
    const handle = createWebhookHandler({ secret, client: fake, journal, hub, clock });
    const waiting = waitForResponse(fake, id, { timeoutMs: 3_600_000, clock, minDelayMs: 600_000, maxDelayMs: 600_000, journal, hub });
    const caught = waiting.catch((e: unknown) => e);
    await clock.advance(31_000);
    const pollsBefore = fake.calls.retrieve;
    const r = await handle(deliver('wh_1', 'response.failed', id));
    assert.equal(r.status, 200);
    assert.equal(r.event?.failure?.code, 'rate_limit_exceeded');
    assert.equal(r.event?.jobKey, id);
    const err = await clock.run(caught);
    assert.ok(err instanceof RateLimitError, 'the waiter got the typed error from the webhook, not a poll');
    assert.ok(clock.now() < fake.jobs.get(id)!.createdAt + 600_000);
    assert.equal(fake.calls.retrieve, pollsBefore + 1, 'only the webhook retrieve');
    const dup = await handle(deliver('wh_1', 'response.failed', id));
    assert.equal(dup.status, 200);
    assert.equal(dup.duplicate, true);
    assert.equal(fake.calls.retrieve, pollsBefore + 1);
    await journal.close();
  });

  test('rejects bad signatures (401, no secret in the body) and bad JSON (400)', async () => {
    const { clock, fake, secret, deliver } = setup();
    const handle = createWebhookHandler({ secret, client: fake, clock });
    const bad = await handle(deliver('wh_2', 'response.completed', 'resp_x', generateWebhookSecret()));
    assert.equal(bad.status, 401);
    assert.doesNotMatch(bad.body, /whsec_/);
    const stale = deliver('wh_3', 'response.completed', 'resp_x');
    const late = createWebhookHandler({ secret, client: fake, clock: { now: () => clock.now() + 3_600_000, sleep: clock.sleep } });
    assert.equal((await late(stale)).status, 401);
    const body = 'not json';
    const r = await handle({ body, headers: signWebhook({ id: 'wh_4', sentAt: new Date(clock.now()), body, secret }) });
    assert.equal(r.status, 400);
    assert.equal(fake.calls.retrieve, 0);
  });

  test('secret rotation: any of several secrets is accepted', async () => {
    const { clock, fake, secret, deliver } = setup();
    const id = fake.add({ durationMs: 0 });
    const handle = createWebhookHandler({ secrets: [generateWebhookSecret(), secret], client: fake, clock });
    assert.equal((await handle(deliver('wh_5', 'response.completed', id))).status, 200);
  });

  test('a failed retrieve answers 503 and forgets the id, so the retry is processed', async () => {
    const { clock, fake, secret, journal, deliver } = setup();
    const id = fake.add({ durationMs: 0 });
    const handle = createWebhookHandler({ secret, client: fake, journal, clock });
    fake.pollFaults.push(serverError());
    assert.equal((await handle(deliver('wh_6', 'response.completed', id))).status, 503);
    const again = await handle(deliver('wh_6', 'response.completed', id));
    assert.equal(again.status, 200);
    assert.equal(again.duplicate, undefined);
    await journal.close();
  });

  test('a failure to record (journal or onEvent) answers 503 and forgets the id, so the retry is processed', async () => {
    const { clock, fake, secret, journal, deliver } = setup();
    const id = fake.add({ durationMs: 0 });
    let failOnce = true;
    const handle = createWebhookHandler({
      secret,
      client: fake,
      journal,
      clock,
      onEvent: () => {
        if (failOnce) {
          failOnce = false;
          throw new Error('disk full');
        }
      },
    });
    const first = await handle(deliver('wh_6b', 'response.completed', id));
    assert.equal(first.status, 503);
    const again = await handle(deliver('wh_6b', 'response.completed', id));
    assert.equal(again.status, 200);
    assert.equal(again.duplicate, undefined, 'the retry was processed, not dropped as a duplicate');
    await journal.close();
  });

  test('dedupe across restarts through the journal', async () => {
    const { clock, fake, secret, journal, deliver } = setup();
    const id = fake.add({ durationMs: 0 });
    const d = deliver('wh_7', 'response.completed', id);
    assert.equal((await createWebhookHandler({ secret, client: fake, journal, clock })(d)).status, 200);
    const fresh = createWebhookHandler({ secret, client: fake, journal, clock });
    assert.equal((await fresh(d)).duplicate, true);
    await journal.close();
  });

  test('an orphan (create timed out before its id was seen) is recovered by its webhook', async () => {
    const { clock, fake, secret, journal, outcomes, deliver } = setup();
    await journal.store.insert({ key: 'orphan-1', kind: 'response', stream: false }, clock.now());
    const id = fake.add({ durationMs: 5000 }, { metadata: { faultline_job: 'orphan-1' } });
    await clock.advance(6000);
    const handle = createWebhookHandler({ secret, client: fake, journal, clock });
    const r = await handle(deliver('wh_8', 'response.completed', id));
    assert.equal(r.event?.jobKey, 'orphan-1');
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]?.key, 'orphan-1');
    assert.equal(outcomes[0]?.ok, true);
    await journal.close();
  });

  test('other event types are acknowledged and ignored', async () => {
    const { clock, fake, secret, deliver } = setup();
    const handle = createWebhookHandler({ secret, client: fake, clock });
    const r = await handle(deliver('wh_9', 'fine_tuning.job.succeeded', 'ftjob_1'));
    assert.equal(r.status, 200);
    assert.match(r.body, /ignored/);
  });

  test('misuse', () => {
    assert.throws(() => createWebhookHandler({ client: {} as never }), /secret/);
    assert.throws(() => createWebhookHandler({ secret: 'whsec_abc', client: {} as never }), /client/);
  });

  test('malformed secrets are rejected at creation (naming the option, not showing it), not at every delivery', async () => {
    const { clock, fake, secret, deliver } = setup();
    const planted = 'cGxhbnRlZHNlY3JldA';
    for (const [options, name] of [
      [{ secret: 'whsec_' }, 'options.secret'],
      [{ secret: '' }, 'options.secret'],
      [{ secret: `whsec_${planted}%%` }, 'options.secret'],
      [{ secrets: [] }, 'options.secrets'],
      [{ secrets: [secret, ''] }, 'options.secrets[1]'],
      [{ secrets: [`whsec_${planted}!`] }, 'options.secrets[0]'],
      [{ secret, secrets: [secret] }, 'options.secrets'],
    ] as const) {
      assert.throws(
        () => createWebhookHandler({ ...options, client: fake } as never),
        (e: unknown) => e instanceof TypeError && e.message.startsWith(`createWebhookHandler: ${name}`) && !e.message.includes(planted),
        JSON.stringify(options),
      );
    }
    assert.throws(() => createWebhookHandler({ secret, client: fake, toleranceMs: -1 }), /createWebhookHandler: options\.toleranceMs must/);
    assert.throws(() => createWebhookHandler({ secret, client: fake, toleranceSeconds: 300 } as never), {
      message: 'createWebhookHandler: options.toleranceSeconds was renamed to options.toleranceMs (0.2.0; milliseconds, no longer seconds)',
    });
    assert.throws(() => createWebhookHandler({ secret, client: fake, now: Date.now } as never), { message: 'createWebhookHandler: options.now was renamed to options.clock (0.2.0)' });
    // A good handler still answers every delivery (none throws).
    const handle = createWebhookHandler({ secrets: [generateWebhookSecret(), secret], client: fake, clock });
    const r = await handle(deliver('wh_ok', 'fine_tuning.job.succeeded', 'ftjob_1'));
    assert.equal(r.status, 200);
  });

  test('a receiver killed before it recorded a delivery leaves the id unremembered: the retry is processed, not dropped as a duplicate', async () => {
    const { clock, fake, secret, journal, deliver } = setup();
    const id = fake.add({ durationMs: 0 });
    // Receiver A "dies" inside recordObject (its promise never settles): it must not have remembered the id.
    const dying = Object.create(journal) as typeof journal;
    dying.recordObject = () => new Promise<never>(() => undefined);
    const a = createWebhookHandler({ secret, client: fake, journal: dying, clock });
    void a(deliver('wh_kill', 'response.completed', id));
    await new Promise((r) => setImmediate(r));
    // The sender retries; receiver B (another process on the same journal) must process it.
    const b = createWebhookHandler({ secret, client: fake, journal, clock });
    const r = await b(deliver('wh_kill', 'response.completed', id));
    assert.equal(r.status, 200);
    assert.notEqual(r.duplicate, true, 'not dropped as a duplicate of a delivery nobody recorded');
    assert.equal(r.event?.id, id);
    // And once recorded, a further retry is a duplicate (remembered in the journal, across receivers).
    const c = createWebhookHandler({ secret, client: fake, journal, clock });
    assert.equal((await c(deliver('wh_kill', 'response.completed', id))).duplicate, true);
    await journal.close();
  });
});

test('against a loopback server: the handler retrieves the Response the event names over the wire and classifies it', async () => {
  const { clock, secret, journal, deliver } = setup();
  const failed = { id: 'resp_wh', object: 'response', created_at: 1_700_000_000, status: 'failed', background: true, model: 'gpt-4.1-mini', error: { code: 'rate_limit_exceeded', message: 'Rate limit reached' }, incomplete_details: null, metadata: {}, output: [] };
  const server = await serveLoopback((req, res) => {
    if (req.method === 'GET' && req.url.startsWith('/v1/responses/resp_wh')) return json(res, 200, failed);
    json(res, 404, { error: { message: 'not found', type: 'invalid_request_error', code: null, param: null } });
  });
  try {
    const client = new OpenAI({ apiKey: ['sk', 'test', 'webhook', '0000'].join('-'), baseURL: server.url, fetch: server.fetch, maxRetries: 0 });
    const handle = createWebhookHandler({ secret, client, journal, clock });
    const r = await handle(deliver('wh_loop', 'response.failed', 'resp_wh'));
    assert.equal(r.status, 200);
    assert.equal(r.event?.failure?.code, 'rate_limit_exceeded');
    assert.deepEqual(server.requests.map((q) => `${q.method} ${q.url.split('?')[0]}`), ['GET /v1/responses/resp_wh']);
  } finally {
    await server.close();
    await journal.close();
  }
});
