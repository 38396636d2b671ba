import { describeLabels } from '../model/index.js';
import type { FleetFacts } from './worker-registry.js';

/** How `LABEL_SEEN_WINDOW_MS` reads in a note. */
const WINDOW = '10 min';

/**
 * What a QUEUED task is waiting for, in words, or undefined when it waits for nothing in particular:
 * - a label no live worker has and none had lately: "no worker with label gpu seen in the last 10 min";
 * - else the note the last worker that handed its job back left ("waiting for a worker on the machine
 *   that has /src/app");
 * - else, for a task that requires labels, "waiting for a worker with label gpu" (one exists, busy).
 * `stored` is that worker's note, from Redis (the caller strips it for a terminal like any record field).
 */
export function waitingNote(requires: readonly string[], stored: string | undefined, fleet: FleetFacts | undefined): string | undefined {
  if (requires.length > 0 && fleet !== undefined) {
    const unseen = requires.filter((label) => !fleet.labelsSeen.has(label) && !fleet.live.some((worker) => worker.labels.includes(label)));
    if (unseen.length > 0) return `no worker with ${describeLabels(unseen)} seen in the last ${WINDOW}`;
  }
  if (stored !== undefined && stored !== '') return stored;
  return requires.length > 0 ? `waiting for a worker with ${describeLabels(requires)}` : undefined;
}
