import type Dockerode from 'dockerode';
import type { EnvVar, VolumeMount } from '../config/resolved-config.js';
import type { AgentMount } from '../agents/agent.js';
import { INSTRUCTIONS_PATH } from '../agents/agent.js';

/** Labels that let any worker find what a task or a worker left behind. */
export const LABEL_TASK = 'tsk.task';
export const LABEL_WORKER = 'tsk.worker';
export const LABEL_MANAGED = 'tsk.managed';

/**
 * Capabilities a sandbox never has. We drop ALL (the agent runs as a non-root user and needs none);
 * this list is what SPEC §5 requires at least, kept to check the result against.
 */
export const REQUIRED_DROPPED_CAPS = [
  'NET_ADMIN', 'NET_RAW', 'SYS_ADMIN', 'SYS_PTRACE', 'SETUID', 'SETGID', 'DAC_OVERRIDE', 'SETPCAP', 'AUDIT_WRITE',
] as const;

/** How the sandbox reaches the network: its Docker network mode and the variables that point at a proxy. */
export interface SandboxNetwork {
  /** `none`, `bridge`, or the name of the task's internal network. */
  networkMode: string;
  env: EnvVar[];
}

export interface SandboxSpecOptions {
  taskId: string;
  workerName: string;
  image: string;
  project: string;
  /** Host directory of the task's repository clone, mounted read-write at `/workspace/<project>`. */
  workspaceDir: string;
  /** Host path of the rendered instructions, mounted read-only at {@link INSTRUCTIONS_PATH}. */
  instructionsFile: string;
  command: string[];
  env: EnvVar[];
  agentMounts: AgentMount[];
  volumes: VolumeMount[];
  devices: string[];
  memoryGb: number;
  /** Already clamped to what the engine has. */
  cpus: number;
  network: SandboxNetwork;
  /** Attach a TTY and stdin (interactive `tsk shell`). @defaultValue false */
  interactive?: boolean;
  /** @defaultValue 4096 */
  pidsLimit?: number;
}

/** Container name of a task: `tsk-<id>`. */
export function sandboxName(taskId: string): string {
  return `tsk-${taskId}`;
}

function volumeBind(volume: VolumeMount): string {
  const source = volume.kind === 'bind' ? volume.host : volume.name;
  return `${source}:${volume.container}${volume.readonly ? ':ro' : ''}`;
}

/**
 * Docker create options for a task sandbox (pure). Hardened by default: every capability dropped,
 * no-new-privileges, a pids limit, memory and CPU limits, non-root user `agent`.
 */
export function buildSandboxSpec(options: SandboxSpecOptions): Dockerode.ContainerCreateOptions {
  const workdir = `/workspace/${options.project}`;
  const env = [...options.env, ...options.network.env].map(({ name, value }) => `${name}=${value}`);
  const interactive = options.interactive ?? false;
  return {
    name: sandboxName(options.taskId),
    Image: options.image,
    User: 'agent',
    WorkingDir: workdir,
    Cmd: options.command,
    Env: env,
    Hostname: `tsk-${options.taskId.toLowerCase().replace(/_/g, '-')}`,
    Labels: { [LABEL_TASK]: options.taskId, [LABEL_WORKER]: options.workerName, [LABEL_MANAGED]: 'true' },
    Tty: interactive,
    OpenStdin: interactive,
    StdinOnce: interactive,
    AttachStdin: interactive,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Binds: [
        `${options.workspaceDir}:${workdir}`,
        `${options.instructionsFile}:${INSTRUCTIONS_PATH}:ro`,
        ...options.agentMounts.map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`),
        ...options.volumes.map(volumeBind),
      ],
      Devices: options.devices.map((device) => ({ PathOnHost: device, PathInContainer: device, CgroupPermissions: 'rwm' })),
      Memory: Math.round(options.memoryGb * 1024 ** 3),
      NanoCpus: Math.round(options.cpus * 1e9),
      PidsLimit: options.pidsLimit ?? 4096,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      NetworkMode: options.network.networkMode,
      Init: true,
      AutoRemove: false,
      // tsk reads the output through attach. Docker's default json-file log would keep another copy of
      // it, without a limit, on the Docker host's disk for as long as the container exists.
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}
