import { oneLine } from '../common/terminal-text.js';
import { TaskRefusedError } from '../errors/index.js';
import { TASK_LIMITS, TASK_SPEC_VERSION, validateTaskSpec, type TaskSigner, type TaskSpec } from '../model/index.js';
import type { KeyRing, TrustedSigner } from './key-ring.js';
import { shortKey, signBytes, verifyBytes, type SigningKey } from './signing-key.js';

/**
 * A task as it travels through the queue: the spec's exact JSON text and its signer's signature of it.
 * Signing the text (not a re-serialisation of it) means no canonical JSON is needed: what the worker
 * verifies is byte for byte what the producer signed.
 */
export interface SignedJob {
  version: typeof TASK_SPEC_VERSION;
  spec: string;
  /** Ed25519 signature (base64) of {@link JOB_DOMAIN} followed by `spec`. */
  signature: string;
}

/** A spec and its signed job, as `tsk add` queues them. */
export interface SignedTask {
  spec: TaskSpec;
  job: SignedJob;
}

/** A job whose signature, signer and contents have all been checked. */
export interface VerifiedTask {
  spec: TaskSpec;
  /** As this worker knows the key (its name from the key ring, not the one the job claims). */
  signer: TrustedSigner;
  job: SignedJob;
}

/** Prefix of every signed job, so no other signature tsk makes (a result's) can pass for a job's. */
const JOB_DOMAIN = 'tsk-job-v2\n';

/** The signer part of a spec for `key`. */
export function taskSigner(key: Pick<SigningKey, 'name' | 'publicKey'>): TaskSigner {
  return { name: key.name, key: key.publicKey };
}

/** Sign a spec (whose `signer` must be `key`'s) for the queue. */
export function signTask(spec: TaskSpec, key: SigningKey): SignedTask {
  if (spec.signer.key !== key.publicKey) throw new Error(`task ${spec.id} names another signer than the key signing it`);
  const text = JSON.stringify(spec);
  return { spec, job: { version: TASK_SPEC_VERSION, spec: text, signature: signBytes(key, Buffer.from(JOB_DOMAIN + text, 'utf8')) } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a job claims about itself before anything is verified: for messages and for `tsk list` only. */
export function peekJob(data: unknown): { spec: Record<string, unknown> | undefined; legacy: boolean } {
  if (!isObject(data)) return { spec: undefined, legacy: false };
  // Version 1 payloads were the spec itself, unsigned.
  if (data.version === 1 && typeof data.id === 'string') return { spec: data, legacy: true };
  if (typeof data.spec !== 'string' || data.spec.length > TASK_LIMITS.payloadBytes) return { spec: undefined, legacy: false };
  try {
    const parsed: unknown = JSON.parse(data.spec);
    return { spec: isObject(parsed) ? parsed : undefined, legacy: false };
  } catch {
    return { spec: undefined, legacy: false };
  }
}

/**
 * Open a job for running: refuse it unless it is signed by a key in `ring` and unaltered since, then
 * check its spec completely ({@link validateTaskSpec}). Everything happens on the job's data alone: no
 * file, git or Docker operation is involved.
 *
 * @throws TaskRefusedError (unsigned or older format, unknown key, bad signature), TaskPayloadError (the
 *   signed spec is malformed)
 */
export function openSignedJob(data: unknown, ring: KeyRing, jobId: string): VerifiedTask {
  const refuse = (reason: string, hint?: string): never => {
    throw new TaskRefusedError(jobId, reason, hint === undefined ? undefined : { hint });
  };
  if (!isObject(data)) return refuse('the job is not a tsk task');
  if (data.version === 1) return refuse('it was queued by an older tsk and is not signed', `run \`tsk retry ${jobId}\` to queue it again`);
  if (data.version !== TASK_SPEC_VERSION || typeof data.spec !== 'string' || typeof data.signature !== 'string') {
    return refuse('the job is not a signed tsk task (unsigned or unknown format)');
  }
  if (Object.keys(data).length !== 3) return refuse('the job carries fields outside its signature');
  if (Buffer.byteLength(data.spec, 'utf8') > TASK_LIMITS.payloadBytes) return refuse(`the job is larger than ${TASK_LIMITS.payloadBytes} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.spec);
  } catch {
    return refuse('the job’s spec is not JSON');
  }
  const claimed = isObject(parsed) && isObject(parsed.signer) ? parsed.signer : undefined;
  const key = typeof claimed?.key === 'string' ? claimed.key : '';
  const signer = ring.find(key);
  if (signer === undefined) {
    // The name is the job's claim: one printable line of it.
    const who = typeof claimed?.name === 'string' ? ` (it calls itself "${oneLine(claimed.name.slice(0, 64))}")` : '';
    return refuse(
      key ? `it is signed by a key this worker does not trust: ${shortKey(key)}${who}` : 'it names no signer',
      'to accept that person’s tasks, add the line `tsk key show` prints on their machine to [worker] trusted_keys',
    );
  }
  if (!verifyBytes(signer.publicKey, Buffer.from(JOB_DOMAIN + data.spec, 'utf8'), data.signature)) {
    return refuse(`its signature does not match: the job was altered after ${signer.name} signed it`);
  }
  const spec = validateTaskSpec(parsed, jobId);
  return { spec, signer, job: { version: TASK_SPEC_VERSION, spec: data.spec, signature: data.signature } };
}
