import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_';
const TASK_ID = /^[A-Za-z0-9_]{8}$/;

/** A new task id: 8 characters of [A-Za-z0-9_]; never starts with '-' so it is never read as a flag. */
export function newTaskId(): string {
  const bytes = randomBytes(8);
  let id = '';
  // 256 is a multiple of 64, so `% 63` would bias; rejection keeps the distribution uniform.
  for (let i = 0; id.length < 8; i++) {
    const byte = i < bytes.length ? bytes[i]! : randomBytes(1)[0]!;
    if (byte < 252) id += ALPHABET[byte % 63];
  }
  return id;
}

export function isTaskId(value: string): boolean {
  return TASK_ID.test(value);
}
