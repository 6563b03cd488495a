/** The peers of `bench:redis` and the limits the mock enforces (shared by run.ts and worker.ts). */
export const PEER_NAMES = ['faultline+redis', 'faultline per-process', '1/N manual split', 'bottleneck redis', 'rate-limiter-flexible redis'] as const;
export type PeerName = (typeof PEER_NAMES)[number];
export const LIMITS = { rpm: 600, tpm: 100_000 } as const;
