import { Flags } from '@oclif/core';
import { cleanTasks, cleanWorkspaces, createDocker, InputError, loadLocalTrust, parseDuration } from '@tsk/engine';
import { BaseCommand } from '../base-command.js';
import { openCliQueue } from '../queue/open-cli-queue.js';

export default class Clean extends BaseCommand {
  static override summary = 'Delete finished tasks (COMPLETE, FAILED, CANCELLED), or only those older than --older-than.';
  static override description = 'Result branches stay. Also removes the cached checkouts copy-on-write workspaces start from (those no running task uses) and workspace volumes left by killed tasks. A running server also does this for tasks older than [server] auto_clean_age_days.';
  static override examples = ['<%= config.bin %> clean', '<%= config.bin %> clean --older-than 7d'];
  static override enableJsonFlag = true;
  static override flags = {
    'older-than': Flags.string({ description: 'Only tasks that ended longer ago than this: 30m, 12h, 7d, 2w (a bare number is days).' }),
  };

  async run(): Promise<{ deleted: string[] }> {
    const { flags } = await this.parse(Clean);
    const age = flags['older-than'] === undefined ? undefined : parseDuration(flags['older-than'], 'd');
    if (flags['older-than'] !== undefined && age === undefined) {
      throw new InputError(`--older-than "${flags['older-than']}" is not a duration`, { hint: 'use e.g. 30m, 12h, 7d or 2w' });
    }
    await using opened = await openCliQueue();
    const before = age === undefined ? undefined : new Date(Date.now() - age);
    const cleanup = { dataDir: opened.config.machine.dataDir, ring: (await loadLocalTrust(opened.config.machine)).ring };
    const deleted = await cleanTasks(opened.queue, cleanup, before);
    this.log(`Removed ${deleted.length} finished task${deleted.length === 1 ? '' : 's'}`);
    // The shared checkouts copy-on-write workspaces start from are a cache: those no running task holds go.
    const workspaces = await cleanWorkspaces(createDocker(), cleanup.dataDir);
    if (workspaces.bases + workspaces.volumes > 0) this.log(`Removed ${workspaces.bases} cached checkout(s) and ${workspaces.volumes} leftover workspace volume(s)`);
    return { deleted };
  }
}
