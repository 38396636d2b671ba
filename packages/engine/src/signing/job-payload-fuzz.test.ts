import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TskError } from '../errors/index.js';
import type { TaskSpec } from '../model/index.js';
import { taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { KeyRing } from './key-ring.js';
import { HUGE, jobsOf, mutations, type Json } from '../test-utils/job-mutations.js';
import { openSignedJob, signTask, taskSigner } from './signed-job.js';
import { createSigningKey, type SigningKey } from './signing-key.js';

// Input fuzzing of job payloads (issue 12): whatever Redis holds is hostile. From one valid spec, every
// field (nested ones too, found by walking the spec, not listed) is removed, given each wrong type, made
// oversized, and joined by a field tsk does not know; the job is then queued unsigned, signed by the
// owner, signed by a stranger and altered after signing. A worker opens every job with `openSignedJob`
// before anything runs: each must be refused with a TskError of one short printable line, never a
// TypeError from deep inside, and never accepted.

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

/** Mutations that still make a valid task: a string that may be any text, an optional field left out (a detached HEAD has no parentBranch). */
const VALID_ANYWAY = new Set(['parentBranch missing', 'instructions = a path outside', 'instructions = an option', 'instructions = control characters', 'config.stack missing', 'config.setup missing', 'config.squidConf missing']);

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
    for (const { how, job } of jobsOf(mutation.payload, owner, stranger)) {
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
