import { Flags } from '@oclif/core';
import { deleteSnapshotRef, oneLine } from '@tsk/engine';
import { BaseCommand } from '../base-command.js';
import { cancelOnSignal } from '../cancel-on-signal.js';
import { createEngineContext, createInlineRunner } from '../engine-context.js';
import { createLocalTask } from '../local-task.js';
import { singleAgentFlag, taskFlags } from '../task-flags.js';
import { colorStatus, terminalSink } from '../terminal-sink.js';
import { UserTerminal } from '../user-terminal.js';

export default class Shell extends BaseCommand {
  static override summary = 'Open an interactive shell in a sandbox; on exit its work is saved as a branch.';
  static override description =
    'Snapshots the repository like tsk run and opens a shell in the sandbox (the agent installed, the rendered ' +
    'instructions printed, the same network isolation as any task). Ctrl+C goes to the shell. When the shell exits ' +
    '(exit, Ctrl+D, or the terminal closing) the changes are committed and fetched as the branch tsk/<type>/<name>/<id>.';
  static override examples = [`<%= config.bin %> shell`, `<%= config.bin %> shell -n spike --agent codex -p 'Try the new parser'`];
  static override flags = {
    ...taskFlags,
    type: Flags.string({ char: 't', description: 'Task template: the preamble printed in the shell.', default: 'shell' }),
    ...singleAgentFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Shell);
    const log = terminalSink(process.stderr);
    // Until the shell is attached, Ctrl+C and SIGTERM cancel as in tsk run. While it is, the terminal is
    // raw (Ctrl+C is a byte for the sandbox's shell); a SIGTERM still kills the container and cleans up.
    const cancel = cancelOnSignal(() => log.write('tsk', 'Cancelling…'));
    try {
      // Before anything is snapshotted: without a terminal there is nothing to attach to.
      using terminal = UserTerminal.open(cancel.cancel);
      const { spec, grant, agentApi, proxyIdleTimeoutMs } = await createLocalTask(flags, log);
      // Without an engine the shell cannot start: its snapshot ref goes, as it does after a session.
      const context = await createEngineContext().catch(async (error: unknown) => {
        await deleteSnapshotRef(spec.repoPath, spec.id).catch(() => undefined);
        throw error;
      });
      const result = await createInlineRunner(context, agentApi, { proxyIdleTimeoutMs })
        .run(spec, { log, signal: cancel.signal, grant, terminal })
        .finally(() => deleteSnapshotRef(spec.repoPath, spec.id).catch(() => undefined));
      const outcome = oneLine(result.branch ? `branch ${result.branch}` : (result.error ?? result.summary ?? 'No changes'));
      process.stderr.write(`${colorStatus(result.status, process.stderr.isTTY === true)} ${spec.id}: ${outcome}\n`);
      if (result.status !== 'COMPLETE') this.exit(result.status === 'CANCELLED' ? 130 : 1);
    } finally {
      cancel.dispose();
    }
  }
}
