/** Where a template was found, highest priority first: the repository, the user's config, tsk itself. */
export type TemplateSource = 'project' | 'user' | 'built-in';

/** One available template, as `tsk template list` shows it. */
export interface TemplateInfo {
  /** The task type, i.e. the file name without `.md`. */
  name: string;
  source: TemplateSource;
  path: string;
  /** The frontmatter `description`, if the template has one. */
  description: string | undefined;
}

/** A template's raw text (frontmatter included, as `tsk template show` prints it) and its body. */
export interface TemplateText extends TemplateInfo {
  text: string;
  /** The text without frontmatter: what gets rendered. */
  body: string;
}

/** Where to look for templates. */
export interface TemplateLocationOptions {
  /** Repository whose `.tsk/templates/` takes priority. */
  repoPath?: string;
  /** tsk's user config directory (`$TSK_CONFIG_HOME/tsk`); its `templates/` comes second. */
  configDir: string;
  /** Built-in templates. @defaultValue `<assetsRoot()>/templates` */
  builtInDir?: string;
}
