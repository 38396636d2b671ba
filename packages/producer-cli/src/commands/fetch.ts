import { Args, Flags } from '@oclif/core';
import { fetchTaskResults, loadLocalTrust, oneLine, resolveRepository, type FetchOutcome } from '@tsk/engine';
import { BaseCommand } from '../base-command.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { taskIdsFrom } from '../queue/task-ids-arg.js';

export default class Fetch extends BaseCommand {
  static override summary = 'Bring task results from the shared remote into this repository as their tsk/… branches.';
  static override description =
    'Without ids: every finished task of this repository whose result is on the shared remote. Only results signed by a ' +
    'worker you trust are fetched, and an existing branch is never overwritten.';
  static override examples = ['<%= config.bin %> fetch', '<%= config.bin %> fetch AbC123_x'];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { ids: Args.string({ description: 'Task ids (default: all finished tasks of this repository)', required: false }) };
  static override flags = {
    repo: Flags.directory({ description: 'Repository to fetch into (default: the current directory).', exists: true }),
  };

  async run(): Promise<{ results: FetchOutcome[] }> {
    const { argv, flags } = await this.parse(Fetch);
    const ids = argv.length > 0 ? taskIdsFrom(argv) : undefined;
    const repo = await resolveRepository(flags.repo ?? process.cwd());
    await using opened = await openCliQueue();
    if (ids !== undefined) await opened.queue.getMany(ids);
    const { ring } = await loadLocalTrust(opened.config.machine);
    const results = await fetchTaskResults(opened.queue, { repoPath: repo.mainWorkdir, ids, ring });
    for (const result of results) this.log(oneLine(describe(result)));
    if (results.length === 0) this.log('No results to fetch');
    if (ids !== undefined && results.some((result) => result.kind === 'skipped')) {
      if (this.jsonEnabled()) this.logJson({ results });
      this.exit(1);
    }
    return { results };
  }
}

function describe(result: FetchOutcome): string {
  switch (result.kind) {
    case 'fetched':
      return `${result.id}: branch ${result.branch} (${result.commit.slice(0, 12)})`;
    case 'up-to-date':
      return `${result.id}: branch ${result.branch} already there`;
    case 'skipped':
      return `${result.id}: skipped: ${result.reason}`;
  }
}
