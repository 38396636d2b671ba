import type { AgentName } from '../model/agent-name.js';
import type { CaCertificate, EnvVar, LayerSetup, VolumeMount } from './resolved-config.js';
import type { TableLocation } from './validate-table.js';

/** Where the proxy configuration comes from: inline text, or a file read once the winner is known. */
export type SquidSource =
  | { kind: 'inline'; text: string }
  /** `origin` names the file and key that set it, for the message if reading it fails. */
  | { kind: 'file'; path: string; origin: string };

/**
 * What one configuration level sets, already normalised (paths absolute, named volumes prefixed).
 * An absent field means "not set at this level", so a lower level decides.
 */
export interface ConfigLayer {
  /** Where the values came from (`<file> [project.foo]`, `command line`, a snippet's path…), for diagnostics. */
  source: string;
  /** The TOML table the values were read from, so an image layer's origin can name its key. */
  table?: TableLocation;
  agent?: AgentName;
  stack?: string;
  memoryGb?: number;
  cpu?: number;
  setup?: string;
  stackConfig?: Record<string, LayerSetup>;
  agentConfig?: Record<string, LayerSetup>;
  hostPorts?: number[];
  env?: EnvVar[];
  envFromWorker?: string[];
  volumes?: VolumeMount[];
  devices?: string[];
  squid?: SquidSource;
  gitTown?: boolean;
  pushBranches?: boolean;
  remote?: string;
  caCertificates?: CaCertificate[];
  networkIsolation?: boolean;
  maxCostUsd?: number;
  timeoutSeconds?: number;
  maxTurns?: number;
  model?: string;
}

/** The scalars every resolved configuration has: the lowest level, taken from the schema defaults. */
export type BuiltInDefaults = Required<Pick<ConfigLayer, 'agent' | 'memoryGb' | 'cpu' | 'gitTown' | 'pushBranches' | 'networkIsolation'>>;
