/**
 * Mock throughput vs a bare node:http server returning the same bytes, in one run.
 *
 * Both servers run in a worker thread (so the client's work does not share their event loop); the
 * client is the same for both: node:http with a keep-alive agent, fixed concurrency, fixed duration,
 * in interleaved rounds so warm-up and noise fall on both alike.
 * Prints a table and one JSON line: {"bench":"mock-throughput", ..., "ratio": mock/bare}.
 * Target: ratio >= 0.5 (the mock must never be the bottleneck of the other benchmarks).
 *
 *   npm run bench:mock [-- --seconds 3 --concurrency 32]
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });

interface WorkerInit {
  readonly kind: 'mock' | 'bare';
  readonly bytes?: string;
}

async function serve(init: WorkerInit): Promise<void> {
  if (init.kind === 'mock') {
    const { listen } = await import('../../src/mock/node.ts');
    const server = await listen({ mock: { seed: 1, maxLogEntries: 10_000 } });
    parentPort!.postMessage({ port: server.port });
    parentPort!.once('message', () => void server.close().then(() => process.exit(0)));
    return;
  }
  const { createServer } = await import('node:http');
  const bytes = init.bytes!;
  const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(bytes)) };
  const server = createServer({ keepAlive: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, headers);
      res.end(bytes);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  parentPort!.postMessage({ port: (server.address() as { port: number }).port });
  parentPort!.once('message', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

function once(agent: Agent, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { authorization: 'Bearer sk-bench', 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

async function startWorker(init: WorkerInit): Promise<{ port: number; stop: () => Promise<void> }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: init });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  return {
    port,
    stop: async () => {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.postMessage('stop');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
      await worker.terminate();
    },
  };
}

async function measure(port: number, seconds: number, concurrency: number): Promise<{ requests: number; errors: number; rps: number; p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  // Warm up: open the sockets and let the JIT settle.
  await Promise.all(Array.from({ length: concurrency * 4 }, () => once(agent, port)));
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const r = await once(agent, port);
          if (r.status !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { requests: latencies.length, errors, rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '32' } },
  });
  const seconds = Math.min(30, Math.max(0.5, Number(values.seconds)));
  const concurrency = Math.min(256, Math.max(1, Math.floor(Number(values.concurrency))));

  const mock = await startWorker({ kind: 'mock' });
  // The bare server returns exactly the bytes the mock returns for this request.
  const sample = await once(new Agent({ keepAlive: false }), mock.port);
  const bare = await startWorker({ kind: 'bare', bytes: sample.body });

  // Interleave short rounds (bare, mock, bare, mock, ...) so client warm-up and machine noise fall on
  // both servers alike; sum the rounds per server.
  const rounds = 3;
  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  const add = (name: string, r: Awaited<ReturnType<typeof measure>>): void => {
    const prev = results[name];
    results[name] = prev
      ? { requests: prev.requests + r.requests, errors: prev.errors + r.errors, rps: prev.rps + r.rps / rounds, p50: Math.max(prev.p50, r.p50), p99: Math.max(prev.p99, r.p99) }
      : { ...r, rps: r.rps / rounds };
  };
  try {
    await measure(bare.port, 0.3, concurrency); // client warm-up, not counted
    await measure(mock.port, 0.3, concurrency);
    for (let i = 0; i < rounds; i++) {
      add('bare node:http', await measure(bare.port, seconds / rounds, concurrency));
      add('faultline mock', await measure(mock.port, seconds / rounds, concurrency));
    }
  } finally {
    await Promise.all([mock.stop(), bare.stop()]);
  }
  const rows = Object.entries(results);
  const fmt = (n: number, d = 0): string => n.toFixed(d);
  console.log(`mock throughput: small chat completion, ${concurrency} concurrent, ${seconds}s each, 127.0.0.1, node ${process.version}`);
  console.log('server              req/s  p50 ms  p99 ms  requests  errors   (latencies: worst round)');
  for (const [name, r] of rows) {
    console.log(`${name.padEnd(16)}  ${fmt(r.rps).padStart(8)}  ${fmt(r.p50, 2).padStart(6)}  ${fmt(r.p99, 2).padStart(6)}  ${String(r.requests).padStart(8)}  ${String(r.errors).padStart(6)}`);
  }
  const ratio = results['faultline mock']!.rps / results['bare node:http']!.rps;
  console.log(`ratio mock/bare: ${ratio.toFixed(2)} (target >= 0.5)`);
  console.log(
    JSON.stringify({
      bench: 'mock-throughput',
      node: process.version,
      seconds,
      concurrency,
      responseBytes: Buffer.byteLength(sample.body),
      bareRps: Math.round(results['bare node:http']!.rps),
      mockRps: Math.round(results['faultline mock']!.rps),
      ratio: Number(ratio.toFixed(3)),
      target: 0.5,
      pass: ratio >= 0.5,
    }),
  );
}

if (isMainThread) await main();
else await serve(workerData as WorkerInit);
