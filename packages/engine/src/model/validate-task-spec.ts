import { isAbsolute, posix } from 'node:path';
import { isBranchName, isCommitHash, remoteUrlProblem } from '../git/git-values.js';
import { isTaskId } from '../common/ids.js';
import { isResultBranch, resultBranchName, sanitizeProjectName } from '../common/sanitize.js';
import { ENV_NAME, MODEL_NAME, STACK_NAME } from '../config/formats.js';
import { TaskPayloadError } from '../errors/index.js';
import { isKeyName, parsePublicKey } from '../signing/signing-key.js';
import { AGENT_NAMES, isAgentName } from './agent-name.js';
import { TASK_LIMITS } from './task-limits.js';
import { labelListProblem } from './worker-labels.js';
import { TASK_SPEC_VERSION, type TaskSpec } from './task-spec.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const VOLUME_NAME = /^tsk-[A-Za-z0-9][A-Za-z0-9_.-]{0,123}$/;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;
// A Docker image reference: [registry[:port]/]path[:tag][@sha256:digest].
/** A Docker image reference: `[registry[:port]/]name[/name…][:tag][@sha256:…]`, lower case. */
export const IMAGE_REF = /^(?:[a-z0-9.-]+(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/** Fields a spec and its config have; anything else is refused (see {@link validateTaskSpec}). */
const SPEC_FIELDS = [
  'version', 'id', 'name', 'type', 'agent', 'stack', 'project', 'instructions', 'repoPath', 'source', 'branch',
  'parentBranch', 'parentTaskId', 'requires', 'publishes', 'followUp', 'config', 'createdAt', 'signer',
];
const CONFIG_FIELDS = [
  'agent', 'stack', 'memoryGb', 'cpu', 'setup', 'stackConfig', 'agentConfig', 'hostPorts', 'env', 'envFromWorker',
  'volumes', 'devices', 'squidConf', 'gitTown', 'pushBranches', 'caCertificates', 'baseImage', 'networkIsolation',
  'maxCostUsd', 'timeoutSeconds', 'maxTurns', 'model',
];

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** An absolute, normalised POSIX path without control characters: safe to join, compare and mount. */
function isCleanAbsolutePath(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= TASK_LIMITS.pathChars &&
    isAbsolute(value) &&
    posix.normalize(value) === value &&
    (value === '/' || !value.endsWith('/')) &&
    !CONTROL.test(value)
  );
}

/** Collects problems as `path must be …` lines instead of stopping at the first. */
class Checker {
  readonly problems: string[] = [];

  fail(problem: string): void {
    this.problems.push(problem);
  }

  exactKeys(object: Json, allowed: readonly string[], at: string): void {
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key)) this.fail(`${at}${key} is not a field tsk knows (a newer tsk queued this task? upgrade this worker)`);
    }
  }

  label(object: Json, key: string, at: string, maxChars: number = TASK_LIMITS.labelChars): void {
    const value = object[key];
    if (typeof value !== 'string' || value.trim() === '') this.fail(`${at}${key} must be a non-empty string`);
    else if (value.length > maxChars) this.fail(`${at}${key} must be at most ${maxChars} characters`);
    else if (CONTROL.test(value)) this.fail(`${at}${key} must not contain control characters`);
  }

  matches(object: Json, key: string, at: string, pattern: RegExp, what: string): void {
    const value = object[key];
    // Bounded before the pattern sees it: a pattern alone lets a megabyte of valid characters through.
    if (typeof value !== 'string' || value.length > TASK_LIMITS.pathChars || !pattern.test(value)) this.fail(`${at}${key} must be ${what}`);
  }

  text(object: Json, key: string, at: string, maxBytes: number, options: { optional?: boolean } = {}): void {
    const value = object[key];
    if (value === undefined && options.optional) return;
    if (typeof value !== 'string') this.fail(`${at}${key} must be a string`);
    else if (bytes(value) > maxBytes) this.fail(`${at}${key} must be at most ${maxBytes} bytes`);
  }

  number(object: Json, key: string, at: string, max: number, options: { optional?: boolean; integer?: boolean } = {}): void {
    const value = object[key];
    if (value === undefined && options.optional) return;
    if (options.integer && !Number.isInteger(value)) this.fail(`${at}${key} must be a whole number`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) this.fail(`${at}${key} must be a number above 0 and at most ${max}`);
  }

  boolean(object: Json, key: string, at: string): void {
    if (typeof object[key] !== 'boolean') this.fail(`${at}${key} must be true or false`);
  }

  list(object: Json, key: string, at: string, max: number, item: (value: unknown) => boolean, what: string): void {
    const value = object[key];
    if (!Array.isArray(value)) {
      this.fail(`${at}${key} must be a list`);
      return;
    }
    if (value.length > max) this.fail(`${at}${key} must have at most ${max} entries`);
    value.slice(0, max).forEach((entry, index) => {
      if (!item(entry)) this.fail(`${at}${key}[${index}] must be ${what}`);
    });
  }
}

const isPort = (value: unknown): boolean => Number.isInteger(value) && (value as number) > 0 && (value as number) < 65536;
const isEnvName = (value: unknown): boolean => typeof value === 'string' && value.length <= 128 && ENV_NAME.test(value);
const isStackName = (value: unknown): value is string => typeof value === 'string' && value.length <= 64 && STACK_NAME.test(value);
const isEnvVar = (value: unknown): boolean =>
  isObject(value) &&
  Object.keys(value).every((key) => key === 'name' || key === 'value') &&
  isEnvName(value.name) &&
  typeof value.value === 'string' &&
  bytes(value.value) <= TASK_LIMITS.envValueBytes &&
  !value.value.includes('\0');
/** A container path a mount may use: absolute, normalised, and not the root. */
const isContainerPath = (value: unknown): boolean => isCleanAbsolutePath(value) && value !== '/';
const isVolume = (value: unknown): boolean => {
  if (!isObject(value) || !isContainerPath(value.container) || typeof value.readonly !== 'boolean') return false;
  if (value.kind === 'bind') return Object.keys(value).length === 4 && isCleanAbsolutePath(value.host);
  // A named volume is tsk's own (`tsk-` prefixed); a name that is a path would be a bind mount in disguise.
  if (value.kind === 'named') return Object.keys(value).length === 4 && typeof value.name === 'string' && VOLUME_NAME.test(value.name);
  return false;
};
const isDevice = (value: unknown): boolean => isCleanAbsolutePath(value) && value.startsWith('/dev/') && !value.includes(':');
const isCaCertificate = (value: unknown): boolean => {
  if (!isObject(value) || Object.keys(value).length !== 2 || !isCleanAbsolutePath(value.path) || typeof value.content !== 'string') return false;
  // The file name becomes a file of the image's build context.
  return FILE_NAME.test(posix.basename(value.path)) && bytes(value.content) <= TASK_LIMITS.caCertificateBytes;
};

function checkLayerMap(check: Checker, config: Json, key: 'stackConfig' | 'agentConfig'): void {
  const map = config[key];
  if (!isObject(map)) {
    check.fail(`config.${key} must be an object`);
    return;
  }
  const entries = Object.entries(map);
  if (entries.length > TASK_LIMITS.layerEntries) check.fail(`config.${key} must have at most ${TASK_LIMITS.layerEntries} entries`);
  for (const [name, layer] of entries.slice(0, TASK_LIMITS.layerEntries)) {
    const validName = key === 'agentConfig' ? isAgentName(name) : isStackName(name);
    if (!validName) check.fail(`config.${key} has an invalid ${key === 'agentConfig' ? 'agent' : 'stack'} name`);
    if (!isObject(layer) || Object.keys(layer).some((field) => field !== 'setup')) check.fail(`config.${key}.${name.slice(0, 64)} must be { setup }`);
    else check.text(layer, 'setup', `config.${key}.${name.slice(0, 64)}.`, TASK_LIMITS.setupBytes, { optional: true });
  }
}

function checkConfig(check: Checker, config: unknown, agent: unknown): void {
  if (!isObject(config)) {
    check.fail('config must be an object');
    return;
  }
  const at = 'config.';
  check.exactKeys(config, CONFIG_FIELDS, at);
  if (config.agent !== agent) check.fail('config.agent must be the task’s agent');
  if (config.stack !== undefined && !isStackName(config.stack)) check.fail(`${at}stack must be a stack name`);
  check.number(config, 'memoryGb', at, TASK_LIMITS.memoryGb);
  check.number(config, 'cpu', at, TASK_LIMITS.cpu);
  check.number(config, 'maxCostUsd', at, TASK_LIMITS.maxCostUsd, { optional: true });
  check.number(config, 'timeoutSeconds', at, TASK_LIMITS.timeoutSeconds, { optional: true, integer: true });
  check.number(config, 'maxTurns', at, TASK_LIMITS.maxTurns, { optional: true, integer: true });
  // It reaches the agent's command line.
  if (config.model !== undefined && (typeof config.model !== 'string' || !MODEL_NAME.test(config.model))) check.fail(`${at}model must be a model name`);
  check.boolean(config, 'networkIsolation', at);
  check.boolean(config, 'gitTown', at);
  check.boolean(config, 'pushBranches', at);
  check.matches(config, 'baseImage', at, IMAGE_REF, 'a Docker image reference');
  check.text(config, 'setup', at, TASK_LIMITS.setupBytes, { optional: true });
  check.text(config, 'squidConf', at, TASK_LIMITS.squidConfBytes, { optional: true });
  checkLayerMap(check, config, 'stackConfig');
  checkLayerMap(check, config, 'agentConfig');
  check.list(config, 'hostPorts', at, TASK_LIMITS.hostPorts, isPort, 'a port number');
  check.list(config, 'env', at, TASK_LIMITS.envEntries, isEnvVar, `{ name, value } with a variable name and at most ${TASK_LIMITS.envValueBytes} bytes`);
  check.list(config, 'envFromWorker', at, TASK_LIMITS.envEntries, isEnvName, 'an environment variable name');
  check.list(config, 'volumes', at, TASK_LIMITS.volumes, isVolume, 'a { kind: "bind", host } or { kind: "named", name: "tsk-…" } mount with an absolute container path and readonly');
  check.list(config, 'devices', at, TASK_LIMITS.devices, isDevice, 'a device path under /dev/');
  check.list(config, 'caCertificates', at, TASK_LIMITS.caCertificates, isCaCertificate, 'a { path, content } certificate');
}

function checkSource(check: Checker, payload: Json): void {
  const source = payload.source;
  if (!isObject(source)) {
    check.fail('source must be an object');
    return;
  }
  if (source.kind === 'remote') {
    check.exactKeys(source, ['kind', 'url', 'ref', 'commit'], 'source.');
    // A remote is where the worker fetches from and pushes to, with its own credentials.
    const problem = typeof source.url === 'string' ? remoteUrlProblem(source.url) : 'must be a string';
    if (problem !== undefined) check.fail(`source.url ${problem}`);
    else check.text(source, 'url', 'source.', TASK_LIMITS.pathChars);
  } else if (source.kind === 'local') {
    check.exactKeys(source, ['kind', 'repoPath', 'ref', 'commit'], 'source.');
    // The repository read and the one written are the same: a job must not read one and write another.
    if (source.repoPath !== payload.repoPath) check.fail('source.repoPath must be the task’s repoPath');
  } else {
    check.fail('source.kind must be "local" or "remote"');
    return;
  }
  if (typeof payload.id === 'string' && source.ref !== `refs/tsk/snapshots/${payload.id}`) check.fail('source.ref must be the task’s snapshot ref refs/tsk/snapshots/<id>');
  if (typeof source.commit !== 'string' || !isCommitHash(source.commit)) check.fail('source.commit must be a full commit hash');
}

/**
 * A follow-up moves another task's branch: that branch must be a tsk result branch of that very task
 * (never `main` or any branch of the user's), the commit a full hash the task starts from, and nothing else
 * may decide where it starts (a parent's result, a kept result, a remote's refs).
 */
function checkFollowUp(check: Checker, payload: Json): void {
  const followUp = payload.followUp;
  if (!isObject(followUp) || Object.keys(followUp).length !== 3 || typeof followUp.taskId !== 'string' || !isTaskId(followUp.taskId) || followUp.taskId === payload.id) {
    check.fail('followUp must be { taskId, branch, commit } with another task’s id');
    return;
  }
  if (typeof followUp.branch !== 'string' || !isBranchName(followUp.branch) || !isResultBranch(followUp.branch)) {
    check.fail('followUp.branch must be a tsk result branch tsk/<type>/<name>/<id>');
  }
  if (!isCommitHash(followUp.commit)) check.fail('followUp.commit must be a full commit hash');
  else if (isObject(payload.source) && payload.source.commit !== followUp.commit) check.fail('followUp.commit must be the commit the task starts from (source.commit)');
  if (isObject(payload.source) && payload.source.kind !== 'local') check.fail('followUp needs a local source (follow-ups through a shared remote are not supported)');
  if (payload.parentTaskId !== undefined) check.fail('followUp cannot be chained (parentTaskId)');
  if (payload.publishes !== undefined) check.fail('followUp cannot publish a kept result (publishes)');
}

/**
 * Check a task spec completely before anything acts on it: it comes from a job anyone with write access
 * to Redis may have written (a signature proves who made it, not that it is well-formed), and every value
 * in it may reach a path, a git command, a Docker option or a shell. Exact patterns for ids, refs, branch
 * names, paths and volume names; sizes bounded ({@link TASK_LIMITS}); unknown fields refused; the branch
 * and snapshot ref must be the ones the id implies. Returns the spec typed, or throws
 * {@link TaskPayloadError} listing every problem.
 */
export function validateTaskSpec(payload: unknown, jobId: string): TaskSpec {
  if (!isObject(payload)) throw new TaskPayloadError(jobId, ['the payload must be a JSON object']);
  const check = new Checker();
  check.exactKeys(payload, SPEC_FIELDS, '');
  if (payload.version !== TASK_SPEC_VERSION) check.fail(`version must be ${TASK_SPEC_VERSION} (got ${JSON.stringify(payload.version)?.slice(0, 20)})`);
  if (typeof payload.id !== 'string' || !isTaskId(payload.id)) check.fail('id must be 8 characters of [A-Za-z0-9_]');
  else if (payload.id !== jobId) check.fail(`id ${payload.id} does not match the job id`);
  check.label(payload, 'name', '');
  check.label(payload, 'type', '');
  if (typeof payload.agent !== 'string' || !isAgentName(payload.agent)) check.fail(`agent must be one of ${AGENT_NAMES.join(', ')}`);
  if (!isStackName(payload.stack)) check.fail('stack must be a stack name');
  if (typeof payload.project !== 'string' || payload.project.length > 100 || sanitizeProjectName(payload.project) !== payload.project) {
    check.fail('project must be a project name of [a-z0-9._-]');
  }
  check.text(payload, 'instructions', '', TASK_LIMITS.instructionsBytes);
  if (typeof payload.instructions === 'string' && payload.instructions.trim() === '') check.fail('instructions must not be empty');
  if (!isCleanAbsolutePath(payload.repoPath)) check.fail('repoPath must be an absolute, normalised path');
  checkSource(check, payload);
  if (typeof payload.type === 'string' && typeof payload.name === 'string' && typeof payload.id === 'string') {
    if (payload.branch !== resultBranchName(payload.type, payload.name, payload.id)) check.fail('branch must be tsk/<type>/<name>/<id> for this task');
  }
  if (payload.parentBranch !== undefined && (typeof payload.parentBranch !== 'string' || payload.parentBranch.length > TASK_LIMITS.pathChars || !isBranchName(payload.parentBranch))) {
    check.fail('parentBranch must be a valid branch name');
  }
  if (payload.parentTaskId !== undefined && (typeof payload.parentTaskId !== 'string' || !isTaskId(payload.parentTaskId) || payload.parentTaskId === payload.id)) {
    check.fail('parentTaskId must be another task’s id');
  }
  if (payload.requires !== undefined) {
    // Labels reach Redis, a worker's decision and the terminal of whoever lists the task.
    const problem = Array.isArray(payload.requires) ? labelListProblem(payload.requires) : 'it is not a list';
    if (problem !== undefined) check.fail(`requires must be a list of worker labels: ${problem}`);
  }
  if (payload.publishes !== undefined) {
    const publishes = payload.publishes;
    // An id and a commit reach a ref name and a git command on the worker.
    const wellFormed = isObject(publishes) && Object.keys(publishes).length === 2 && typeof publishes.task === 'string' && isTaskId(publishes.task) && publishes.task !== payload.id && isCommitHash(publishes.commit);
    if (!wellFormed) check.fail('publishes must be { task, commit }: another task’s id and a full commit hash');
    if (isObject(payload.source) && payload.source.kind !== 'remote') check.fail('publishes needs a remote source');
    if (payload.parentTaskId !== undefined) check.fail('publishes cannot be chained (parentTaskId)');
  }
  if (payload.followUp !== undefined) checkFollowUp(check, payload);
  if (typeof payload.createdAt !== 'string' || !ISO_TIME.test(payload.createdAt) || Number.isNaN(Date.parse(payload.createdAt))) {
    check.fail('createdAt must be an ISO time');
  }
  const signer = payload.signer;
  if (!isObject(signer) || Object.keys(signer).length !== 2 || typeof signer.name !== 'string' || !isKeyName(signer.name) || typeof signer.key !== 'string' || parsePublicKey(signer.key) !== signer.key) {
    check.fail('signer must be { name, key } of a tsk signing key');
  }
  checkConfig(check, payload.config, payload.agent);
  if (check.problems.length > 0) throw new TaskPayloadError(jobId, check.problems);
  return payload as unknown as TaskSpec;
}
