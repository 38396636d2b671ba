import createDebug from 'debug';

/**
 * Developer diagnostics (`DEBUG=tsk:*`). User-facing output never goes through here: it goes to a
 * {@link LogSink} that the CLI or worker renders.
 */
export const log = {
  config: createDebug('tsk:config'),
  git: createDebug('tsk:git'),
  docker: createDebug('tsk:docker'),
  proxy: createDebug('tsk:proxy'),
  runner: createDebug('tsk:runner'),
  queue: createDebug('tsk:queue'),
};
