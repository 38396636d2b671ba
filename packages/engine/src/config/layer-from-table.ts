import { parseDuration } from '../common/duration.js';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors/index.js';
import type { ConfigLayer, SquidSource } from './config-layer.js';
import type { CaCertificate, LayerSetup, VolumeMount } from './resolved-config.js';
import type { LayerSetupTable, SharedTable, VolumeTable } from './schema.js';
import type { ValidatedTable } from './shared-table.js';

/** Expands a leading `~` or `~/` to the home directory; other paths are returned unchanged. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

/** Named volumes are tsk's own, so they carry a `tsk-` prefix; an already prefixed name is kept. */
export function prefixVolumeName(name: string): string {
  return name.startsWith('tsk-') ? name : `tsk-${name}`;
}

function toVolume(volume: VolumeTable, home: string, where: string): VolumeMount {
  const readonly = volume.readonly ?? false;
  if (volume.name !== undefined) return { kind: 'named', name: prefixVolumeName(volume.name), container: volume.container, readonly };
  const host = expandHome(volume.host ?? '', home);
  if (!isAbsolute(host)) throw new ConfigError(`${where}.host: expected an absolute path after ~ expansion, got "${host}"`);
  return { kind: 'bind', host, container: volume.container, readonly };
}

function toLayerSetups(tables: Record<string, LayerSetupTable>): Record<string, LayerSetup> {
  return Object.fromEntries(
    Object.entries(tables).map(([name, table]) => [name, table.setup === null || table.setup === undefined ? {} : { setup: table.setup }]),
  );
}

/** Resolves a path the way users expect: `~` expanded, relative paths against the file that set them. */
async function existingFile(path: string, file: string, home: string, key: string): Promise<string> {
  const absolute = resolve(dirname(file), expandHome(path, home));
  const info = await stat(absolute).catch(() => undefined);
  if (!info) throw new ConfigError(`${file}: ${key}: file not found: ${absolute}`);
  if (!info.isFile()) throw new ConfigError(`${file}: ${key}: not a file: ${absolute}`);
  return absolute;
}

/**
 * Reads a `ca_certificates` file now, so the task carries the certificates themselves (it may run later,
 * or on another machine) and a file that is not PEM fails here, naming where it was configured.
 */
async function caCertificate(path: string, file: string, home: string, key: string): Promise<CaCertificate> {
  const absolute = await existingFile(path, file, home, key);
  let content: string;
  try {
    content = await readFile(absolute, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: ${key}: cannot read ${absolute}`, { cause: error });
  }
  if (!content.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`${file}: ${key}: ${absolute} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return { path: absolute, content };
}

function setIfDefined<K extends keyof ConfigLayer>(layer: ConfigLayer, field: K, value: ConfigLayer[K] | null | undefined): void {
  if (value !== undefined && value !== null) layer[field] = value;
}

/**
 * Turns a validated table into a configuration level: `~` expanded, named volumes prefixed, relative
 * paths resolved against the file, every referenced file (squid_conf_path, ca_certificates) checked
 * to exist so that a broken level fails now, not halfway through a build, and CA files read.
 */
/** A validated duration (format `duration`) in whole seconds. */
export function durationSeconds(text: string): number {
  return Math.ceil((parseDuration(text) ?? 0) / 1000);
}

export async function layerFromTable(table: ValidatedTable, home: string): Promise<ConfigLayer> {
  const values: Partial<SharedTable> = table.values;
  const at = (key: string): string => `${table.prefix}${key}`;
  const layer: ConfigLayer = {
    source: table.prefix ? `${table.file} [${table.prefix.replace(/\.$/, '')}]` : table.file,
    table: { file: table.file, prefix: table.prefix },
  };
  setIfDefined(layer, 'agent', values.agent);
  setIfDefined(layer, 'stack', values.stack);
  setIfDefined(layer, 'memoryGb', values.memory_gb);
  setIfDefined(layer, 'cpu', values.cpu);
  setIfDefined(layer, 'setup', values.setup);
  setIfDefined(layer, 'gitTown', values.git_town);
  setIfDefined(layer, 'pushBranches', values.push_branches);
  setIfDefined(layer, 'remote', values.remote);
  setIfDefined(layer, 'maxCostUsd', values.max_cost_usd);
  setIfDefined(layer, 'timeoutSeconds', values.timeout == null ? undefined : durationSeconds(values.timeout));
  setIfDefined(layer, 'maxTurns', values.max_turns);
  setIfDefined(layer, 'model', values.model);
  setIfDefined(layer, 'hostPorts', values.host_ports);
  setIfDefined(layer, 'devices', values.devices);
  setIfDefined(layer, 'env', values.env?.map(({ name, value }) => ({ name, value })));
  setIfDefined(layer, 'envFromWorker', values.env_from_worker);
  setIfDefined(layer, 'stackConfig', values.stack_config && toLayerSetups(values.stack_config));
  setIfDefined(layer, 'agentConfig', values.agent_config && toLayerSetups(values.agent_config));
  setIfDefined(layer, 'volumes', values.volumes?.map((volume, i) => toVolume(volume, home, `${table.file}: ${at('volumes')}[${i}]`)));
  if (values.ca_certificates) {
    layer.caCertificates = await Promise.all(
      values.ca_certificates.map((path, i) => caCertificate(path, table.file, home, `${at('ca_certificates')}[${i}]`)),
    );
  }
  let squid: SquidSource | undefined;
  if (typeof values.squid_conf === 'string') squid = { kind: 'inline', text: values.squid_conf };
  if (typeof values.squid_conf_path === 'string') {
    const path = await existingFile(values.squid_conf_path, table.file, home, at('squid_conf_path'));
    squid = { kind: 'file', path, origin: `${table.file}: ${at('squid_conf_path')}` };
  }
  setIfDefined(layer, 'squid', squid);
  return layer;
}
