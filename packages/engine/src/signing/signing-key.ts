import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { chmod, link, lstat, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { errorCode } from '../common/error-code.js';
import { TrustError } from '../errors/index.js';

/** The key a person signs the jobs they queue with: `tsk key init`, kept in their config folder. */
export interface SigningKey {
  /** How the key's owner is shown (`tsk list`'s "By"), e.g. `alice@laptop`. */
  name: string;
  /** `ed25519:<base64 of the 32-byte public key>`: what a worker's owner adds to `trusted_keys`. */
  publicKey: string;
  privateKey: KeyObject;
}

const PREFIX = 'ed25519:';
const RAW_KEY_BYTES = 32;
/** Names end up in `tsk list` and in refusal messages: printable, short, no separators of the key file. */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;

/** Where a user's signing key lives: `<configDir>/signing-key.json`, mode 0600. */
export function signingKeyFile(configDir: string): string {
  return join(configDir, 'signing-key.json');
}

/** `alice@laptop`, made safe for {@link KEY_NAME}. */
export function defaultKeyName(): string {
  const raw = `${safeUser()}@${hostname()}`.replace(/[^A-Za-z0-9._@+-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return (raw || 'tsk-user').slice(0, 64);
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid${process.getuid?.() ?? ''}`;
  }
}

/** Whether `name` can name a key: it is shown in `tsk list` and refusals, and written in key files. */
export function isKeyName(name: string): boolean {
  return KEY_NAME.test(name);
}

/** @throws TrustError unless `name` is a usable key name. */
export function checkKeyName(name: string): string {
  if (!isKeyName(name)) {
    throw new TrustError(`"${name}" is not a usable key name`, { hint: 'use up to 64 letters, digits and . _ @ + -, starting with a letter or digit' });
  }
  return name;
}

function publicKeyText(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new TrustError('the signing key is not an Ed25519 key');
  return PREFIX + Buffer.from(jwk.x, 'base64url').toString('base64');
}

/**
 * A public key as tsk writes it (`ed25519:` and the base64 of 32 bytes), normalised, or undefined when
 * `text` is not one. Used for everything read from configuration, files and jobs.
 */
export function parsePublicKey(text: string): string | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  const body = text.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]{43}=$/.test(body)) return undefined;
  const raw = Buffer.from(body, 'base64');
  return raw.length === RAW_KEY_BYTES ? PREFIX + raw.toString('base64') : undefined;
}

function publicKeyObject(publicKey: string): KeyObject {
  const raw = Buffer.from(publicKey.slice(PREFIX.length), 'base64');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/**
 * A short, stable way to name a key in messages: `ed25519:AbCdEf12…`. The key may be a job's claim: what
 * is not of a key's alphabet shows as `?`, so a message never carries a terminal control from Redis.
 */
export function shortKey(publicKey: string): string {
  return `${publicKey.slice(0, PREFIX.length + 8).replace(/[^A-Za-z0-9:+/=]/g, '?')}…`;
}

/** Ed25519 signature (base64) of `data`. */
export function signBytes(key: SigningKey, data: Buffer): string {
  return sign(null, data, key.privateKey).toString('base64');
}

/** Whether `signature` (base64) is `publicKey`'s signature of `data`. Never throws for malformed input. */
export function verifyBytes(publicKey: string, data: Buffer, signature: string): boolean {
  if (parsePublicKey(publicKey) === undefined || !/^[A-Za-z0-9+/]{86}==$/.test(signature)) return false;
  try {
    return verify(null, data, publicKeyObject(publicKey), Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

interface KeyFile {
  name: string;
  publicKey: string;
  privateKey: string;
}

/**
 * The user's signing key, or undefined when there is none yet. A key file other users can read, or
 * that is not a regular file, is refused as ssh refuses a private key with loose permissions.
 *
 * @throws TrustError naming the file and what to do.
 */
export async function loadSigningKey(configDir: string): Promise<SigningKey | undefined> {
  const file = signingKeyFile(configDir);
  const info = await lstat(file).catch(() => undefined);
  if (info === undefined) return undefined;
  if (!info.isFile()) throw new TrustError(`${file} is not a regular file`, { hint: 'remove it and run `tsk key init`' });
  if ((info.mode & 0o077) !== 0) {
    throw new TrustError(`${file} can be read by other users (mode ${(info.mode & 0o777).toString(8)})`, { hint: `run \`chmod 600 ${file}\`` });
  }
  let parsed: Partial<KeyFile>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<KeyFile>;
  } catch (error) {
    throw new TrustError(`${file} is not a tsk signing key`, { cause: error, hint: 'remove it and run `tsk key init`' });
  }
  if (typeof parsed.name !== 'string' || typeof parsed.privateKey !== 'string') {
    throw new TrustError(`${file} is not a tsk signing key`, { hint: 'remove it and run `tsk key init`' });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(parsed.privateKey);
  } catch (error) {
    throw new TrustError(`${file} holds no readable private key`, { cause: error, hint: 'remove it and run `tsk key init`' });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TrustError(`${file} holds a ${privateKey.asymmetricKeyType ?? 'non-Ed25519'} key, not Ed25519`);
  return { name: checkKeyName(parsed.name), publicKey: publicKeyText(privateKey), privateKey };
}

/**
 * Make a new signing key and write it (mode 0600, its folder 0700 when tsk creates it). Refuses to
 * replace an existing key unless `replace`: jobs signed with the old key would no longer be trusted.
 */
export async function createSigningKey(configDir: string, options: { name?: string; replace?: boolean } = {}): Promise<SigningKey> {
  const file = signingKeyFile(configDir);
  if (!options.replace && (await lstat(file).catch(() => undefined)) !== undefined) {
    throw new TrustError(`a signing key already exists in ${file}`, { hint: 'see it with `tsk key show`; `tsk key init --force` replaces it' });
  }
  const name = checkKeyName(options.name ?? defaultKeyName());
  const { privateKey } = generateKeyPairSync('ed25519');
  const key: SigningKey = { name, publicKey: publicKeyText(privateKey), privateKey };
  const record: KeyFile = { name, publicKey: key.publicKey, privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  // Written under a temporary name, then put in place in one step so a crash never leaves half a key.
  // A new key is linked into place, which fails if another process made one meanwhile: two processes
  // must never each believe their own key is the user's.
  const temp = `${file}.${randomUUID()}.tmp`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  try {
    await chmod(temp, 0o600);
    if (options.replace) await rename(temp, file);
    else await link(temp, file);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') throw new TrustError(`a signing key already exists in ${file}`);
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return key;
}

/** The user's key, made on first use so that a single-user machine needs no set-up. */
export async function ensureSigningKey(configDir: string): Promise<{ key: SigningKey; created: boolean }> {
  const existing = await loadSigningKey(configDir);
  if (existing) return { key: existing, created: false };
  try {
    return { key: await createSigningKey(configDir), created: true };
  } catch (error) {
    // Another tsk process made it at the same moment: use theirs.
    const made = await loadSigningKey(configDir);
    if (made) return { key: made, created: false };
    throw error;
  }
}
