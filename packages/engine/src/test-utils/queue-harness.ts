import { execFileSync } from 'node:child_process';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDocker, DEFAULT_BASE_IMAGE, ImageBuilder, type Dockerode } from '../docker/index.js';
import { silentSink } from '../logging/index.js';
import type { AgentName } from '../model/index.js';
import { DirectNetworkProvider } from '../proxy/index.js';
import { connectRedis, TaskQueue, type RedisPurpose } from '../queue/index.js';
import { TaskRunner } from '../runner/task-runner.js';
import { createSigningKey, KeyRing, signTask, taskSigner, type SignedTask, type SigningKey, type TrustedSigner } from '../signing/index.js';
import { createTaskSpec } from '../tasks/index.js';
import type { WorkerPolicy } from '../config/index.js';
import { RunLedger, TaskWorker, type TaskExecutor, type WorkerEvent, type WorkerTiming } from '../worker/index.js';
import { rawJobQueue } from './queue-internals.js';
import { startTestRedis, type TestRedis } from './redis-container.js';
import { workerPolicyFixture } from './task-spec-fixture.js';

/** Short intervals so lost workers and cancels are noticed within seconds in tests. */
export const FAST_TIMING: Partial<WorkerTiming> = {
  heartbeatIntervalMs: 500,
  heartbeatTtlMs: 2000,
  reapIntervalMs: 500,
  cancelPollMs: 500,
  lockDurationMs: 5000,
  stalledIntervalMs: 2000,
};

export const STRICT_POLICY: WorkerPolicy = workerPolicyFixture();

/** The project name every test task uses, so the sandbox image is built once. */
const PROJECT = 'tsk-queue-int';

/**
 * Everything a queue integration test needs: a real Redis (testcontainers), the real Docker engine,
 * an isolated tsk home, and a git repository. Each test opens queues in its own namespace.
 */
export class QueueHarness {
  readonly docker: Dockerode = createDocker();
  readonly home: string;
  readonly repo: string;
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  readonly images: ImageBuilder;
  private readonly closers: (() => Promise<unknown>)[] = [];

  private constructor(
    readonly redis: TestRedis,
    /** The key of the user who queues and owns the workers (as `tsk add` and `tsk server start` make it). */
    readonly key: SigningKey,
    private readonly keyDir: string,
  ) {
    this.home = realpathSync(mkdtempSync(join(tmpdir(), 'tsk-queue-home-')));
    this.env = {
      ...process.env,
      TSK_CONFIG_HOME: join(this.home, 'config'),
      TSK_DATA_HOME: join(this.home, 'data'),
      TSK_RUNTIME_DIR: join(this.home, 'run'),
      // This home (and the lock folder that would sweep a warm proxy) goes with the test: no proxy outlives it.
      TSK_PROXY_IDLE_TIMEOUT: '0',
    };
    this.dataDir = join(this.home, 'data', 'tsk');
    mkdirSync(join(this.home, 'locks'), { recursive: true });
    this.images = new ImageBuilder(this.docker, { lockDir: join(this.home, 'locks') });
    this.repo = join(this.home, 'repo');
    mkdirSync(this.repo);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: this.repo, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('config', 'user.name', 'Test User');
    git('config', 'user.email', 'test@example.com');
    writeFileSync(join(this.repo, 'README.md'), '# queue test\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'initial');
  }

  static async start(): Promise<QueueHarness> {
    const redis = await startTestRedis();
    const keyDir = mkdtempSync(join(tmpdir(), 'tsk-queue-key-'));
    return new QueueHarness(redis, await createSigningKey(keyDir, { name: 'owner' }), keyDir);
  }

  /** A queue in `namespace` on a connection of its own. */
  async openQueue(namespace: string, purpose: RedisPurpose = 'cli'): Promise<TaskQueue> {
    const redis = await connectRedis({ url: this.redis.url(), purpose });
    const queue = new TaskQueue({ connection: redis, namespace });
    this.closers.push(async () => {
      await queue.close();
      redis.disconnect();
    });
    return queue;
  }

  /**
   * What an observer or attacker with access to Redis has on `namespace`: BullMQ's raw handle on the queue
   * and the connection itself (see `queue-internals.ts`).
   */
  async raw(namespace: string): Promise<{ jobs: ReturnType<typeof rawJobQueue>; connection: Redis }> {
    const connection = await connectRedis({ url: this.redis.url(), purpose: 'cli' });
    const jobs = rawJobQueue(connection, namespace);
    this.closers.push(async () => {
      await jobs.close();
      connection.disconnect();
    });
    return { jobs, connection };
  }

  /** A fresh namespace: tests never see each other's tasks. */
  namespace(): string {
    return `t${randomBytes(4).toString('hex')}`;
  }

  /** A task as `tsk add` makes and signs it (with `key`, the owner's by default), for the script agent by default. */
  async task(prompt: string, options: { name?: string; parent?: string; agent?: AgentName; key?: SigningKey } = {}): Promise<SignedTask> {
    const key = options.key ?? this.key;
    const spec = await createTaskSpec({
      repoPath: this.repo,
      name: options.name ?? 'task',
      prompt,
      agent: options.agent ?? 'script',
      project: PROJECT,
      parentTaskId: options.parent,
      env: this.env,
      log: silentSink,
      signer: taskSigner(key),
    });
    return signTask(spec, key);
  }

  runner(workerName: string): TaskRunner {
    return new TaskRunner({ docker: this.docker, images: this.images, network: new DirectNetworkProvider(), dataDir: this.dataDir, workerName });
  }

  /** Start an in-process worker on its own `worker` connection, owned by {@link key}. */
  async startWorker(
    namespace: string,
    options: {
      concurrency?: number;
      name?: string;
      executor?: TaskExecutor;
      policy?: WorkerPolicy;
      events?: WorkerEvent[];
      trusted?: TrustedSigner[];
      startIntervalMs?: number;
      /** @defaultValue the harness's one ledger (one machine) */
      ledger?: RunLedger;
    } = {},
  ): Promise<TaskWorker> {
    const queue = await this.openQueue(namespace, 'worker');
    const name = options.name ?? `w-${randomBytes(3).toString('hex')}`;
    const worker = new TaskWorker({
      queue: queue.forWorker(),
      docker: this.docker,
      executor: options.executor ?? this.runner(name),
      name,
      concurrency: options.concurrency ?? 1,
      trust: {
        key: this.key,
        ring: new KeyRing({ name: this.key.name, publicKey: this.key.publicKey, owner: true }, options.trusted ?? []),
        policy: options.policy ?? STRICT_POLICY,
        remote: undefined,
        baseImage: DEFAULT_BASE_IMAGE,
        environment: process.env,
        ownerHome: this.home,
        ledger: options.ledger ?? new RunLedger(join(this.dataDir, 'ledger')),
      },
      dataDir: this.dataDir,
      timing: FAST_TIMING,
      startIntervalMs: options.startIntervalMs,
      onEvent: (event) => options.events?.push(event),
    });
    await worker.start();
    // Closers run in reverse: the worker stops before its queue's connection closes.
    this.closers.push(() => worker.stop({ graceMs: 0 }));
    return worker;
  }

  /** Build the sandbox image once, outside any timing. */
  async warmUp(): Promise<void> {
    const { spec } = await this.task('true', { name: 'warm-up' });
    await this.runner('warm-up').run(spec, { log: silentSink });
  }

  /** Ids of a task's containers, running or not. */
  containersOf(taskId: string): string[] {
    return execFileSync('docker', ['ps', '-aq', '--filter', `label=tsk.task=${taskId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  }

  /** Stop everything started since the last call (workers first), keeping Redis. */
  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.closeAll();
    await this.redis.stop();
    rmSync(this.home, { recursive: true, force: true });
    rmSync(this.keyDir, { recursive: true, force: true });
  }
}
