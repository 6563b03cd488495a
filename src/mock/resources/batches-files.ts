/**
 * `/v1/files` and `/v1/batches`: uploads, batches that run their input lines through the same scenario
 * rules as HTTP requests (`match.batch: true`), and the output and error files of a completed batch.
 * Reading is free of side effects: a batch's files are part of its state from the start and can be
 * read once the batch is `completed` on the mock's clock.
 */
import type { Body, Ctx, MockContext, Route } from '../context.ts';
import { faultOf, httpFaultAnswer } from '../faults.ts';
import type { MockReply, MockRequest } from '../http.ts';
import { HttpError, invalid, notFound } from '../reply.ts';
import type { BatchFault, Fault } from '../scenario.ts';
import { errorEnvelope, utf8Length } from '../wire.ts';
import type { Watched } from './webhook-sweep.ts';

interface StoredFile {
  readonly id: string;
  readonly filename: string;
  readonly purpose: string;
  readonly createdAtMs: number;
  readonly content: string;
}

interface StoredBatch extends Watched {
  readonly id: string;
  readonly createdAtMs: number;
  readonly endpoint: string;
  readonly inputFileId: string;
  readonly completionWindow: string;
  readonly metadata: Record<string, string> | null;
  readonly outputLines: string[];
  readonly errorLines: string[];
  readonly total: number;
  readonly failed: number;
  readonly outputFileId: string;
  readonly errorFileId: string;
  readonly fault: BatchFault | undefined;
  cancelledAtMs: number | undefined;
}

/** What a batch line becomes for an endpoint: the body of its answer, or the HttpError it answers with. */
export type BatchLineRunner = (ctx: Ctx, body: Body, faults: readonly Fault[]) => unknown;

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

export class BatchesAndFiles {
  readonly #m: MockContext;
  readonly #lines: Readonly<Record<'/v1/chat/completions' | '/v1/responses', BatchLineRunner>>;
  readonly #files = new Map<string, StoredFile>();
  readonly #batches = new Map<string, StoredBatch>();
  /** Output and error file ids of every batch, to the batch and which file it is. */
  readonly #batchFiles = new Map<string, { readonly batch: StoredBatch; readonly error: boolean }>();

  readonly routes: readonly Route[] = [
    { method: 'POST', path: ['files'], handler: (req, ctx) => this.#createFile(req, ctx) },
    { method: 'GET', path: ['files', ':id'], handler: (_r, ctx, _b, id) => this.#getFile(ctx, id, false) },
    { method: 'GET', path: ['files', ':id', 'content'], handler: (_r, ctx, _b, id) => this.#getFile(ctx, id, true) },
    { method: 'POST', path: ['batches'], body: 'json', handler: (_r, ctx, body) => this.#createBatch(ctx, body) },
    { method: 'GET', path: ['batches', ':id'], handler: (_r, ctx, _b, id) => this.#getBatch(ctx, id) },
    { method: 'POST', path: ['batches', ':id', 'cancel'], handler: (_r, ctx, _b, id) => this.#cancelBatch(ctx, id) },
  ];

  constructor(m: MockContext, lines: Readonly<Record<'/v1/chat/completions' | '/v1/responses', BatchLineRunner>>) {
    this.#m = m;
    this.#lines = lines;
  }

  // ---------------------------------------------------------------------------------------------
  // Files
  // ---------------------------------------------------------------------------------------------

  #fileObject(f: StoredFile): object {
    return {
      id: f.id,
      object: 'file',
      bytes: utf8Length(f.content),
      created_at: Math.floor(f.createdAtMs / 1000),
      expires_at: null,
      filename: f.filename,
      purpose: f.purpose,
      status: 'processed',
      status_details: null,
    };
  }

  /** An uploaded file, or the output/error file of a batch that is `completed` at `t`. */
  #file(id: string, t: number): StoredFile | undefined {
    const uploaded = this.#files.get(id);
    if (uploaded !== undefined) return uploaded;
    const of = this.#batchFiles.get(id);
    if (of === undefined || this.#status(of.batch, t) !== 'completed') return undefined;
    const b = of.batch;
    const lines = of.error ? b.errorLines : b.outputLines;
    if (lines.length === 0) return undefined;
    return {
      id,
      filename: `${b.id}_${of.error ? 'error' : 'output'}.jsonl`,
      purpose: 'batch_output',
      createdAtMs: b.createdAtMs + this.#m.options.batchValidatingMs + this.#m.options.batchRunMs,
      content: lines.join('\n') + '\n',
    };
  }

  async #createFile(req: MockRequest, ctx: Ctx): Promise<MockReply> {
    const bytes = await req.bytes();
    const type = req.header('content-type') ?? '';
    if (!type.startsWith('multipart/form-data')) {
      throw invalid("Invalid content type: expected 'multipart/form-data'.", 'file');
    }
    let form: FormData;
    try {
      form = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': type } }).formData();
    } catch {
      throw invalid('Could not parse multipart form.', 'file');
    }
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (file === null || typeof file === 'string') throw invalid("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
    if (typeof purpose !== 'string') throw invalid("Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
    const stored: StoredFile = {
      id: this.#m.newId('file-', 22),
      filename: (file as File).name || 'upload.jsonl',
      purpose,
      createdAtMs: ctx.t,
      content: await file.text(),
    };
    this.#files.set(stored.id, stored);
    ctx.objectId = stored.id;
    return this.#m.reply.json(ctx, 200, this.#fileObject(stored));
  }

  #getFile(ctx: Ctx, id: string, content: boolean): MockReply {
    ctx.objectId = id;
    const f = this.#file(id, ctx.t);
    if (f === undefined) throw notFound(`No such File object: ${id}`);
    if (content) return this.#m.reply.text(ctx, 200, f.content, 'application/octet-stream');
    return this.#m.reply.json(ctx, 200, this.#fileObject(f));
  }

  // ---------------------------------------------------------------------------------------------
  // Batches
  // ---------------------------------------------------------------------------------------------

  #createBatch(ctx: Ctx, body: Body): MockReply {
    for (const p of ['input_file_id', 'endpoint', 'completion_window'] as const) {
      if (typeof body[p] !== 'string') throw invalid(`Missing required parameter: '${p}'.`, p, 'missing_required_parameter');
    }
    const input = this.#file(body['input_file_id'] as string, ctx.t);
    if (input === undefined) throw invalid(`Invalid 'input_file_id': '${String(body['input_file_id'])}'. File not found.`, 'input_file_id');
    const endpoint = body['endpoint'] as string;
    if (endpoint !== '/v1/chat/completions' && endpoint !== '/v1/responses') {
      throw invalid(`Invalid value for 'endpoint': '${endpoint}' is not supported by the mock.`, 'endpoint', 'invalid_value');
    }
    const outputLines: string[] = [];
    const errorLines: string[] = [];
    let total = 0;
    let failed = 0;
    for (const raw of input.content.split('\n')) {
      if (raw.trim() === '') continue;
      total++;
      const line = this.#line(ctx, raw, endpoint);
      if (line.error) errorLines.push(line.text);
      else outputLines.push(line.text);
      if (line.failed) failed++;
    }
    const id = this.#m.newId('batch_', 32);
    const batch: StoredBatch = {
      kind: 'batch',
      objectId: id,
      terminalAt: (now) => {
        const status = this.#status(batch, now);
        return TERMINAL.has(status) ? status : undefined;
      },
      notified: false,
      id,
      createdAtMs: ctx.t,
      endpoint,
      inputFileId: input.id,
      completionWindow: body['completion_window'] as string,
      metadata: (body['metadata'] as Record<string, string> | undefined) ?? null,
      outputLines,
      errorLines,
      total,
      failed,
      outputFileId: this.#m.newId('file-', 22),
      errorFileId: this.#m.newId('file-', 22),
      fault: faultOf(ctx.faults, 'batch'),
      cancelledAtMs: undefined,
    };
    this.#batches.set(batch.id, batch);
    this.#batchFiles.set(batch.outputFileId, { batch, error: false });
    this.#batchFiles.set(batch.errorFileId, { batch, error: true });
    ctx.objectId = batch.id;
    this.#watch(batch);
    return this.#m.reply.json(ctx, 200, this.#batchObject(batch, ctx.t));
  }

  /** Webhook due time: the end of the run, or of the cancelling phase. */
  #watch(b: StoredBatch): void {
    const o = this.#m.options;
    this.#m.webhooks.watch(b, (b.cancelledAtMs ?? b.createdAtMs) + o.batchValidatingMs + (b.cancelledAtMs === undefined ? o.batchRunMs : 0));
  }

  /** Runs one batch input line through the same rules as an HTTP request (with `match.batch: true`). */
  #line(ctx: Ctx, raw: string, endpoint: '/v1/chat/completions' | '/v1/responses'): { text: string; error: boolean; failed: boolean } {
    const lineId = this.#m.newId('batch_req_', 32);
    let parsed: Body;
    try {
      parsed = JSON.parse(raw) as Body;
    } catch {
      return {
        text: JSON.stringify({ id: lineId, custom_id: null, response: null, error: { code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.' } }),
        error: true,
        failed: true,
      };
    }
    const customId = typeof parsed['custom_id'] === 'string' ? parsed['custom_id'] : null;
    const body = (parsed['body'] ?? {}) as Body;
    const model = typeof body['model'] === 'string' ? body['model'] : undefined;
    const matcher = this.#m.matcher;
    const hit = matcher.empty ? undefined : matcher.match({ path: endpoint, method: 'POST', model, key: ctx.key, stream: false, background: false, batch: true });
    const faults = hit?.faults ?? [];
    const lineFault = faultOf(faults, 'batch');
    if (lineFault) {
      return {
        text: JSON.stringify({
          id: lineId,
          custom_id: customId,
          response: null,
          error: { code: lineFault.code ?? 'server_error', message: lineFault.message ?? 'The line failed in the mock.' },
        }),
        error: true,
        failed: true,
      };
    }
    const requestId = this.#m.newId('req_', 32);
    const http = faultOf(faults, 'http');
    let status = 200;
    let out: unknown;
    if (http) {
      ({ status, body: out } = httpFaultAnswer(http));
    } else if (model === undefined) {
      status = 400;
      out = errorEnvelope("Missing required parameter: 'model'.", 'invalid_request_error', 'missing_required_parameter', 'model');
    } else {
      out = this.#lines[endpoint]({ ...ctx, model, faults }, body, faults);
      if (out instanceof HttpError) {
        status = out.status;
        out = out.body;
      }
    }
    return {
      text: JSON.stringify({ id: lineId, custom_id: customId, response: { status_code: status, request_id: requestId, body: out }, error: null }),
      error: false,
      failed: status !== 200,
    };
  }

  #status(b: StoredBatch, t: number): string {
    const { batchValidatingMs: validatingMs, batchRunMs: runMs } = this.#m.options;
    const since = t - b.createdAtMs;
    if (b.cancelledAtMs !== undefined) return t - b.cancelledAtMs < validatingMs ? 'cancelling' : 'cancelled';
    if (b.fault?.status === 'failed' && since >= validatingMs) return 'failed';
    if (since < validatingMs) return 'validating';
    if (since < validatingMs + runMs) return 'in_progress';
    return b.fault?.status ?? 'completed';
  }

  #batchObject(b: StoredBatch, t: number): object {
    const { batchValidatingMs: validatingMs, batchRunMs: runMs } = this.#m.options;
    const status = this.#status(b, t);
    const sec = (ms: number): number => Math.floor(ms / 1000);
    const startedMs = b.createdAtMs + validatingMs;
    const endMs = startedMs + runMs;
    const ran = status === 'completed';
    return {
      id: b.id,
      object: 'batch',
      endpoint: b.endpoint,
      errors:
        status === 'failed'
          ? {
              object: 'list',
              data: [{ code: b.fault?.code ?? 'invalid_request', message: b.fault?.message ?? 'The batch failed validation in the mock.', param: null, line: null }],
            }
          : null,
      input_file_id: b.inputFileId,
      completion_window: b.completionWindow,
      status,
      output_file_id: ran && b.outputLines.length > 0 ? b.outputFileId : null,
      error_file_id: ran && b.errorLines.length > 0 ? b.errorFileId : null,
      created_at: sec(b.createdAtMs),
      in_progress_at: t >= startedMs && status !== 'failed' ? sec(startedMs) : null,
      expires_at: sec(b.createdAtMs + 24 * 3_600_000),
      finalizing_at: ran ? sec(endMs) : null,
      completed_at: ran ? sec(endMs) : null,
      failed_at: status === 'failed' ? sec(startedMs) : null,
      expired_at: status === 'expired' ? sec(endMs) : null,
      cancelling_at: b.cancelledAtMs !== undefined ? sec(b.cancelledAtMs) : null,
      cancelled_at: status === 'cancelled' ? sec((b.cancelledAtMs ?? endMs) + (b.cancelledAtMs !== undefined ? validatingMs : 0)) : null,
      request_counts: ran
        ? { total: b.total, completed: b.total - b.failed, failed: b.failed }
        : { total: status === 'validating' ? 0 : b.total, completed: 0, failed: 0 },
      metadata: b.metadata,
    };
  }

  #getBatch(ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const b = this.#batches.get(id);
    if (b === undefined) throw notFound(`No batch found with id '${id}'.`);
    return this.#m.reply.json(ctx, 200, this.#batchObject(b, ctx.t));
  }

  #cancelBatch(ctx: Ctx, id: string): MockReply {
    ctx.objectId = id;
    const b = this.#batches.get(id);
    if (b === undefined) throw notFound(`No batch found with id '${id}'.`);
    const status = this.#status(b, ctx.t);
    if (status === 'validating' || status === 'in_progress') {
      b.cancelledAtMs = ctx.t;
      this.#watch(b);
    } else if (status !== 'cancelling' && status !== 'cancelled') {
      throw new HttpError(409, errorEnvelope(`Cannot cancel a batch with status '${status}'.`, 'invalid_request_error'), 'invalid_request');
    }
    return this.#m.reply.json(ctx, 200, this.#batchObject(b, ctx.t));
  }
}
