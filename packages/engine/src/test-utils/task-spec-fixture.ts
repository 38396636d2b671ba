import type { TaskConfig, WorkerPolicy } from '../config/index.js';
import type { TaskSpec } from '../model/index.js';

/** A complete, valid task config for tests that do not load configuration. */
export function taskConfigFixture(overrides: Partial<TaskConfig> = {}): TaskConfig {
  return {
    agent: 'script',
    stack: undefined,
    memoryGb: 2,
    cpu: 1,
    setup: undefined,
    stackConfig: {},
    agentConfig: {},
    hostPorts: [],
    env: [],
    envFromWorker: [],
    volumes: [],
    devices: [],
    squidConf: undefined,
    gitTown: false,
    pushBranches: false,
    caCertificates: [],
    baseImage: 'debian:bookworm-slim',
    networkIsolation: true,
    ...overrides,
  };
}

/** A valid spec as `createTaskSpec` makes them (JSON round-tripped, as a job payload is). */
export function taskSpecFixture(overrides: Partial<TaskSpec> = {}): TaskSpec {
  const spec: TaskSpec = {
    version: 2,
    id: 'Abc_1234',
    name: 'demo',
    type: 'generic',
    agent: 'script',
    stack: 'default',
    project: 'demo',
    instructions: 'echo hi',
    repoPath: '/repo',
    source: { kind: 'local', repoPath: '/repo', ref: 'refs/tsk/snapshots/Abc_1234', commit: 'a'.repeat(40) },
    branch: 'tsk/generic/demo/Abc_1234',
    parentBranch: 'main',
    parentTaskId: undefined,
    config: taskConfigFixture(),
    createdAt: '2025-01-01T00:00:00.000Z',
    signer: { name: 'alice@laptop', key: `ed25519:${'A'.repeat(43)}=` },
    ...overrides,
  };
  return JSON.parse(JSON.stringify(spec)) as TaskSpec;
}

/** The `[worker]` policy as a user file without `[worker]` makes it: every setting refused. */
export function workerPolicyFixture(overrides: Partial<WorkerPolicy> = {}): WorkerPolicy {
  return {
    trustedKeys: [],
    trustedKeysFile: undefined,
    allowBindMounts: false,
    allowDevices: false,
    allowPrivileged: false,
    allowNoNetworkIsolation: false,
    allowSquidConf: false,
    allowImageLayers: false,
    hostPorts: [],
    baseImages: [],
    maxMemoryGb: 12,
    maxCpu: 8,
    maxCostUsd: undefined,
    maxTimeoutSeconds: undefined,
    repositories: [],
    shareEnv: [],
    remotes: [],
    teamCredentials: {},
    requeueLost: false,
    labels: [],
    ...overrides,
  };
}
