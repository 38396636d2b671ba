import { Args } from '@oclif/core';
import { tskDirs } from '@tsk/engine/core';
import { readTemplate } from '@tsk/engine/templates';
import { BaseCommand } from '../../base-command.js';
import { repoFlag, repoRootOrUndefined } from '../../repo-flag.js';

export default class TemplateShow extends BaseCommand {
  static override summary = 'Print the raw text of a template.';
  static override args = { name: Args.string({ description: 'Template name (task type).', required: true }) };
  static override flags = { ...repoFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TemplateShow);
    const template = await readTemplate(args.name, { repoPath: await repoRootOrUndefined(flags.repo), configDir: tskDirs().configDir });
    process.stdout.write(template.text.endsWith('\n') ? template.text : `${template.text}\n`);
  }
}
