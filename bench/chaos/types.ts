/** Shapes shared by the chaos harness and its worker processes. */
import type { PlannedJob } from './plan.ts';

/** Written by the harness to `config.json`; read by every worker. */
export interface ChaosConfig {
  /** The server's base URL (`http://127.0.0.1:N/v1`). */
  readonly url: string;
  /** The one SQLite journal file every worker opens. */
  readonly db: string;
  /**
   * One JSON line per create answer a worker's fetch received carrying the id (the whole JSON body, or
   * the first complete SSE event): from then on the library had what it needed to follow the job.
   */
  readonly received: string;
  /** The deliveries file: one JSON line per handler side effect. */
  readonly deliveries: string;
  /** One marker file per fired kill (`<key>@<point>`), created exclusively. */
  readonly killsDir: string;
  readonly jobs: readonly PlannedJob[];
  readonly webhookSecret?: string;
  readonly pace: { readonly minDelayMs: number; readonly maxDelayMs: number; readonly ageFactor: number; readonly requestTimeoutMs: number; readonly streamIdleTimeoutMs: number; readonly maxReconnects: number };
  readonly shortDeadlineMs: number;
  readonly longDeadlineMs: number;
  readonly leaseMs: number;
  readonly watchIntervalMs: number;
  readonly orphanAfterMs: number;
  readonly resumeEveryMs: number;
  readonly staggerMs: number;
  readonly retryAfterMs: number;
  /** How long the outcome handler works before its side effect, in ms. */
  readonly handlerMs: number;
  /** A worker exits by itself after this long (no orphan process outlives a crashed harness for long). */
  readonly maxLifeMs: number;
}

/** One line of the deliveries file. */
export interface DeliveryLine {
  readonly key: string;
  readonly id?: string;
  /** The terminal status, or `lost`. */
  readonly status: string;
  readonly attempt: number;
  /** The journal's reason, for a lost job. */
  readonly lostReason?: string;
  /** `<worker>#<incarnation>` of the process whose handler ran. */
  readonly tag: string;
  readonly t: number;
}

/** One line of the received file. */
export interface ReceivedLine {
  readonly key: string;
  readonly tag: string;
  readonly t: number;
}

/** What a server saw of one create request: the ground truth for "paid twice". */
export interface CreateRecord {
  /** `metadata.faultline_job` of the request. */
  readonly key: string;
  readonly id: string;
  /** The `x-bench-id` of the sender. */
  readonly tag: string | null;
}

/** The kill hooks a server calls; the harness SIGKILLs the sender when the plan says so. */
export interface ServerHooks {
  /** The create was read and the job made; nothing was sent back yet. True when the sender was killed. */
  beforeCreateReply(key: string, tag: string | null): Promise<boolean>;
  /** One SSE event of the job's stream was handed to the socket. */
  afterStreamEvent(key: string, tag: string | null, type: string): Promise<void>;
}

/** A running server under test. */
export interface ChaosServer {
  readonly url: string;
  /** Every create, in arrival order. */
  creates(): readonly CreateRecord[];
  /** Requests seen, in total. */
  requests(): number;
  /** Creates asking `stream: true` for a job with `background_options.completion_window` (the API streams none). */
  streamedWindows(): number;
  close(): Promise<void>;
}
