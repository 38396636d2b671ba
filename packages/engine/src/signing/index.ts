export {
  createSigningKey,
  ensureSigningKey,
  loadSigningKey,
  signingKeyFile,
  parsePublicKey,
  shortKey,
  checkKeyName,
  defaultKeyName,
  type SigningKey,
} from './signing-key.js';
export { KeyRing, loadKeyRing, parseTrustedKeys, trustedSigner, type TrustedSigner, type TrustedKeyEntry, type KeyRingSources } from './key-ring.js';
export { signTask, openSignedJob, peekJob, taskSigner, type SignedJob, type SignedTask, type VerifiedTask } from './signed-job.js';
export { signResult, verifyResult, type ResultClaim, type ResultSignature } from './signed-result.js';
