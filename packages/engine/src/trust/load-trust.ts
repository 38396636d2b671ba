import type { MachineConfig } from '../config/index.js';
import { ensureSigningKey, loadKeyRing, type KeyRing, type SigningKey } from '../signing/index.js';

/** This machine user's key and the keys it trusts. */
export interface LocalTrust {
  key: SigningKey;
  ring: KeyRing;
  /** The key was made just now (first use). */
  created: boolean;
}

/**
 * The user's signing key (made on first use: a single-user machine needs no set-up) and the ring of keys
 * this user trusts: their own, and `[worker] trusted_keys` / `trusted_keys_file`.
 */
export async function loadLocalTrust(machine: Pick<MachineConfig, 'configDir' | 'worker' | 'userFile'>): Promise<LocalTrust> {
  const { key, created } = await ensureSigningKey(machine.configDir);
  const ring = await loadKeyRing(key, {
    trustedKeys: machine.worker.trustedKeys,
    trustedKeysFile: machine.worker.trustedKeysFile,
    configFile: machine.userFile,
  });
  return { key, ring, created };
}
