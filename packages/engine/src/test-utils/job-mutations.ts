import { TASK_LIMITS, type TaskSpec } from '../model/index.js';
import { signTask, taskSigner } from '../signing/signed-job.js';
import { parsePublicKey, type SigningKey } from '../signing/signing-key.js';

// Malformed job payloads for input fuzzing (issue 12): shared by the unit fuzz of `openSignedJob` and the
// integration fuzz of a real worker. Pure: the same spec gives the same mutations.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Mutation {
  id: string;
  payload: Json;
}

/** Every path to a value of `value` (object keys and array indexes), the root excluded. */
function paths(value: Json, at: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...at, key], ...paths(child, [...at, key])]);
}

function kindOf(value: Json): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** A copy of `root` with the value at `path` replaced (or removed, for `undefined`). */
function replaced(root: Json, path: (string | number)[], value: Json | undefined): Json {
  const copy = structuredClone(root) as Record<string | number, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value !== undefined) node[last] = value;
  else if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
  return copy;
}

/** Over every field's own limit (the largest is 1 MiB); the whole payload's limit gets a case of its own. */
const OVERSIZED = 'x'.repeat(TASK_LIMITS.instructionsBytes + 1);
export const HUGE = 'x'.repeat(TASK_LIMITS.payloadBytes + 1);

/** Values of every JSON type, each standing for a family of wrong input. */
const WRONG_VALUES: { label: string; value: Json }[] = [
  { label: 'null', value: null },
  { label: 'true', value: true },
  { label: '-1', value: -1 },
  { label: 'a float', value: 1.5 },
  { label: '1e308', value: 1e308 },
  { label: 'an empty string', value: '' },
  { label: 'control characters', value: 'bad\u001b[31m\u0007\u0000' },
  { label: 'an option', value: '--upload-pack=touch /tmp/tsk-fuzz-pwned' },
  { label: 'a path outside', value: '../../../../etc/passwd' },
  { label: 'an array', value: ['x'] },
  { label: 'an object', value: { __proto__: 'x', constructor: 'y' } as unknown as Json },
];

/** Every malformed variant of `spec` the generator makes. */
export function mutations(spec: Json): Mutation[] {
  const out: Mutation[] = [];
  for (const path of paths(spec)) {
    const name = path.join('.');
    const original = path.reduce<Json>((node, key) => (node as Record<string | number, Json>)[key]!, spec);
    // Removing an element of a list can leave a valid list (fewer env entries): only fields are required.
    if (typeof path[path.length - 1] === 'string') out.push({ id: `${name} missing`, payload: replaced(spec, path, undefined) });
    for (const wrong of WRONG_VALUES) {
      if (kindOf(wrong.value) === kindOf(original) && kindOf(original) !== 'string') continue;
      out.push({ id: `${name} = ${wrong.label}`, payload: replaced(spec, path, wrong.value) });
    }
    out.push({ id: `${name} oversized`, payload: replaced(spec, path, typeof original === 'string' || original === null ? OVERSIZED : Array.from({ length: 10_000 }, () => original)) });
    if (original !== null && typeof original === 'object' && !Array.isArray(original)) {
      out.push({ id: `${name} with an unknown field`, payload: replaced(spec, [...path, 'privileged'], true) });
    }
  }
  out.push({ id: 'an unknown top-level field', payload: { ...(spec as Record<string, Json>), privileged: true } });
  out.push({ id: 'a payload over its limit', payload: { ...(spec as Record<string, Json>), instructions: HUGE } });
  return out;
}

/** The ways a job carries a payload: as each signer would queue it. */
export function jobsOf(payload: Json, owner: SigningKey, stranger: SigningKey): { how: string; job: unknown }[] {
  const text = JSON.stringify(payload);
  const unsigned = [
    { how: 'unsigned', job: payload },
    { how: 'unsigned v2', job: { version: 2, spec: text, signature: '' } },
  ];
  const claimed = (payload as Record<string, Json>).signer;
  // A signature binds the signer's key: a signer that is not an object with a key cannot be signed for.
  if (claimed === null || typeof claimed !== 'object' || Array.isArray(claimed) || typeof claimed.key !== 'string' || parsePublicKey(claimed.key) === undefined) return unsigned;
  const signedBy = (key: SigningKey) => {
    // signTask signs the spec's JSON text: a payload that is not a spec is signed the same way, and
    // keeps the name it claims.
    const spec = { ...(payload as object), signer: { ...claimed, key: key.publicKey } } as unknown as TaskSpec;
    return signTask(spec, key).job;
  };
  const owned = signedBy(owner);
  return [
    ...unsigned,
    { how: 'signed by a stranger', job: signedBy(stranger) },
    { how: 'signed by the owner', job: owned },
    { how: 'altered after signing', job: { ...owned, spec: owned.spec.replace('"name":"', '"name":"x') } },
    { how: 'with a field outside the signature', job: { ...owned, priority: 1 } },
  ];
}

