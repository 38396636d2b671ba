// `@tsk/engine/config`: configuration loading (convict, TOML); no Docker, git or Redis.
export {
  loadConfig,
  type CliConfigOverrides,
  type ResolvedConfig,
  type TaskConfig,
  type MachineConfig,
  type WorkerPolicy,
  type DashboardSettings,
  type VolumeMount,
  type EnvVar,
  type ConfigWarning,
  type LayerOrigins,
} from '../config/index.js';
