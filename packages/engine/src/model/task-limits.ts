/**
 * Sizes a task may have. A job comes from whoever can write to the queue's Redis, so every text and list
 * in it is bounded before anything reads it further; the same limits apply when a task is created, so a
 * user learns of them at `tsk add`, not from a worker's refusal.
 */
export const TASK_LIMITS = {
  /** The whole job payload (the signed spec's JSON text). */
  payloadBytes: 4 * 1024 * 1024,
  instructionsBytes: 1024 * 1024,
  /** `name`, `type`. */
  labelChars: 200,
  pathChars: 4096,
  /** `setup` and each `stack_config`/`agent_config` layer. */
  setupBytes: 64 * 1024,
  squidConfBytes: 256 * 1024,
  layerEntries: 32,
  envEntries: 256,
  envValueBytes: 32 * 1024,
  volumes: 64,
  devices: 16,
  hostPorts: 64,
  caCertificates: 32,
  // A whole bundle (Debian's is about 220 KiB) is a valid `ca_certificates` entry.
  caCertificateBytes: 1024 * 1024,
  memoryGb: 1024,
  cpu: 1024,
  maxCostUsd: 100_000,
  /** 30 days. */
  timeoutSeconds: 30 * 86_400,
  maxTurns: 100_000,
} as const;
