import type { ImageLayer } from './layers.js';

/** `debian:trixie-slim` → `trixie`; undefined for anything that is not a Debian image. (Here, not in `base-image.ts`: planning an image loads no Docker client.) */
export function debianSuiteOf(tag: string): string | undefined {
  return /^(?:docker\.io\/)?(?:library\/)?debian:([a-z]+)(?:-slim)?$/.exec(tag)?.[1];
}

/**
 * What each built-in stack brings, by the Debian release of the base image: the snippets install
 * Debian's packages, so the release decides the versions (major.minor, as Debian ships them). The stack
 * tests (`npm run test:stacks`) check the trixie entries against the tools in the built images.
 */
export const STACK_TOOLCHAINS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  default: { trixie: 'GCC 14, make 4.4, Python 3.13 (the base layer’s)', bookworm: 'GCC 12, make 4.3, Python 3.11 (the base layer’s)' },
  node: { trixie: 'Node.js 20.19, npm 9.2', bookworm: 'Node.js 18.20, npm 9.2' },
  python: { trixie: 'Python 3.13, pip 25.1, pipx 1.7', bookworm: 'Python 3.11, pip 23.0, pipx 1.1' },
  rust: { trixie: 'Rust 1.85 (edition 2024): rustc, cargo, rustfmt, clippy', bookworm: 'Rust 1.63 (edition 2021): rustc, cargo, rustfmt, clippy' },
  go: { trixie: 'Go 1.24', bookworm: 'Go 1.19' },
  java: { trixie: 'OpenJDK 21, Maven 3.9', bookworm: 'OpenJDK 17, Maven 3.8' },
  lua: { trixie: 'Lua 5.4, LuaRocks 3.8', bookworm: 'Lua 5.4, LuaRocks 3.8' },
};

/**
 * The dry run's line on what the stack layer of an image brings (`toolchain: Go 1.24 (Debian trixie)`),
 * or undefined for an image without a stack layer (the proxy's).
 */
export function toolchainNote(layers: readonly ImageLayer[]): string | undefined {
  const stack = layers.find((layer) => layer.kind === 'stack');
  const base = layers.find((layer) => layer.kind === 'base');
  if (stack === undefined || base === undefined) return undefined;
  if (stack.source === 'config') return `toolchain: whatever stack_config.${stack.name}.setup installs`;
  const releases = STACK_TOOLCHAINS[stack.name];
  if (releases === undefined) return undefined;
  const suite = debianSuiteOf(base.name);
  const tools = suite === undefined ? undefined : releases[suite];
  if (suite === undefined || tools === undefined) {
    const known = Object.keys(releases).map((name) => `Debian ${name}`).join(' and ');
    return `toolchain: the ${stack.name} stack's packages of ${base.name} (tsk knows their versions on ${known})`;
  }
  return `toolchain: ${tools} (Debian ${suite})`;
}
