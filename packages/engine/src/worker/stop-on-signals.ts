import type { WorkerServer } from './worker-server.js';

/**
 * SIGTERM/SIGINT stop the server gracefully; a second one cancels running tasks at once. Returns the
 * function that removes the handlers. (The shells call this; the engine never exits the process.)
 */
export function stopOnSignals(server: WorkerServer): () => void {
  let received = 0;
  const handler = () => {
    received += 1;
    if (received === 1) void server.stop();
    else void server.stopNow();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
