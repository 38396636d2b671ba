/** The four layers of a sandbox image, in build order: agent last because it changes most. */
export const LAYER_KINDS = ['base', 'stack', 'project', 'agent'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];

/**
 * Where a layer's Dockerfile lines come from: `config` (the task's configuration: `setup`,
 * `stack_config.<stack>.setup`, `agent_config.<agent>.setup`, or a `.tsk/dockerfiles/` or user
 * `dockerfiles/` snippet read into them), `built-in` (tsk's `dockerfiles/`), or `empty` (nothing to add).
 */
export type LayerSource = 'config' | 'built-in' | 'empty';

/** One layer of a composed image: its kind, what it is (stack or agent name, project name) and its source. */
export interface ImageLayer {
  kind: LayerKind;
  name: string;
  source: LayerSource;
  /**
   * For a `config` layer, where the configuration got it (`<file>: setup`, a snippet's path), when the
   * plan was made where that is known (`tsk docker build`). Shown by the dry run, never in the Dockerfile,
   * so the image is the same wherever the plan is made.
   */
  origin?: string;
}

/** Languages tsk detects and ships a stack layer for; `stack_config` may define more. */
export const BUILT_IN_STACKS = ['default', 'node', 'python', 'rust', 'go', 'java', 'lua'] as const;
export type BuiltInStack = (typeof BUILT_IN_STACKS)[number];
