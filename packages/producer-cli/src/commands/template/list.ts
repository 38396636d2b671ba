import { tskDirs } from '@tsk/engine/core';
import { listTemplates } from '@tsk/engine/templates';
import { BaseCommand } from '../../base-command.js';
import { repoFlag, repoRootOrUndefined } from '../../repo-flag.js';

interface TemplateRow {
  name: string;
  source: string;
  description: string;
  path: string;
}

export default class TemplateList extends BaseCommand {
  static override summary = 'List task templates with their source (project, user, built-in) and description.';
  static override enableJsonFlag = true;
  static override flags = { ...repoFlag };

  async run(): Promise<TemplateRow[]> {
    const { flags } = await this.parse(TemplateList);
    const templates = await listTemplates({ repoPath: await repoRootOrUndefined(flags.repo), configDir: tskDirs().configDir });
    const rows = templates.map((t) => ({ name: t.name, source: t.source, description: t.description ?? '', path: t.path }));
    const width = Math.max(4, ...rows.map((row) => row.name.length));
    this.log(`${'NAME'.padEnd(width)}  ${'SOURCE'.padEnd(8)}  DESCRIPTION`);
    for (const row of rows) this.log(`${row.name.padEnd(width)}  ${row.source.padEnd(8)}  ${row.description}`);
    return rows;
  }
}
