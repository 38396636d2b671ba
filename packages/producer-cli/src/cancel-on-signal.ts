/**
 * An AbortSignal that fires on the first Ctrl+C (or SIGTERM), or on `cancel()`; a second signal exits at
 * once. `dispose()` removes the handlers.
 */
export function cancelOnSignal(onFirst: () => void): { signal: AbortSignal; cancel: () => void; dispose: () => void } {
  const controller = new AbortController();
  const cancel = () => {
    if (controller.signal.aborted) return;
    onFirst();
    controller.abort();
  };
  const handler = () => {
    if (controller.signal.aborted) process.exit(130);
    cancel();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    cancel,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
