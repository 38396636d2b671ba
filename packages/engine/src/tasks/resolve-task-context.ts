import { loadConfig, type CliConfigOverrides, type ResolvedConfig } from '../config/index.js';
import { detectStack } from '../docker/stack-detection.js';
import { resolveRepository, type RepositoryInfo } from '../git/index.js';

export interface TaskContextOptions {
  /** Any path inside the repository (a linked worktree resolves to its main repository). */
  repoPath: string;
  project?: string;
  cli?: CliConfigOverrides;
  env?: NodeJS.ProcessEnv;
}

export interface TaskContext {
  repo: RepositoryInfo;
  config: ResolvedConfig;
  /** The stack the task uses: configured, else detected. */
  stack: string;
}

/** The repository and fully resolved configuration a new task (or an image build) starts from. */
export async function resolveTaskContext(options: TaskContextOptions): Promise<TaskContext> {
  const repo = await resolveRepository(options.repoPath);
  const config = await loadConfig({
    repoPath: repo.workdir,
    mainWorkdir: repo.mainWorkdir,
    project: options.project,
    cli: options.cli,
    detectedStack: await detectStack(repo.workdir),
    env: options.env,
  });
  return { repo, config, stack: config.task.stack ?? 'default' };
}
