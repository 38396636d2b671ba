import { describe, expect, it } from 'vitest';
import { QueueError } from '../errors/index.js';
import { connectRedis, redactRedisUrl } from './redis-connection.js';
import { passwordFromArgs, redisImagePlan, redisServerArgs } from './redis-image.js';

describe('redactRedisUrl', () => {
  it('hides passwords and keeps everything else', () => {
    expect(redactRedisUrl('redis://:s3cret@host:6379/2')).toBe('redis://:***@host:6379/2');
    expect(redactRedisUrl('rediss://user:pw@redis.example.com:6380')).toBe('rediss://user:***@redis.example.com:6380');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('connectRedis', () => {
  it('fails fast with one QueueError naming the (redacted) URL when nothing listens', async () => {
    const error = await connectRedis({ url: 'redis://:pw@127.0.0.1:1', purpose: 'cli' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueError);
    expect((error as QueueError).message).toMatch(/^Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});

describe('embedded Redis image', () => {
  it('installs Debian’s redis-server on the base image and tags by content', () => {
    const plan = redisImagePlan('debian:bookworm-slim');
    expect(plan.dockerfile).toMatch(/^FROM debian:bookworm-slim\n/);
    expect(plan.dockerfile).toContain('apt-get install -y --no-install-recommends redis-server');
    expect(plan.tag).toMatch(/^tsk\/redis:[0-9a-f]{12}$/);
    expect(redisImagePlan('debian:bookworm-slim').tag).toBe(plan.tag);
    expect(redisImagePlan('debian:trixie-slim').tag).not.toBe(plan.tag);
  });

  it('runs with persistence on, noeviction and a password it can be read back from', () => {
    const args = redisServerArgs('pw123');
    expect(args.join(' ')).toContain('--appendonly yes');
    expect(args.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(passwordFromArgs(args)).toBe('pw123');
    expect(passwordFromArgs([])).toBeUndefined();
  });
});
