/**
 * Edit distance between two short strings (keys), counting a swap of neighbours as one edit since that
 * is the commonest typo (`memroy_gb`).
 */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The closest candidate to a misspelt key, if one is close enough to be a likely typo. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const score = distance(word.toLowerCase(), candidate.toLowerCase());
    if (!best || score < best.score) best = { candidate, score };
  }
  const tolerance = Math.max(1, Math.floor(word.length / 3));
  return best && best.score <= tolerance ? best.candidate : undefined;
}

/** `unknown key (did you mean x?); valid keys: a, b, c` — one line, for ConfigError messages. */
export function unknownKeyDetail(key: string, valid: readonly string[], noun = 'key'): string {
  const guess = closestMatch(key, valid);
  const hint = guess ? ` (did you mean ${guess}?)` : '';
  return `unknown ${noun}${hint}; valid ${noun}s: ${valid.join(', ')}`;
}
