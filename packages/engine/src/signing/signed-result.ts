import type { KeyRing, TrustedSigner } from './key-ring.js';
import { signBytes, verifyBytes, type SigningKey } from './signing-key.js';

/**
 * What a worker vouches for when a task ends: the commit it started from and, when it made changes, the
 * result commit and branch. A chained task starts from this, so it is signed by the worker that ran the
 * parent and checked by the worker that runs the child: a record rewritten in Redis cannot send a child
 * to another commit.
 */
export interface ResultClaim {
  taskId: string;
  status: 'COMPLETE' | 'FAILED' | 'CANCELLED';
  baseCommit: string | undefined;
  commit: string | undefined;
  branch: string | undefined;
}

/** A claim's signature and the public key that made it, as stored on the task record. */
export interface ResultSignature {
  signature: string;
  signer: string;
}

const RESULT_DOMAIN = 'tsk-result-v1\n';

function claimBytes(claim: ResultClaim): Buffer {
  const fields = [claim.taskId, claim.status, claim.baseCommit ?? '', claim.commit ?? '', claim.branch ?? ''];
  return Buffer.from(RESULT_DOMAIN + JSON.stringify(fields), 'utf8');
}

export function signResult(claim: ResultClaim, key: SigningKey): ResultSignature {
  return { signature: signBytes(key, claimBytes(claim)), signer: key.publicKey };
}

/** The trusted key that signed `claim`, or undefined when the signature is missing, wrong or not trusted. */
export function verifyResult(claim: ResultClaim, signature: Partial<ResultSignature>, ring: KeyRing): TrustedSigner | undefined {
  if (signature.signature === undefined || signature.signer === undefined) return undefined;
  const signer = ring.find(signature.signer);
  return signer !== undefined && verifyBytes(signer.publicKey, claimBytes(claim), signature.signature) ? signer : undefined;
}
