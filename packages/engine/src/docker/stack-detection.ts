import { readdir } from 'node:fs/promises';
import type { BuiltInStack } from './layers.js';

/**
 * Marker files in a repository's root, in precedence order: the first rule with a match wins, so a Rust
 * crate with a package.json for its docs is `rust`, and a Python service with a frontend is `python`.
 */
const STACK_RULES: readonly { stack: BuiltInStack; matches: (name: string) => boolean }[] = [
  { stack: 'rust', matches: (name) => name === 'Cargo.toml' },
  { stack: 'python', matches: (name) => ['pyproject.toml', 'requirements.txt', 'setup.py'].includes(name) },
  { stack: 'node', matches: (name) => name === 'package.json' },
  { stack: 'go', matches: (name) => name === 'go.mod' },
  { stack: 'java', matches: (name) => ['pom.xml', 'build.gradle', 'build.gradle.kts'].includes(name) },
  { stack: 'lua', matches: (name) => name.endsWith('.rockspec') || name === 'init.lua' },
];

/** The stack for a repository whose root holds these file names (pure; see {@link detectStack}). */
export function stackFromFileNames(names: Iterable<string>): BuiltInStack {
  const present = [...names];
  for (const rule of STACK_RULES) {
    if (present.some(rule.matches)) return rule.stack;
  }
  return 'default';
}

/**
 * Detect a repository's stack from the marker files in its root directory (subdirectories are not
 * searched: a monorepo's root decides). Returns `default` when nothing matches.
 */
export async function detectStack(repoDir: string): Promise<BuiltInStack> {
  const entries = await readdir(repoDir, { withFileTypes: true });
  return stackFromFileNames(entries.filter((entry) => !entry.isDirectory()).map((entry) => entry.name));
}
