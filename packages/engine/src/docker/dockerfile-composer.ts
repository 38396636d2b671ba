import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerOrigins, TaskConfig } from '../config/resolved-config.js';
import { ConfigError } from '../errors/index.js';
import { splitCertificates, type CaFile } from './ca-files.js';
import type { ImageLayer, LayerKind, LayerSource } from './layers.js';
import { TSK_CONTEXT_DIR } from './project-copy.js';
import { toolchainNote } from './stack-toolchains.js';

/** A file placed in the build context next to the Dockerfile; `name` is a relative POSIX path. */
export interface ContextFile {
  name: string;
  /** Text (CA certificates) or bytes (project files, which may be binary). */
  content: string | Uint8Array;
  /** File mode in the context; only project files that are executable set it (0o755). */
  mode?: number;
}

/** Everything needed to build (or find) one sandbox image. Produced by {@link composeImagePlan}. */
export interface ImagePlan {
  /** `tsk/<project>/<stack>/<agent>:<12 hex>`; the hex is a content hash of everything below but labels. */
  tag: string;
  /** The image the base layer starts FROM (config `base_image`); must exist before building. */
  baseImage: string;
  dockerfile: string;
  /** Base → stack → project → agent, with where each layer's lines came from. */
  layers: ImageLayer[];
  contextFiles: ContextFile[];
  buildArgs: Record<string, string>;
  /** Image labels (`tsk.project`, `tsk.stack`, `tsk.agent`); the builder adds `tsk.managed=true`. */
  labels: Record<string, string>;
}

export interface ComposeImagePlanInput {
  config: Pick<TaskConfig, 'baseImage' | 'setup' | 'stackConfig' | 'agentConfig'>;
  /** The resolved stack: `config.stack`, or what {@link detectStack} found. */
  stack: string;
  agent: string;
  /** Project name; made into a valid Docker repository component for the tag. */
  project: string;
  /** uid/gid the `agent` user gets (normally the host user's, so workspace files keep their owner). */
  agentUid: number;
  agentGid: number;
  /** Extra CA files (see `loadCaFiles`), copied into the context and trusted in the image. */
  caFiles?: readonly CaFile[];
  /**
   * Repository files the project layer's `setup` copies (`COPY`/`ADD` sources, see `copySources`), at
   * their repository paths in the context root. Part of the tag: a changed file gives a new image.
   */
  projectFiles?: readonly ContextFile[];
  /** Git identity for commits made in the sandbox; the base layer's defaults apply when absent. */
  gitIdentity?: { name: string; email: string };
  /**
   * The engine's id of the base image. It is part of the tag: `FROM debian:bookworm-slim` reads the same
   * after the base image was re-pulled or re-bootstrapped, but images built on the old one are stale.
   * Omitted only where no engine is asked (checking a plan at task creation).
   */
  baseImageId?: string;
  /** The built-in `dockerfiles/` folder (`join(assetsRoot(), 'dockerfiles')`). */
  builtInDir: string;
  /** Where the configuration's layers came from, for the dry run (see {@link ImageLayer.origin}). */
  origins?: LayerOrigins;
}

/** Bump when the composition changes in a way the Dockerfile text alone does not show. */
const PLAN_FORMAT = 'tsk-image-plan-v1';
const CA_CONTEXT_DIR = `${TSK_CONTEXT_DIR}/ca-certificates`;
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** A Docker repository path component: lowercase alphanumerics joined by `.`, `_`, `__` or dashes. */
const REF_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** An image reference as written after FROM: no whitespace, nothing that could end the instruction. */
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;

/**
 * Compose the Dockerfile for a task image from the built-in snippets and the configuration, and derive its
 * tag from a hash of the result. Reads only the built-in snippet files; everything else is pure, so the
 * same inputs always give the same tag, and any change in them gives a new one.
 *
 * @throws ConfigError for an unknown stack or agent (listing the known ones), an invalid name, base image,
 * uid/gid, or a CA file without certificates.
 */
export function composeImagePlan(input: ComposeImagePlanInput): ImagePlan {
  const { config, builtInDir } = input;
  validateName('stack', input.stack);
  validateName('agent', input.agent);
  if (!IMAGE_REF.test(config.baseImage)) {
    throw new ConfigError(`base_image "${config.baseImage}" is not a valid image reference`);
  }
  for (const [key, id] of [['agentUid', input.agentUid], ['agentGid', input.agentGid]] as const) {
    if (!Number.isSafeInteger(id) || id < 0) throw new ConfigError(`${key} must be a non-negative integer, got ${id}`);
  }

  const ca = caContext(input.caFiles ?? []);
  const baseTemplate = readBuiltIn(builtInDir, 'base', 'default');
  if (baseTemplate === undefined) {
    throw new ConfigError(`Built-in base layer ${join(builtInDir, 'base', 'default.dockerfile')} is missing`, {
      hint: 'set TSK_ASSETS_DIR to the folder holding tsk’s dockerfiles/',
    });
  }
  const base = renderBase(baseTemplate, config.baseImage, ca.block);
  const stack = resolveLayer(builtInDir, 'stack', input.stack, config.stackConfig, 'stack_config');
  const agent = resolveLayer(builtInDir, 'agent', input.agent, config.agentConfig, 'agent_config');
  const projectName = toRefComponent(input.project);
  const project = resolveProjectLayer(builtInDir, projectName, config.setup);

  const origins = input.origins;
  const layers: ImageLayer[] = [
    { kind: 'base', name: config.baseImage, source: 'built-in' },
    withOrigin({ kind: 'stack', name: input.stack, source: stack.source }, origins?.stackConfig[input.stack]),
    withOrigin({ kind: 'project', name: projectName, source: project.source }, origins?.setup),
    withOrigin({ kind: 'agent', name: input.agent, source: agent.source }, origins?.agentConfig[input.agent]),
  ];
  const sections = [
    section(layers[0]!, base, false),
    section(layers[1]!, stack.text, true),
    section(layers[2]!, project.text, true),
    section(layers[3]!, agent.text, true),
    // Layers run as root (apt); the sandbox never does.
    '# ---- tsk: run as the agent user ----\nUSER agent\nWORKDIR /workspace\n',
  ];
  const dockerfile = sections.join('\n');

  const buildArgs: Record<string, string> = {
    AGENT_UID: String(input.agentUid),
    AGENT_GID: String(input.agentGid),
  };
  if (input.gitIdentity) {
    buildArgs.GIT_USER_NAME = input.gitIdentity.name;
    buildArgs.GIT_USER_EMAIL = input.gitIdentity.email;
  }
  const contextFiles = [...ca.files, ...projectContext(input.projectFiles ?? [])];
  const hash = planHash(dockerfile, buildArgs, contextFiles, input.baseImageId);
  return {
    tag: `tsk/${projectName}/${input.stack}/${input.agent}:${hash}`,
    baseImage: config.baseImage,
    dockerfile,
    layers,
    contextFiles,
    buildArgs,
    labels: { 'tsk.project': projectName, 'tsk.stack': input.stack, 'tsk.agent': input.agent },
  };
}

function withOrigin(layer: ImageLayer, origin: string | undefined): ImageLayer {
  return layer.source === 'config' && origin !== undefined ? { ...layer, origin } : layer;
}

/** Where a layer's lines came from, as the dry run shows it: the config key or snippet file, or the built-in snippet. */
function layerOrigin(layer: ImageLayer): string {
  if (layer.source === 'empty') return 'empty';
  if (layer.source === 'built-in') {
    if (layer.kind === 'base') return 'built-in dockerfiles/base/default.dockerfile';
    return layer.kind === 'project' ? 'built-in' : `built-in dockerfiles/${layer.kind}/${layer.name}.dockerfile`;
  }
  if (layer.origin !== undefined) return layer.origin;
  return layer.kind === 'project' ? 'config: setup' : `config: ${layer.kind}_config.${layer.name}.setup`;
}

/** The `--dry-run` view of a plan: the tag, each layer's source and the stack's toolchain as comments, then the Dockerfile. */
export function renderDryRun(plan: ImagePlan): string {
  const header = [`# image ${plan.tag}`];
  for (const layer of plan.layers) header.push(`# layer ${layer.kind}: ${layer.name} (${layerOrigin(layer)})`);
  const args = Object.entries(plan.buildArgs).map(([name, value]) => `${name}=${value}`);
  if (args.length > 0) header.push(`# build args: ${args.join(' ')}`);
  const caFiles = plan.contextFiles.filter((file) => file.name.startsWith(`${CA_CONTEXT_DIR}/`));
  if (caFiles.length > 0) header.push(`# ca_certificates: ${caFiles.length} certificate(s) trusted in the image`);
  const projectFiles = plan.contextFiles.filter((file) => !file.name.startsWith(`${TSK_CONTEXT_DIR}/`));
  if (projectFiles.length > 0) {
    const shown = projectFiles.slice(0, 10).map((file) => file.name);
    const more = projectFiles.length > shown.length ? ` and ${projectFiles.length - shown.length} more` : '';
    header.push(`# project files copied by setup: ${shown.join(', ')}${more}`);
  }
  const toolchain = toolchainNote(plan.layers);
  if (toolchain !== undefined) header.push(`# ${toolchain}`);
  return `${header.join('\n')}\n\n${plan.dockerfile}`;
}

/** Names of the built-in snippets of one kind (`stack` → default, go, java, …), sorted. */
export function builtInLayerNames(builtInDir: string, kind: LayerKind): string[] {
  const dir = join(builtInDir, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.dockerfile'))
    .map((file) => file.slice(0, -'.dockerfile'.length))
    .sort();
}

interface LayerText {
  text: string;
  source: LayerSource;
}

function resolveLayer(
  builtInDir: string,
  kind: 'stack' | 'agent',
  name: string,
  overrides: TaskConfig['stackConfig'],
  configKey: 'stack_config' | 'agent_config',
): LayerText {
  const configured = Object.hasOwn(overrides, name) ? overrides[name]?.setup : undefined;
  if (configured !== undefined) return { text: configured, source: 'config' };
  const builtIn = readBuiltIn(builtInDir, kind, name);
  if (builtIn !== undefined) return { text: builtIn, source: hasInstructions(builtIn) ? 'built-in' : 'empty' };
  const known = [...new Set([...builtInLayerNames(builtInDir, kind), ...Object.keys(overrides)])].sort();
  throw new ConfigError(`Unknown ${kind} "${name}"; known ${kind}s: ${known.join(', ')}`, {
    hint: `pick one of those, or define it with [${configKey}.${name}] setup = "<Dockerfile lines>" or in .tsk/dockerfiles/${kind}/${name}.dockerfile`,
  });
}

function resolveProjectLayer(builtInDir: string, project: string, setup: string | undefined): LayerText {
  if (setup !== undefined) return { text: setup, source: 'config' };
  const builtIn = readBuiltIn(builtInDir, 'project', project) ?? readBuiltIn(builtInDir, 'project', 'default') ?? '';
  return { text: builtIn, source: hasInstructions(builtIn) ? 'built-in' : 'empty' };
}

function readBuiltIn(builtInDir: string, kind: LayerKind, name: string): string | undefined {
  const path = join(builtInDir, kind, `${name}.dockerfile`);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** The CA placeholder counts only on a line of its own, so a mention in a comment stays a comment. */
const CA_PLACEHOLDER_LINE = /^[ \t]*\{\{CA_CERTIFICATES\}\}[ \t]*$/m;

function renderBase(template: string, baseImage: string, caBlock: string): string {
  const withImage = template.replaceAll('{{BASE_IMAGE}}', baseImage);
  if (CA_PLACEHOLDER_LINE.test(withImage)) return withImage.replace(CA_PLACEHOLDER_LINE, () => caBlock);
  return caBlock ? `${withImage.trimEnd()}\n\n${caBlock}\n` : withImage;
}

function section(layer: ImageLayer, text: string, asRoot: boolean): string {
  const lines = [`# ---- tsk layer ${layer.kind}: ${layer.name} (${layer.source}) ----`];
  // A previous layer (a project's setup, say) may have switched user; installing needs root.
  if (asRoot && hasInstructions(text)) lines.push('USER root');
  const body = text.trim();
  if (body) lines.push(body);
  return `${lines.join('\n')}\n`;
}

function caContext(caFiles: readonly CaFile[]): { files: ContextFile[]; block: string } {
  if (caFiles.length === 0) return { files: [], block: '' };
  const files = caFiles.flatMap((file, fileIndex) => {
    const stem = toRefComponent(file.name.replace(/\.(crt|pem|cer)$/i, ''));
    return splitCertificates(file).map((content, certIndex) => ({
      name: `${CA_CONTEXT_DIR}/${fileIndex}-${stem}-${certIndex}.crt`,
      content,
    }));
  });
  const env = [
    'NODE_EXTRA_CA_CERTS',
    'NPM_CONFIG_CAFILE',
    'PIP_CERT',
    'REQUESTS_CA_BUNDLE',
    'SSL_CERT_FILE',
    'CURL_CA_BUNDLE',
    'CARGO_HTTP_CAINFO',
    'GIT_SSL_CAINFO',
  ];
  const block = [
    '# Extra CA certificates (config `ca_certificates`): into the system store, and named for the tools',
    '# that read their own variable instead of it.',
    `COPY ${CA_CONTEXT_DIR}/ /usr/local/share/ca-certificates/tsk/`,
    'RUN update-ca-certificates',
    `ENV ${env.map((name) => `${name}=${CA_BUNDLE}`).join(' \\\n    ')}`,
  ].join('\n');
  return { files, block };
}

/** Project files go to the context root, where COPY finds them; never over tsk's own folder. */
function projectContext(files: readonly ContextFile[]): ContextFile[] {
  for (const file of files) {
    if (file.name === TSK_CONTEXT_DIR || file.name.startsWith(`${TSK_CONTEXT_DIR}/`)) {
      throw new ConfigError(`Project file ${file.name} is in ${TSK_CONTEXT_DIR}/, which tsk keeps for its own build files`);
    }
  }
  return [...files];
}

/** What a context file contributes to the tag: text as it is (tags made before bytes existed stay valid), bytes by digest. */
function hashable(file: ContextFile): unknown {
  const content = typeof file.content === 'string' ? file.content : { sha256: createHash('sha256').update(file.content).digest('hex') };
  return file.mode === undefined ? { name: file.name, content } : { name: file.name, content, mode: file.mode };
}

function planHash(dockerfile: string, buildArgs: Record<string, string>, files: readonly ContextFile[], baseImageId: string | undefined): string {
  const hash = createHash('sha256');
  const sortedArgs = Object.entries(buildArgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sortedFiles = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(hashable);
  hash.update(JSON.stringify({ format: PLAN_FORMAT, dockerfile, buildArgs: sortedArgs, files: sortedFiles, baseImageId }));
  return hash.digest('hex').slice(0, 12);
}

function hasInstructions(text: string): boolean {
  return text.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

function validateName(kind: 'stack' | 'agent', name: string): void {
  if (!REF_COMPONENT.test(name)) {
    throw new ConfigError(`Invalid ${kind} name "${name}": use lowercase letters, digits, and . _ - between them`);
  }
}

/** Lowercase, anything outside [a-z0-9] becomes a single `-`, trimmed: always a valid repository component. */
function toRefComponent(value: string): string {
  const cleaned = value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return cleaned || 'project';
}
