import { isTaskId } from '../common/ids.js';
import { TaskPayloadError } from '../errors/index.js';
import { isAgentName, type TaskSpec } from '../model/index.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects problems as `path must be …` lines instead of stopping at the first. */
class Checker {
  readonly problems: string[] = [];

  string(object: Json, key: string, path: string, options: { optional?: boolean; nonEmpty?: boolean } = {}): void {
    const value = object[key];
    if (value === undefined && options.optional) return;
    if (typeof value !== 'string') this.problems.push(`${path}${key} must be a string`);
    else if (options.nonEmpty && value.trim() === '') this.problems.push(`${path}${key} must not be empty`);
  }

  number(object: Json, key: string, path: string): void {
    const value = object[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) this.problems.push(`${path}${key} must be a positive number`);
  }

  boolean(object: Json, key: string, path: string): void {
    if (typeof object[key] !== 'boolean') this.problems.push(`${path}${key} must be true or false`);
  }

  array(object: Json, key: string, path: string, item: (value: unknown, at: string) => boolean, what: string): void {
    const value = object[key];
    if (!Array.isArray(value)) {
      this.problems.push(`${path}${key} must be a list`);
      return;
    }
    value.forEach((entry, index) => {
      if (!item(entry, `${path}${key}[${index}]`)) this.problems.push(`${path}${key}[${index}] must be ${what}`);
    });
  }
}

const isString = (value: unknown): boolean => typeof value === 'string';
const isPort = (value: unknown): boolean => Number.isInteger(value) && (value as number) > 0 && (value as number) < 65536;
const isEnvVar = (value: unknown): boolean => isObject(value) && isString(value.name) && isString(value.value);
const isVolume = (value: unknown): boolean =>
  isObject(value) &&
  isString(value.container) &&
  typeof value.readonly === 'boolean' &&
  ((value.kind === 'bind' && isString(value.host)) || (value.kind === 'named' && isString(value.name)));
const isCaCertificate = (value: unknown): boolean => isObject(value) && isString(value.path) && isString(value.content);
const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function checkSource(check: Checker, source: unknown): void {
  if (!isObject(source)) {
    check.problems.push('source must be an object');
    return;
  }
  if (source.kind === 'local') check.string(source, 'repoPath', 'source.', { nonEmpty: true });
  else if (source.kind === 'remote') check.string(source, 'url', 'source.', { nonEmpty: true });
  else check.problems.push('source.kind must be "local" or "remote"');
  check.string(source, 'ref', 'source.', { nonEmpty: true });
  if (typeof source.commit !== 'string' || !COMMIT.test(source.commit)) check.problems.push('source.commit must be a full commit hash');
}

function checkConfig(check: Checker, config: unknown): void {
  if (!isObject(config)) {
    check.problems.push('config must be an object');
    return;
  }
  const at = 'config.';
  check.number(config, 'memoryGb', at);
  check.number(config, 'cpu', at);
  check.boolean(config, 'networkIsolation', at);
  check.boolean(config, 'gitTown', at);
  check.string(config, 'baseImage', at, { nonEmpty: true });
  check.string(config, 'setup', at, { optional: true });
  check.string(config, 'squidConf', at, { optional: true });
  check.array(config, 'hostPorts', at, isPort, 'a port number');
  check.array(config, 'env', at, isEnvVar, '{ name, value } strings');
  check.array(config, 'volumes', at, isVolume, 'a { kind: "bind", host } or { kind: "named", name } mount with container and readonly');
  check.array(config, 'devices', at, isString, 'a device path');
  check.array(config, 'caCertificates', at, isCaCertificate, 'a { path, content } certificate');
  for (const key of ['stackConfig', 'agentConfig']) {
    if (!isObject(config[key])) check.problems.push(`${at}${key} must be an object`);
  }
}

/**
 * Check a job payload before a worker acts on it (a job may come from another version of tsk, or from
 * anyone who can write to the Redis). Returns the spec typed, or throws {@link TaskPayloadError} listing
 * every problem. Unknown extra fields are allowed: newer producers may add some.
 */
export function validateTaskSpec(payload: unknown, jobId: string): TaskSpec {
  const check = new Checker();
  if (!isObject(payload)) throw new TaskPayloadError(jobId, ['the payload must be a JSON object']);
  if (payload.version !== 1) check.problems.push(`version must be 1 (got ${JSON.stringify(payload.version)})`);
  if (typeof payload.id !== 'string' || !isTaskId(payload.id)) check.problems.push('id must be 8 characters of [A-Za-z0-9_]');
  else if (payload.id !== jobId) check.problems.push(`id ${payload.id} does not match the job id`);
  for (const key of ['name', 'type', 'stack', 'project', 'instructions', 'repoPath', 'branch', 'createdAt']) {
    check.string(payload, key, '', { nonEmpty: true });
  }
  check.string(payload, 'parentBranch', '', { optional: true });
  check.string(payload, 'parentTaskId', '', { optional: true });
  if (typeof payload.agent !== 'string' || !isAgentName(payload.agent)) check.problems.push('agent must be claude, codex, no-op or script');
  checkSource(check, payload.source);
  checkConfig(check, payload.config);
  if (check.problems.length > 0) throw new TaskPayloadError(jobId, check.problems);
  return payload as unknown as TaskSpec;
}
