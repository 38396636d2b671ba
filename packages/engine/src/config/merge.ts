import type { BuiltInDefaults, ConfigLayer, SquidSource } from './config-layer.js';
import type { LayerOrigins, LayerSetup, TaskConfig } from './resolved-config.js';

/** The merged task configuration, before the winning squid file is read and the base image added. */
export type MergedTaskConfig = Omit<TaskConfig, 'squidConf' | 'baseImage'> & {
  squid: SquidSource | undefined;
  remote: string | undefined;
  layerOrigins: LayerOrigins;
};

type ListField = 'hostPorts' | 'env' | 'envFromWorker' | 'volumes' | 'devices' | 'caCertificates';
type ListItem<F extends ListField> = NonNullable<ConfigLayer[F]>[number];

/** Scalars: the highest level that sets the field wins. */
function firstSet<K extends keyof ConfigLayer>(layers: readonly ConfigLayer[], field: K): ConfigLayer[K] | undefined {
  return layers.find((layer) => layer[field] !== undefined)?.[field];
}

/**
 * Lists combine across levels. Entries with the same key (container path, env name, port, value) are one
 * entry and the higher level's wins. Order is first appearance walking up from the lowest level, so a
 * higher level overriding an entry keeps its place and the result does not reorder between runs.
 */
function combine<F extends ListField>(
  layers: readonly ConfigLayer[],
  field: F,
  keyOf: (item: ListItem<F>) => unknown,
): ListItem<F>[] {
  const byKey = new Map<unknown, ListItem<F>>();
  for (const layer of [...layers].reverse()) {
    const items = (layer[field] ?? []) as readonly ListItem<F>[];
    for (const item of items) byKey.set(keyOf(item), item);
  }
  return [...byKey.values()];
}

/** Where a level's image layer came from: `<file>: <key>` for a table, else the level's source (a snippet's path). */
function originOf(layer: ConfigLayer, key: string): string {
  return layer.table ? `${layer.table.file}: ${layer.table.prefix}${key}` : layer.source;
}

/** `stack_config` / `agent_config`: merged per stack or agent name, the higher level winning. */
function mergeMaps(
  layers: readonly ConfigLayer[],
  field: 'stackConfig' | 'agentConfig',
): { values: Record<string, LayerSetup>; origins: Record<string, string> } {
  const key = field === 'stackConfig' ? 'stack_config' : 'agent_config';
  const merged = new Map<string, LayerSetup>();
  const origins = new Map<string, string>();
  for (const layer of [...layers].reverse()) {
    for (const [name, setup] of Object.entries(layer[field] ?? {})) {
      merged.set(name, setup);
      origins.set(name, originOf(layer, `${key}.${name}.setup`));
    }
  }
  return { values: Object.fromEntries(merged), origins: Object.fromEntries(origins) };
}

/**
 * Merges configuration levels into one task configuration. Pure: no I/O, no validation.
 *
 * @param layers - highest priority first (command line, user `[project.<name>]`, project file, user
 *   `[defaults]`, detected stack).
 * @param builtIn - the lowest level, which sets every scalar that must have a value.
 */
export function mergeLayers(layers: readonly ConfigLayer[], builtIn: BuiltInDefaults): MergedTaskConfig {
  const all = [...layers, { source: 'built-in defaults', ...builtIn }];
  const stackConfig = mergeMaps(all, 'stackConfig');
  const agentConfig = mergeMaps(all, 'agentConfig');
  const setupLayer = all.find((layer) => layer.setup !== undefined);
  return {
    agent: firstSet(all, 'agent') ?? builtIn.agent,
    stack: firstSet(all, 'stack'),
    memoryGb: firstSet(all, 'memoryGb') ?? builtIn.memoryGb,
    cpu: firstSet(all, 'cpu') ?? builtIn.cpu,
    setup: firstSet(all, 'setup'),
    stackConfig: stackConfig.values,
    agentConfig: agentConfig.values,
    hostPorts: combine(all, 'hostPorts', (port) => port),
    env: combine(all, 'env', (variable) => variable.name),
    envFromWorker: combine(all, 'envFromWorker', (name) => name),
    volumes: combine(all, 'volumes', (volume) => volume.container),
    devices: combine(all, 'devices', (device) => device),
    squid: firstSet(all, 'squid'),
    gitTown: firstSet(all, 'gitTown') ?? builtIn.gitTown,
    pushBranches: firstSet(all, 'pushBranches') ?? builtIn.pushBranches,
    remote: firstSet(all, 'remote'),
    caCertificates: combine(all, 'caCertificates', (certificate) => certificate.path),
    networkIsolation: firstSet(all, 'networkIsolation') ?? builtIn.networkIsolation,
    maxCostUsd: firstSet(all, 'maxCostUsd'),
    timeoutSeconds: firstSet(all, 'timeoutSeconds'),
    maxTurns: firstSet(all, 'maxTurns'),
    model: firstSet(all, 'model'),
    layerOrigins: {
      ...(setupLayer ? { setup: originOf(setupLayer, 'setup') } : {}),
      stackConfig: stackConfig.origins,
      agentConfig: agentConfig.origins,
    },
  };
}
