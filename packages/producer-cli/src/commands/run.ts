import { oneLine } from '@tsk/engine/core';
import { deleteSnapshotRef, endedRunRecord, RunRecords, startedRunRecord, type RunRecord } from '@tsk/engine/tasks';
import { BaseCommand } from '../base-command.js';
import { cancelOnSignal } from '../cancel-on-signal.js';
import { createEngineContext, createInlineRunner } from '../engine-context.js';
import { assertEditorTerminal } from '../editor.js';
import { followUpFlag } from '../follow-up.js';
import { createLocalTask } from '../local-task.js';
import { agentRunFlags, requiresFlag, singleAgentFlag, taskFlags } from '../task-flags.js';
import { taskJson } from '../task-json.js';
import type { TaskViewJson } from '@tsk/engine/queue';
import { colorStatus, terminalSink } from '../terminal-sink.js';

export default class Run extends BaseCommand {
  static override summary = 'Run one task now in the foreground and print its result branch.';
  static override description =
    'Snapshots the repository (uncommitted edits and untracked files, never ignored ones), runs the agent in a sandbox, ' +
    'and fetches the result branch tsk/<type>/<name>/<id> into the repository. Ctrl+C cancels the task. Needs no Redis.';
  static override examples = [
    `<%= config.bin %> run -t feat -n dark-mode -p 'Add a dark mode toggle'`,
    `<%= config.bin %> run --agent script -n hello -p 'echo hello > hello.txt'`,
    `<%= config.bin %> run --follow-up AbC12345 -p 'Also remember the choice across restarts'`,
  ];
  static override enableJsonFlag = true;
  static override flags = { ...taskFlags, ...singleAgentFlag, ...requiresFlag, ...agentRunFlags, ...followUpFlag };

  async run(): Promise<TaskViewJson> {
    const { flags } = await this.parse(Run);
    // With --json, stdout carries only the JSON object: every log line goes to stderr.
    const log = terminalSink(process.stderr, flags.json ? process.stderr : process.stdout);
    // Before reading stdin or snapshotting anything: without a terminal there is no point.
    if (flags.edit) assertEditorTerminal('--edit');
    const { spec, grant, agentApi, followUp, proxyIdleTimeoutMs } = await createLocalTask(flags, log);
    // Without an engine the task cannot start: its snapshot ref goes, as it does after a run.
    const context = await createEngineContext().catch(async (error: unknown) => {
      await deleteSnapshotRef(spec.repoPath, spec.id).catch(() => undefined);
      throw error;
    });
    // Kept so the task can be followed up (`--follow-up`) and listed; a record that cannot be written costs a warning, not the task.
    const runs = new RunRecords(context.dataDir);
    const started = startedRunRecord(spec);
    const keep = (record: RunRecord) => runs.save(record).catch((error: unknown) => log.write('warn', `Could not keep the record of task ${spec.id}: ${(error as Error).message}`));
    await keep(started);
    // The agent's session is kept beside the record; a follow-up by the same agent resumes it.
    const session = runs.sessionFor(spec, followUp);
    if (session.resume !== undefined) log.write('tsk', `Resuming ${spec.agent}'s session ${session.resume.sessionId} of task ${followUp?.id}`);
    const cancel = cancelOnSignal(() => log.write('tsk', 'Cancelling…'));
    const result = await createInlineRunner(context, agentApi, { proxyIdleTimeoutMs })
      .run(spec, { log, signal: cancel.signal, grant, session })
      .finally(async () => {
        cancel.dispose();
        await deleteSnapshotRef(spec.repoPath, spec.id).catch(() => undefined);
      });
    await keep(endedRunRecord(started, result, result.agentSessionId));
    const summary = taskJson(spec, result);
    if (!flags.json) {
      // The error or summary may be the agent's words.
      const outcome = oneLine(result.branch ? `branch ${result.branch}` : (result.error ?? result.summary ?? 'No changes'));
      process.stderr.write(`${colorStatus(result.status, process.stderr.isTTY === true)} ${spec.id}: ${outcome}\n`);
    }
    if (result.status !== 'COMPLETE') {
      if (flags.json) this.logJson(summary);
      this.exit(result.status === 'CANCELLED' ? 130 : 1);
    }
    return summary;
  }
}
