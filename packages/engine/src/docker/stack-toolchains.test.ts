import { describe, expect, it } from 'vitest';
import { userSchema } from '../config/schema.js';
import { DEFAULT_BASE_IMAGE, debianSuiteOf } from './base-image.js';
import type { ImageLayer } from './layers.js';
import { BUILT_IN_STACKS } from './layers.js';
import { STACK_TOOLCHAINS, toolchainNote } from './stack-toolchains.js';

function layers(baseImage: string, stack: string, source: ImageLayer['source'] = 'built-in'): ImageLayer[] {
  return [
    { kind: 'base', name: baseImage, source: 'built-in' },
    { kind: 'stack', name: stack, source },
    { kind: 'project', name: 'app', source: 'empty' },
    { kind: 'agent', name: 'claude', source: 'built-in' },
  ];
}

describe('toolchainNote', () => {
  it('should know every built-in stack on the default base image and the earlier one', () => {
    for (const stack of BUILT_IN_STACKS) {
      expect(Object.keys(STACK_TOOLCHAINS[stack] ?? {}).sort(), stack).toEqual(['bookworm', 'trixie']);
    }
    expect(debianSuiteOf(DEFAULT_BASE_IMAGE)).toBe('trixie');
    const schema = userSchema.base_image;
    expect(typeof schema === 'object' ? schema.default : schema, 'config/schema.ts base_image default').toBe(DEFAULT_BASE_IMAGE);
  });

  it.each([
    ['rust', 'debian:trixie-slim', 'toolchain: Rust 1.85 (edition 2024): rustc, cargo, rustfmt, clippy (Debian trixie)'],
    ['go', 'debian:trixie-slim', 'toolchain: Go 1.24 (Debian trixie)'],
    ['java', 'debian:trixie-slim', 'toolchain: OpenJDK 21, Maven 3.9 (Debian trixie)'],
    ['node', 'docker.io/library/debian:trixie', 'toolchain: Node.js 20.19, npm 9.2 (Debian trixie)'],
    ['go', 'debian:bookworm-slim', 'toolchain: Go 1.19 (Debian bookworm)'],
  ])('should name what the %s stack brings on %s', (stack, baseImage, note) => {
    expect(toolchainNote(layers(baseImage, stack))).toBe(note);
  });

  it('should describe the default stack, whose snippet is empty, by the base layer’s tools', () => {
    expect(toolchainNote(layers('debian:trixie-slim', 'default', 'empty'))).toBe('toolchain: GCC 14, make 4.4, Python 3.13 (the base layer’s) (Debian trixie)');
  });

  it('should not guess versions for a base image it does not know', () => {
    expect(toolchainNote(layers('ubuntu:24.04', 'python'))).toBe(
      "toolchain: the python stack's packages of ubuntu:24.04 (tsk knows their versions on Debian trixie and Debian bookworm)",
    );
    expect(toolchainNote(layers('debian:sid', 'python'))).toContain('packages of debian:sid');
  });

  it('should point at the configuration for a configured stack, and say nothing without a stack layer', () => {
    expect(toolchainNote(layers('debian:trixie-slim', 'rust', 'config'))).toBe('toolchain: whatever stack_config.rust.setup installs');
    expect(toolchainNote(layers('debian:trixie-slim', 'zig', 'config'))).toBe('toolchain: whatever stack_config.zig.setup installs');
    expect(toolchainNote([{ kind: 'base', name: 'debian:trixie-slim', source: 'built-in' }])).toBeUndefined();
  });
});
