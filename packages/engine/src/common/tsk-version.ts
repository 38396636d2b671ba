import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The version of tsk this process runs (the engine's package version), for what a worker reports about
 * itself. `src/common` and `dist/common` both sit two levels below the package's `package.json`.
 */
export function tskVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version?: unknown };
    cached = typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
