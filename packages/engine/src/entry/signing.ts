// `@tsk/engine/signing`: signing keys, key rings and signed jobs and results; no Docker, git or Redis.
export {
  createSigningKey,
  ensureSigningKey,
  loadSigningKey,
  signingKeyFile,
  parsePublicKey,
  shortKey,
  KeyRing,
  signTask,
  openSignedJob,
  peekJob,
  taskSigner,
  signResult,
  type SigningKey,
  type SignedJob,
  type SignedTask,
  type TrustedSigner,
} from '../signing/index.js';
