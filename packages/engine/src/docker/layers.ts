/** The four layers of a sandbox image, in build order: agent last because it changes most. */
export const LAYER_KINDS = ['base', 'stack', 'project', 'agent'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];

/**
 * Where a layer's Dockerfile lines come from: `config` (`setup`, `stack_config.<stack>.setup`,
 * `agent_config.<agent>.setup`), `built-in` (a snippet under `dockerfiles/`), or `empty` (nothing to add).
 */
export type LayerSource = 'config' | 'built-in' | 'empty';

/** One layer of a composed image: its kind, what it is (stack or agent name, project name) and its source. */
export interface ImageLayer {
  kind: LayerKind;
  name: string;
  source: LayerSource;
}

/** Languages tsk detects and ships a stack layer for; `stack_config` may define more. */
export const BUILT_IN_STACKS = ['default', 'node', 'python', 'rust', 'go', 'java', 'lua'] as const;
export type BuiltInStack = (typeof BUILT_IN_STACKS)[number];
