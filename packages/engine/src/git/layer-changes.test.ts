import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerChanges, opaqueInTar, type LayerEntryKind } from './layer-changes.js';

describe('layerChanges', () => {
  const entries = new Map<string, LayerEntryKind>([
    ['src', 'dir'],
    ['src/edited.ts', 'other'],
    ['src/gone', 'whiteout'],
    ['redo', 'opaque'],
    ['redo/new.txt', 'other'],
    ['was-dir', 'other'],
    ['was-file', 'dir'],
  ]);

  it('leaves what the layer does not reach to the base', () => {
    expect(layerChanges(entries, 'README.md')).toBe(false);
    expect(layerChanges(entries, 'src/kept.ts')).toBe(false);
    expect(layerChanges(entries, 'other/deep/file')).toBe(false);
  });

  it('sees a file the layer holds, a removal, and what a removed, opaque or replaced folder hid', () => {
    expect(layerChanges(entries, 'src/edited.ts')).toBe(true);
    expect(layerChanges(entries, 'src/gone')).toBe(true);
    expect(layerChanges(entries, 'src/gone/below.txt')).toBe(true);
    expect(layerChanges(entries, 'redo/old.txt')).toBe(true);
    expect(layerChanges(entries, 'was-dir/inner.txt')).toBe(true);
    expect(layerChanges(entries, 'was-file')).toBe(true);
  });
});

describe('opaqueInTar', () => {
  it('reads user.overlay.opaque from the PAX records GNU tar writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsk-opaque-'));
    try {
      mkdirSync(join(dir, 'plain'));
      mkdirSync(join(dir, 'marked'));
      mkdirSync(join(dir, `${'long-name-'.repeat(12)}`));
      writeFileSync(join(dir, 'file'), 'x');
      let tar: Buffer;
      try {
        execFileSync('setfattr', ['-n', 'user.overlay.opaque', '-v', 'y', join(dir, 'marked')]);
        execFileSync('setfattr', ['-n', 'user.overlay.opaque', '-v', 'y', join(dir, `${'long-name-'.repeat(12)}`)]);
        tar = execFileSync('tar', ['--xattrs', '--xattrs-include=user.overlay.*', '--no-recursion', '-C', dir, '-cf', '-', 'plain', 'marked', 'file', `${'long-name-'.repeat(12)}`]);
      } catch {
        // No setfattr here: a stream written by hand with the same records.
        tar = handMadeTar();
        expect(opaqueInTar(tar)).toEqual(['marked']);
        return;
      }
      expect(opaqueInTar(tar)).toEqual(['marked', `${'long-name-'.repeat(12)}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at the end marker and ignores what is not a directory', () => {
    expect(opaqueInTar(Buffer.alloc(1024))).toEqual([]);
    expect(opaqueInTar(Buffer.alloc(0))).toEqual([]);
  });
});

function header(name: string, type: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 'utf8');
  block.write(size.toString(8).padStart(11, '0'), 124, 'ascii');
  block.write(type, 156, 'ascii');
  block.write('ustar', 257, 'ascii');
  return block;
}

function pax(records: Record<string, string>): Buffer {
  const body = Object.entries(records)
    .map(([key, value]) => {
      const text = ` ${key}=${value}\n`;
      let length = text.length + 1;
      while (`${length}${text}`.length !== length) length++;
      return `${length}${text}`;
    })
    .join('');
  const data = Buffer.from(body);
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return Buffer.concat([header('PaxHeaders/x', 'x', data.length), padded]);
}

function handMadeTar(): Buffer {
  return Buffer.concat([
    header('plain/', '5', 0),
    pax({ 'SCHILY.xattr.user.overlay.opaque': 'y' }),
    header('marked/', '5', 0),
    pax({ 'SCHILY.xattr.user.overlay.opaque': 'y' }),
    header('file', '0', 0),
    Buffer.alloc(1024),
  ]);
}
