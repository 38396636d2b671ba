import type Dockerode from 'dockerode';
import type { EnvVar, VolumeMount } from '../config/resolved-config.js';
import { BRIDGE_SCRIPT_PATH, GATEWAY_SOCKET_PATH } from '../agent-api/bridge.js';
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

/** How the sandbox, and the builds of its image, reach the network. */
export interface SandboxNetwork {
  /** `none`, `bridge`, or the name of the task's internal network. */
  networkMode: string;
  /** Variables that point at the proxy. */
  env: EnvVar[];
  /**
   * Name resolution of an isolated sandbox. `server` is the only DNS server the engine's own resolver
   * (127.0.0.11) may forward to: an address on the sandbox's network that answers no DNS. Docker before 26
   * forwarded an internal network's lookups to the host's resolvers (CVE-2024-29018), so names could leak
   * through DNS; pinning the forwarder closes that on every engine. The sandbox itself resolves only
   * `hosts` (its proxy) and asks no DNS server at all, so a tool that ignores the proxy fails at once
   * instead of waiting out a resolver timeout.
   * @defaultValue the engine's DNS, for a sandbox with isolation off
   */
  resolver?: { server: string; hosts: Record<string, string> };
  /** Where image builds for this task run, and the build arguments that send them through the proxy. */
  build: { networkMode: string; args: Record<string, string> };
}

export interface SandboxSpecOptions {
  taskId: string;
  workerName: string;
  image: string;
  project: string;
  /** Host directory of the task's repository clone, mounted read-write at `/workspace/<project>`. */
  workspaceDir: string;
  /**
   * A copy-on-write workspace: this Docker volume (an overlay of a shared base and the task's layer, see
   * `workspace-volume.ts`) is mounted at `/workspace/<project>` instead of `workspaceDir`.
   */
  workspaceVolume?: string;
  /** Host folders mounted read-only at the same path: the origin's objects a copy-on-write base borrows. */
  readOnlyPaths?: string[];
  /** Host path of the rendered instructions, mounted read-only at {@link INSTRUCTIONS_PATH}. */
  instructionsFile: string;
  command: string[];
  env: EnvVar[];
  /**
   * Host paths (the task's own copies of what the agent needs to authenticate) mounted at paths of the
   * sandbox user's home: `{ '.claude': '/data/tasks/x/home/.claude' }`. Never the user's own files.
   */
  homeMounts: Record<string, string>;
  volumes: VolumeMount[];
  devices: string[];
  memoryGb: number;
  /** Already clamped to what the engine has. */
  cpus: number;
  network: SandboxNetwork;
  /**
   * Host path of the resolv.conf mounted over the sandbox's own when `network.resolver` is set (see
   * {@link SANDBOX_RESOLV_CONF}).
   */
  resolvConfFile?: string;
  /**
   * The agent API gateway's unix socket and the bridge script that serves it inside the sandbox, mounted
   * at {@link GATEWAY_SOCKET_PATH} and (read-only) {@link BRIDGE_SCRIPT_PATH}.
   */
  agentApi?: { socket: string; bridgeScript: string };
  /** Attach a TTY and stdin (interactive `tsk shell`). @defaultValue false */
  interactive?: boolean;
  /** @defaultValue 4096 */
  pidsLimit?: number;
}

/** Container name of a task: `tsk-<id>`. */
export function sandboxName(taskId: string): string {
  return `tsk-${taskId}`;
}

/** What an isolated sandbox's /etc/resolv.conf says: ask nobody (nothing listens on its own loopback). */
export const SANDBOX_RESOLV_CONF = '# tsk: this sandbox resolves names only from /etc/hosts\nnameserver 127.0.0.1\noptions attempts:1 timeout:1\n';

/** Where the sandbox user's home is (set by the base image layer). */
export const SANDBOX_HOME = '/home/agent';

/**
 * A configured volume as a structured mount. Structured, not a `source:target` bind string: a string is
 * parsed by the engine, so a "named volume" whose name is a path (`/`, `/var/run/docker.sock`) would become
 * a host bind mount. A `volume` mount's source can only ever be a volume name.
 */
function volumeMount(volume: VolumeMount): Dockerode.MountSettings {
  return volume.kind === 'bind'
    ? { Type: 'bind', Source: volume.host, Target: volume.container, ReadOnly: volume.readonly }
    : { Type: 'volume', Source: volume.name, Target: volume.container, ReadOnly: volume.readonly };
}

function bind(source: string, target: string, readOnly: boolean): Dockerode.MountSettings {
  return { Type: 'bind', Source: source, Target: target, ReadOnly: readOnly };
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
      Mounts: [
        options.workspaceVolume === undefined ? bind(options.workspaceDir, workdir, false) : { Type: 'volume', Source: options.workspaceVolume, Target: workdir, ReadOnly: false },
        ...(options.readOnlyPaths ?? []).map((path) => bind(path, path, true)),
        bind(options.instructionsFile, INSTRUCTIONS_PATH, true),
        ...(options.agentApi ? [bind(options.agentApi.socket, GATEWAY_SOCKET_PATH, false), bind(options.agentApi.bridgeScript, BRIDGE_SCRIPT_PATH, true)] : []),
        ...Object.entries(options.homeMounts).map(([path, source]) => bind(source, `${SANDBOX_HOME}/${path}`, false)),
        ...(options.network.resolver && options.resolvConfFile ? [bind(options.resolvConfFile, '/etc/resolv.conf', true)] : []),
        ...options.volumes.map(volumeMount),
      ],
      Devices: options.devices.map((device) => ({ PathOnHost: device, PathInContainer: device, CgroupPermissions: 'rwm' })),
      Memory: Math.round(options.memoryGb * 1024 ** 3),
      NanoCpus: Math.round(options.cpus * 1e9),
      PidsLimit: options.pidsLimit ?? 4096,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      NetworkMode: options.network.networkMode,
      ...(options.network.resolver
        ? { Dns: [options.network.resolver.server], ExtraHosts: Object.entries(options.network.resolver.hosts).map(([name, ip]) => `${name}:${ip}`) }
        : {}),
      Init: true,
      AutoRemove: false,
      // tsk reads the output through attach. Docker's default json-file log would keep another copy of
      // it, without a limit, on the Docker host's disk for as long as the container exists.
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}
