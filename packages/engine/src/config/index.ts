export { loadConfig, type LoadConfigOptions } from './load-config.js';
export type { CliConfigOverrides } from './cli-overrides.js';
export { mergeLayers, type MergedTaskConfig } from './merge.js';
export type { BuiltInDefaults, ConfigLayer, SquidSource } from './config-layer.js';
export { readTomlFile } from './read-toml.js';
export type { ConfigWarning } from './tsk-keys.js';
export { sharedSchema, userSchema, type SharedTable, type UserTable } from './schema.js';
export type {
  ResolvedConfig,
  TaskConfig,
  MachineConfig,
  WorkerPolicy,
  DashboardSettings,
  VolumeMount,
  EnvVar,
  LayerSetup,
  LayerOrigins,
  CaCertificate,
} from './resolved-config.js';
