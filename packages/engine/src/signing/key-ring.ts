import { readFile } from 'node:fs/promises';
import { TrustError } from '../errors/index.js';
import { checkKeyName, parsePublicKey, type SigningKey } from './signing-key.js';

/** A key a worker runs jobs of, with the name its owner gave it. */
export interface TrustedSigner {
  name: string;
  publicKey: string;
  /** The worker owner's own key: its jobs may ask of the machine what `tsk run` may. */
  owner: boolean;
}

/** A public key and a name, as written in `[worker] trusted_keys` or a trusted-keys file. */
export interface TrustedKeyEntry {
  name: string;
  key: string;
}

/**
 * The keys a worker (or `tsk retry`) trusts: its owner's own key, and the teammates' keys of `[worker]
 * trusted_keys` and `trusted_keys_file`. Lookups are by public key; the name shown is always the one
 * given here, never the one a job claims for itself.
 */
export class KeyRing {
  private readonly byKey: Map<string, TrustedSigner>;

  constructor(
    readonly owner: TrustedSigner,
    others: readonly TrustedSigner[] = [],
  ) {
    this.byKey = new Map(others.map((signer) => [signer.publicKey, { ...signer, owner: false }]));
    // The owner's key is the owner's even when it is also listed among the others.
    this.byKey.set(owner.publicKey, { ...owner, owner: true });
  }

  /** A ring that trusts only `key`'s owner. */
  static ownerOnly(key: Pick<SigningKey, 'name' | 'publicKey'>): KeyRing {
    return new KeyRing({ name: key.name, publicKey: key.publicKey, owner: true });
  }

  find(publicKey: string): TrustedSigner | undefined {
    const normal = parsePublicKey(publicKey);
    return normal === undefined ? undefined : this.byKey.get(normal);
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** One trusted key, checked; `where` names the file and entry for the message. */
export function trustedSigner(entry: TrustedKeyEntry, where: string): TrustedSigner {
  const publicKey = parsePublicKey(entry.key);
  if (publicKey === undefined) {
    throw new TrustError(`${where}: "${entry.key.slice(0, 60)}" is not a tsk public key`, { hint: 'copy the line `tsk key show` prints' });
  }
  try {
    return { name: checkKeyName(entry.name), publicKey, owner: false };
  } catch (error) {
    throw new TrustError(`${where}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Parse a trusted-keys file: one key per line, `ed25519:<base64> <name>` (what `tsk key show` prints);
 * blank lines and `#` comments are skipped.
 */
export function parseTrustedKeys(text: string, file: string): TrustedSigner[] {
  const signers: TrustedSigner[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [key = '', name = '', ...rest] = line.split(/\s+/);
    const where = `${file}:${index + 1}`;
    if (name === '' || rest.length > 0) throw new TrustError(`${where}: expected "<key> <name>"`, { hint: 'copy the line `tsk key show` prints' });
    signers.push(trustedSigner({ key, name }, where));
  });
  return signers;
}

export interface KeyRingSources {
  /** `[worker] trusted_keys`. */
  trustedKeys: readonly TrustedKeyEntry[];
  /** `[worker] trusted_keys_file` (absolute). */
  trustedKeysFile: string | undefined;
  /** Where `trusted_keys` was read, for messages. */
  configFile: string;
}

/** The worker owner's ring: `owner` plus the configured teammates' keys. @throws TrustError for a bad entry or file. */
export async function loadKeyRing(owner: Pick<SigningKey, 'name' | 'publicKey'>, sources: KeyRingSources): Promise<KeyRing> {
  const others = sources.trustedKeys.map((entry, index) => trustedSigner(entry, `${sources.configFile}: worker.trusted_keys[${index}]`));
  if (sources.trustedKeysFile !== undefined) {
    let text: string;
    try {
      text = await readFile(sources.trustedKeysFile, 'utf8');
    } catch (error) {
      throw new TrustError(`cannot read trusted keys file ${sources.trustedKeysFile}`, { cause: error, hint: `check [worker] trusted_keys_file in ${sources.configFile}` });
    }
    others.push(...parseTrustedKeys(text, sources.trustedKeysFile));
  }
  return new KeyRing({ name: owner.name, publicKey: owner.publicKey, owner: true }, others);
}
