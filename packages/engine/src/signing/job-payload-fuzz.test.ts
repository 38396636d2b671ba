import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TskError } from '../errors/index.js';
import { TASK_LIMITS, type TaskSpec } from '../model/index.js';
import { taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { KeyRing } from './key-ring.js';
import { openSignedJob, signTask, taskSigner } from './signed-job.js';
import { createSigningKey, parsePublicKey, type SigningKey } from './signing-key.js';

// Input fuzzing of job payloads (issue 12): whatever Redis holds is hostile. From one valid spec, every
// field (nested ones too, found by walking the spec, not listed) is removed, given each wrong type, made
// oversized, and joined by a field tsk does not know; the job is then queued unsigned, signed by the
// owner, signed by a stranger and altered after signing. A worker opens every job with `openSignedJob`
// before anything runs: each must be refused with a TskError of one short printable line, never a
// TypeError from deep inside, and never accepted.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Mutation {
  id: string;
  payload: Json;
}

let dir: string;
let owner: SigningKey;
let stranger: SigningKey;
let ring: KeyRing;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsk-payload-fuzz-'));
  owner = await createSigningKey(join(dir, 'owner'), { name: 'owner' });
  stranger = await createSigningKey(join(dir, 'stranger'), { name: 'stranger' });
  ring = new KeyRing({ name: 'owner', publicKey: owner.publicKey, owner: true });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

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
const HUGE = 'x'.repeat(TASK_LIMITS.payloadBytes + 1);

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
function mutations(spec: Json): Mutation[] {
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

/** Mutations that still make a valid task: a string that may be any text, an optional field left out (a detached HEAD has no parentBranch). */
const VALID_ANYWAY = new Set(['parentBranch missing', 'instructions = a path outside', 'instructions = an option', 'instructions = control characters', 'config.stack missing', 'config.setup missing', 'config.squidConf missing']);

/** The ways a job carries a payload: as each signer would queue it. */
function jobsOf(payload: Json): { how: string; job: unknown }[] {
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

/** What is wrong with how `openSignedJob` treated `job`; undefined when it refused it cleanly. */
function problemOf(job: unknown, mayPass: boolean): string | undefined {
  let error: unknown;
  try {
    openSignedJob(job, ring, 'Abc_1234');
  } catch (caught) {
    error = caught;
  }
  if (error === undefined) return mayPass ? undefined : 'accepted';
  if (!(error instanceof TskError)) return `threw ${(error as Error).name}: ${(error as Error).message}`;
  const line = error.userMessage;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(line)) return `message has control characters: ${JSON.stringify(line.slice(0, 200))}`;
  if (line.length > 4_000) return `message of ${line.length} characters`;
  return undefined;
}

it('refuses every malformed job payload, signed or not, with one short line', () => {
  const spec = taskSpecFixture({ signer: taskSigner(owner) }) as unknown as Json;
  // The generator's baseline: the unmutated spec, signed by the owner, passes.
  expect(problemOf(signTask(spec as unknown as TaskSpec, owner).job, false)).toBe('accepted');
  const failures: string[] = [];
  let tried = 0;
  for (const mutation of mutations(spec)) {
    for (const { how, job } of jobsOf(mutation.payload)) {
      tried += 1;
      // Only the owner's unaltered signature can make a job pass, and only with a valid spec.
      const mayPass = how === 'signed by the owner' && VALID_ANYWAY.has(mutation.id);
      const problem = problemOf(job, mayPass);
      if (problem !== undefined) failures.push(`${mutation.id}, ${how}: ${problem}`);
    }
  }
  // Not JSON objects at all.
  for (const job of [null, 'job', 42, [], { version: 2, spec: '{', signature: 'x' }, { version: 2, spec: HUGE, signature: 'x' }]) {
    tried += 1;
    const problem = problemOf(job, false);
    if (problem !== undefined) failures.push(`${JSON.stringify(job).slice(0, 60)}: ${problem}`);
  }
  console.log(`job payload fuzz: ${tried} cases tried, ${failures.length} failed`);
  expect(failures, `${failures.length} of ${tried} cases failed:\n${failures.join('\n')}`).toEqual([]);
}, 120_000);
