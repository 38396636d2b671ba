import type { Queue } from 'bullmq';
import type { TaskRecord } from './task-record.js';
import { deriveTaskView, type JobState, type QueueFacts, type TaskView } from './task-view.js';
import type { FleetFacts, WorkerRegistry } from './worker-registry.js';

/**
 * Look up what {@link deriveTaskView} needs for these records, in bulk: BullMQ states only for tasks not
 * yet ended or waiting (DELAYED ones included), heartbeats only for the workers of RUNNING tasks, the fleet only when a QUEUED task
 * requires labels. Commands go out together, so 1,000 tasks cost a few round trips, not 1,000. `bull` is
 * only asked for when a task has not ended (so listing ended tasks loads no BullMQ).
 */
export async function loadViews(records: readonly TaskRecord[], bull: () => Queue, registry: WorkerRegistry): Promise<TaskView[]> {
  const live = records.filter((record) => record.status === 'QUEUED' || record.status === 'RUNNING' || record.status === 'DELAYED');
  if (live.length === 0) return records.map((record) => deriveTaskView(record, {}));
  const queue = bull();
  const workers = live.flatMap((record) => (record.status === 'RUNNING' && record.worker !== undefined ? [record.worker] : []));
  const needsFleet = live.some((record) => record.status === 'QUEUED' && record.requires.length > 0);
  const [states, alive, fleet] = await Promise.all([
    Promise.all(live.map((record) => queue.getJobState(record.id) as Promise<JobState>)),
    registry.alive(workers),
    needsFleet ? registry.fleet() : Promise.resolve<FleetFacts | undefined>(undefined),
  ]);
  const facts = new Map<string, QueueFacts>();
  await Promise.all(
    live.map(async (record, index) => {
      const jobState = states[index];
      const failedReason = jobState === 'failed' ? (await queue.getJob(record.id))?.failedReason : undefined;
      const workerAlive = record.worker !== undefined ? alive.get(record.worker) : undefined;
      facts.set(record.id, { jobState, failedReason, workerAlive, fleet });
    }),
  );
  return records.map((record) => deriveTaskView(record, facts.get(record.id) ?? {}));
}
