import { Flags } from '@oclif/core';
import { join } from 'node:path';
import { agentIds, assetsRoot, buildRepositoryImage, createDocker, ensureBaseImage, imageId, planProxyImage, planRepositoryImage, renderDryRun } from '@tsk/engine';
import { parseAgent } from '../../task-flags.js';
import { BaseCommand } from '../../base-command.js';
import { printConfigWarnings } from '../../config-warnings.js';
import { createEngineContext, createProxyManager, type EngineContext } from '../../engine-context.js';
import { terminalSink } from '../../terminal-sink.js';

export default class DockerBuild extends BaseCommand {
  static override summary = 'Build the sandbox image for this repository (base, stack, project and agent layers).';
  static override description =
    'Images are tagged by a content hash of the composed Dockerfile, so an unchanged image is never rebuilt. ' +
    'The build runs behind the repository’s network proxy, with its memory and CPU limits, like a task’s. ' +
    '--dry-run prints the composed Dockerfile with where each layer came from.';
  static override flags = {
    stack: Flags.string({ description: 'Stack layer (default: configured, else detected).' }),
    agent: Flags.string({ char: 'a', description: 'Agent layer (default: configured, else claude).' }),
    project: Flags.string({ description: 'Project name (default: the repository directory name).' }),
    repo: Flags.directory({ description: 'Repository (default: the current directory).', exists: true }),
    'dry-run': Flags.boolean({ description: 'Print the composed Dockerfile and tag; build nothing.', default: false }),
    'no-cache': Flags.boolean({ description: "Rebuild without Docker's layer cache.", default: false }),
    'proxy-only': Flags.boolean({
      description: 'Build only the network proxy image (squid/), not the sandbox image.',
      default: false,
      exclusive: ['stack', 'agent', 'project', 'repo'],
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DockerBuild);
    if (flags['proxy-only']) return this.buildProxy(flags['dry-run'], flags['no-cache']);
    const log = terminalSink();
    // A dry run needs no engine; when one answers, its base image id makes the printed tag the real one.
    // The engine is asked for only once the plan has checked the flags and the configuration, so what is
    // malformed is said as such, with or without Docker.
    let engine: Promise<EngineContext> | undefined;
    const context = () => (engine ??= createEngineContext());
    const planned = await planRepositoryImage(
      {
        repoPath: flags.repo ?? process.cwd(),
        stack: flags.stack,
        agent: parseAgent(flags.agent),
        project: flags.project,
        baseImageId: async (baseImage) =>
          flags['dry-run']
            ? imageId(createDocker(), baseImage).catch(() => undefined)
            : (await ensureBaseImage({ docker: (await context()).docker, tag: baseImage, log })).id,
      },
      agentIds(),
    );
    printConfigWarnings(planned.warnings);
    if (flags['dry-run']) {
      process.stdout.write(renderDryRun(planned.plan));
      return;
    }
    const ready = await context();
    const { tag, built } = await buildRepositoryImage(planned, { ...ready, network: createProxyManager(ready, log), log, noCache: flags['no-cache'] });
    process.stdout.write(`${tag}${built ? '' : ' (up to date)'}\n`);
  }

  /** The proxy image is the same for every repository: no repository needed. */
  private async buildProxy(dryRun: boolean, noCache: boolean): Promise<void> {
    if (dryRun) {
      process.stdout.write(renderDryRun(await planProxyImage(join(assetsRoot(), 'squid'))));
      return;
    }
    const proxies = createProxyManager(await createEngineContext());
    const { tag, built } = await proxies.ensureImage({ log: terminalSink(), noCache });
    process.stdout.write(`${tag}${built ? '' : ' (up to date)'}\n`);
  }
}
