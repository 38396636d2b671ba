/** The intervals a worker runs on. Production defaults; tests shorten them. */
export interface WorkerTiming {
  /** BullMQ job lock; renewed every half of it while the task runs. @defaultValue 60_000 */
  lockDurationMs: number;
  /** How often BullMQ looks for jobs whose lock expired. @defaultValue 30_000 */
  stalledIntervalMs: number;
  /** @defaultValue 3000 */
  heartbeatIntervalMs: number;
  /** A worker silent this long is lost. @defaultValue 15_000 */
  heartbeatTtlMs: number;
  /** How often to look for lost workers and their leftovers. @defaultValue 5000 */
  reapIntervalMs: number;
  /** How often to re-check cancel requests for running tasks (pub/sub is the fast path). @defaultValue 2000 */
  cancelPollMs: number;
  /**
   * How long a job this worker hands back (a label it lacks, a repository on another machine) stays out of
   * the queue: how often such a task is looked at while no worker can take it. @defaultValue 5000
   */
  handBackDelayMs: number;
}

export const DEFAULT_WORKER_TIMING: WorkerTiming = {
  lockDurationMs: 60_000,
  stalledIntervalMs: 30_000,
  heartbeatIntervalMs: 3000,
  heartbeatTtlMs: 15_000,
  reapIntervalMs: 5000,
  cancelPollMs: 2000,
  handBackDelayMs: 5000,
};

/** Defaults under the caller's values, checked. */
export function resolveTiming(overrides: Partial<WorkerTiming> = {}): WorkerTiming {
  const timing = { ...DEFAULT_WORKER_TIMING, ...overrides };
  for (const [key, value] of Object.entries(timing)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${key} must be a positive number of milliseconds`);
  }
  if (timing.heartbeatTtlMs <= 2 * timing.heartbeatIntervalMs) throw new Error('heartbeatTtlMs must be more than twice heartbeatIntervalMs');
  return timing;
}
