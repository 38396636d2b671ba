import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisImagePlan } from '@tsk/engine';
import { describe, expect, it } from 'vitest';
// The embedded Redis's arguments: exported by the queue, not by the engine's public API.
import { redisServerArgs } from '../../../engine/src/queue/index.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

describe("docker-compose.yml's Redis is tsk's embedded Redis", () => {
  it('builds the same image (packages/worker/redis/Dockerfile) from the base image', () => {
    const instructions = read('packages/worker/redis/Dockerfile')
      .split('\n')
      .filter((line) => !line.startsWith('#') && !line.startsWith('ARG BASE_IMAGE='))
      .join('\n')
      .replace('FROM ${BASE_IMAGE}', 'FROM debian:trixie-slim');
    expect(instructions).toBe(redisImagePlan('debian:trixie-slim').dockerfile);
  });

  it('runs it with the same arguments: append-only, noeviction, the password', () => {
    const compose = read('docker-compose.yml');
    const redis = compose.slice(compose.indexOf('\n  redis:'), compose.indexOf('\n  worker:'));
    const command = /\n {4}command:\n((?: {6}- .*\n)+)/.exec(redis)?.[1] ?? '';
    const args = command
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace(/^ {6}- /, '').replace(/^"(.*)"$/, '$1'));
    const password = args.at(-1) ?? '';
    expect(password).toMatch(/^\$\{TSK_REDIS_PASSWORD:\?/);
    expect(args).toEqual(redisServerArgs(password));
  });
});
