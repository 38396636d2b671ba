import { Args } from '@oclif/core';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tskDirs } from '@tsk/engine/core';
import { readTemplate } from '@tsk/engine/templates';
import { BaseCommand } from '../../base-command.js';
import { openEditor } from '../../editor.js';
import { repoFlag, repoRootOrUndefined } from '../../repo-flag.js';

export default class TemplateEdit extends BaseCommand {
  static override summary = 'Edit a template in $EDITOR (a built-in is first copied to your user templates).';
  static override args = { name: Args.string({ description: 'Template name (task type).', required: true }) };
  static override flags = { ...repoFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TemplateEdit);
    const { configDir } = tskDirs();
    const template = await readTemplate(args.name, { repoPath: await repoRootOrUndefined(flags.repo), configDir });
    let path = template.path;
    if (template.source === 'built-in') {
      path = join(configDir, 'templates', `${args.name}.md`);
      await mkdir(join(configDir, 'templates'), { recursive: true });
      await copyFile(template.path, path);
      this.log(`Copied the built-in template to ${path}`);
    }
    openEditor(path);
  }
}
