import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { tskDirs } from '../common/paths.js';
import { sanitizeProjectName } from '../common/sanitize.js';
import { ConfigError } from '../errors/index.js';
import { log } from '../logging/index.js';
import { checkStackName, cliLayer, type CliConfigOverrides } from './cli-overrides.js';
import type { BuiltInDefaults, ConfigLayer, SquidSource } from './config-layer.js';
import { readSnippetLayers, type SnippetNames } from './dockerfile-snippets.js';
import { layerFromTable } from './layer-from-table.js';
import { mergeLayers } from './merge.js';
import { checkProjectTrust } from './project-trust.js';
import { readTomlFile } from './read-toml.js';
import type { ResolvedConfig } from './resolved-config.js';
import { sharedSchema } from './schema.js';
import { validateSharedTable, type ValidatedTable } from './shared-table.js';
import { validateUserFile } from './user-file.js';
import { loadTable } from './validate-table.js';

export interface LoadConfigOptions {
  /** The work tree (a linked worktree's own) whose `.tsk/tsk.toml` applies. */
  repoPath?: string;
  /**
   * The repository's main work tree, which `trusted_repositories` must name before its `.tsk/tsk.toml`
   * may reach this machine (a linked worktree is trusted through its main work tree).
   * @defaultValue repoPath
   */
  mainWorkdir?: string;
  /** Project name for `[project.<name>]`. @defaultValue the basename of `repoPath`, sanitised */
  project?: string;
  /** Command-line flags: the highest level. */
  cli?: CliConfigOverrides;
  /** Stack found by auto-detection, used when no level sets `stack`. */
  detectedStack?: string;
  /** Environment to read TSK_* and XDG variables from. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
}

function builtInDefaults(): BuiltInDefaults {
  const defaults = loadTable(sharedSchema, {}, 'built-in defaults');
  return {
    agent: defaults.get('agent'),
    memoryGb: defaults.get('memory_gb'),
    cpu: defaults.get('cpu'),
    gitTown: defaults.get('git_town'),
    pushBranches: defaults.get('push_branches'),
    networkIsolation: true,
  };
}

function projectNameOf(options: LoadConfigOptions): string {
  const raw = options.project || (options.repoPath ? basename(resolve(options.repoPath)) : '');
  return raw ? sanitizeProjectName(raw) : '';
}

/** The user's `[project.<name>]` table for this project; table names match after sanitising. */
function findProjectTable(projects: Map<string, ValidatedTable>, project: string): ValidatedTable | undefined {
  if (!project) return undefined;
  const matches = [...projects].filter(([name]) => sanitizeProjectName(name) === project);
  const [first, second] = matches;
  if (first && second) {
    throw new ConfigError(
      `${first[1].file}: project.${first[0]} and project.${second[0]} both configure project "${project}"; keep one`,
    );
  }
  return first?.[1];
}

/**
 * `<config>/tsk/squid.conf`, where TSK users keep their proxy configuration: the lowest file level, so any
 * `squid_conf` or `squid_conf_path` wins over it.
 */
async function userSquidConfLayer(configDir: string): Promise<ConfigLayer[]> {
  const path = join(configDir, 'squid.conf');
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? [{ source: path, squid: { kind: 'file', path, origin: path } }] : [];
}

async function readSquidConf(source: SquidSource | undefined): Promise<string | undefined> {
  if (source?.kind !== 'file') return source?.text;
  try {
    return await readFile(source.path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${source.origin}: cannot read ${source.path}`, { cause: error });
  }
}

/**
 * Resolves the configuration for one task (and the machine settings) from every level: command line >
 * user `[project.<name>]` > project `.tsk/tsk.toml` > the project's Dockerfile snippets > user `[defaults]`
 * > the user's snippets and `squid.conf` > detected stack > built-in defaults. Every file is validated
 * completely before anything is returned, and a project file may set keys that reach this machine only
 * for a repository in `trusted_repositories`. TSK's keys are read as tsk's, with `warnings`.
 *
 * @throws ConfigError naming the file, the key and what was expected; InputError for bad CLI values.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const dirs = tskDirs(env);
  const home = env.HOME || homedir();
  const userFile = join(dirs.configDir, 'tsk.toml');
  const projectFile = options.repoPath ? join(resolve(options.repoPath), '.tsk', 'tsk.toml') : undefined;
  const [userRaw, projectRaw] = await Promise.all([
    readTomlFile(userFile),
    projectFile ? readTomlFile(projectFile) : Promise.resolve(undefined),
  ]);

  const user = validateUserFile(userRaw ?? {}, userFile, env, home);
  const projectLevel =
    projectFile && projectRaw ? validateSharedTable(projectRaw, { file: projectFile, prefix: '' }, userFile) : undefined;
  // Before layerFromTable, which reads the files the table names (squid_conf_path, ca_certificates).
  if (projectLevel && options.repoPath) {
    const repository = options.mainWorkdir ?? options.repoPath;
    await checkProjectTrust(projectLevel, { repository, trusted: user.trustedRepositories, userFile, home });
  }
  const project = projectNameOf(options);
  const [userProject, projectTable, userDefaults] = await Promise.all(
    [findProjectTable(user.projects, project), projectLevel, user.defaults].map((table) => (table ? layerFromTable(table, home) : undefined)),
  );
  const detected: ConfigLayer[] = options.detectedStack
    ? [{ source: 'stack auto-detection', stack: checkStackName(options.detectedStack, 'detected stack') }]
    : [];
  const cli = cliLayer(options.cli ?? {});
  const defined = (layer: ConfigLayer | undefined): ConfigLayer[] => (layer ? [layer] : []);
  // Snippets are looked up by the stack and agent the other levels choose (a snippet cannot choose them).
  const chosen = mergeLayers([cli, ...defined(userProject), ...defined(projectTable), ...defined(userDefaults), ...detected], builtInDefaults());
  const names: SnippetNames = { stack: chosen.stack ?? 'default', agent: chosen.agent, project };
  const repoPath = options.repoPath ? resolve(options.repoPath) : undefined;
  // Only a task's configuration has image layers: commands without a repository read no snippet.
  const [projectSnippets, userSnippets] = repoPath
    ? await Promise.all([
        readSnippetLayers({ dir: join(repoPath, '.tsk', 'dockerfiles'), repositoryRoot: repoPath }, names),
        readSnippetLayers({ dir: join(dirs.configDir, 'dockerfiles') }, names),
      ])
    : [[], []];
  // A level's own keys over its snippet files; the project's level over the user's (see README, Configuration).
  const layers = [
    cli,
    ...defined(userProject),
    ...defined(projectTable),
    ...projectSnippets,
    ...defined(userDefaults),
    ...userSnippets,
    ...(await userSquidConfLayer(dirs.configDir)),
    ...detected,
  ];
  log.config('levels for project %s: %o', project, layers.map((layer) => layer.source));

  const { squid, layerOrigins, remote, ...merged } = mergeLayers(layers, builtInDefaults());
  return {
    task: { ...merged, squidConf: await readSquidConf(squid), baseImage: user.machine.baseImage },
    // The environment names the remote for every project; `[remote] url` is the lowest level.
    remote: env.TSK_REMOTE_URL ? user.machine.remoteUrl : (remote ?? user.machine.remoteUrl),
    machine: { ...user.machine, ...dirs, userFile },
    project,
    layerOrigins,
    warnings: [...user.warnings, ...(projectLevel?.warnings ?? [])],
  };
}
