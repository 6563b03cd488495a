import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMockCommand } from '../../src/mock/cli.ts';

function sink() {
  let text = '';
  const waiters: (() => void)[] = [];
  return {
    write(chunk: string) {
      text += chunk;
      waiters.splice(0).forEach((w) => w());
      return true;
    },
    get text() {
      return text;
    },
    async line(): Promise<string> {
      while (!text.includes('\n')) await new Promise<void>((r) => waiters.push(r));
      return text.slice(0, text.indexOf('\n'));
    },
  };
}

test('faultline mock serves the scenario, limits and log it was given, then stops', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-mock-cli-'));
  try {
    const scenario = join(dir, 's.json');
    const log = join(dir, 'log.jsonl');
    await writeFile(scenario, JSON.stringify({ rules: [{ match: { nth: 2 }, fault: { type: 'http', preset: 'overloaded' } }] }));
    const stdout = sink();
    const stderr = sink();
    const ac = new AbortController();
    const done = runMockCommand(['--scenario', scenario, '--seed', '9', '--rpm', '2', '--tpm', '1000', '--log', log], {
      stdout,
      stderr,
      signal: ac.signal,
    });
    const url = await stdout.line();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-cli', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
      });
      statuses.push(res.status);
      await res.text();
    }
    assert.deepEqual(statuses, [200, 503, 429]);
    ac.abort();
    assert.equal(await done, 0);
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 3);
    assert.equal(stderr.text, '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2 and name the option', async () => {
  for (const argv of [['--port', 'x'], ['--nope'], ['--scenario', '/nonexistent/s.json'], ['--rpm', '0'], ['--burst-window-ms', '10000']]) {
    const stderr = sink();
    assert.equal(await runMockCommand(argv, { stdout: sink(), stderr }), 2, argv.join(' '));
    assert.match(stderr.text, /^faultline mock: /);
    if (argv[0] === '--burst-window-ms') assert.match(stderr.text, /--burst-window-ms .*--rpm or --tpm/);
  }
  const out = sink();
  assert.equal(await runMockCommand(['--help'], { stdout: out, stderr: sink() }), 0);
  assert.match(out.text, /Usage: faultline mock/);
});
