/**
 * Wait for `promise` at most `ms`: true when it settled (resolved or rejected) in time, false when it had
 * not. Its rejection is swallowed either way; the promise itself goes on. For shutdown paths, where a
 * call to a server that no longer answers must not hold the process.
 */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
