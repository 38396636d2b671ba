const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `45s`, `90m`, `2h`, `7d`, `2w` (`1.5h` too) in milliseconds; undefined when it is not a duration.
 * `bareUnit` is the unit of a bare number (`--older-than 7` means days); without it a unit is required.
 */
export function parseDuration(text: string, bareUnit?: keyof typeof UNITS): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2] || bareUnit;
  if (unit === undefined) return undefined;
  return Number(match[1]) * (UNITS[unit] ?? 0);
}
