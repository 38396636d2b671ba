import type { ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** Hand our ioredis client to BullMQ (the engine pins the ioredis version BullMQ itself depends on). */
export function bullConnection(redis: Redis): ConnectionOptions {
  return redis;
}
