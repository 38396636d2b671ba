/**
 * Labels say what a worker can serve beyond what every worker can (`[worker] labels = ["gpu"]`); a task
 * asks for them with `--requires`. They travel in signed jobs, in Redis and onto terminals, so the syntax is
 * strict: short, lower case, no spaces, no control characters, nothing a terminal or a shell acts on.
 */
export const WORKER_LABEL = /^[a-z0-9][a-z0-9._-]*$/;

export const LABEL_LIMITS = {
  /** Characters of one label. */
  chars: 32,
  /** Labels a worker has, or a task requires. */
  count: 16,
} as const;

export function isWorkerLabel(value: unknown): value is string {
  return typeof value === 'string' && value.length <= LABEL_LIMITS.chars && WORKER_LABEL.test(value);
}

/** Why `labels` is not a valid list of labels (each valid, no repeats, not too many), or undefined. */
export function labelListProblem(labels: readonly unknown[]): string | undefined {
  if (labels.length > LABEL_LIMITS.count) return `at most ${LABEL_LIMITS.count} labels`;
  const seen = new Set<unknown>();
  for (const label of labels) {
    if (!isWorkerLabel(label)) {
      const shown = typeof label === 'string' ? JSON.stringify(label.slice(0, 40)) : typeof label;
      return `${shown} is not a label (1 to ${LABEL_LIMITS.chars} characters of a-z 0-9 . _ -, starting with a letter or digit)`;
    }
    if (seen.has(label)) return `"${label}" is listed twice`;
    seen.add(label);
  }
  return undefined;
}

/**
 * `--requires gpu --requires x,y` → `['gpu', 'x', 'y']`: comma lists split, blanks dropped, repeats
 * kept once, order kept. Throws a plain Error with {@link labelListProblem}'s reason; callers wrap it.
 */
export function parseLabelArguments(values: readonly string[]): string[] {
  const labels = [...new Set(values.flatMap((value) => value.split(',')).map((label) => label.trim()).filter((label) => label !== ''))];
  const problem = labelListProblem(labels);
  if (problem !== undefined) throw new Error(problem);
  return labels;
}

/** The labels of `required` that `offered` lacks, in the order required. */
export function missingLabels(required: readonly string[] | undefined, offered: readonly string[]): string[] {
  return (required ?? []).filter((label) => !offered.includes(label));
}

/** `label gpu` / `labels gpu, cuda`: for messages. */
export function describeLabels(labels: readonly string[]): string {
  return `${labels.length === 1 ? 'label' : 'labels'} ${labels.join(', ')}`;
}
