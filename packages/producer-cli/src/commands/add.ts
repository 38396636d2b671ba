import { Flags } from '@oclif/core';
import { InputError, oneLine, type TaskSpec } from '@tsk/engine/core';
import { signTask, taskSigner } from '@tsk/engine/signing';
import { createTaskSpec } from '@tsk/engine/tasks';
import type { TaskView } from '@tsk/engine/queue';
import { BaseCommand } from '../base-command.js';
import { printConfigWarnings } from '../config-warnings.js';
import { editInEditor } from '../editor.js';
import { findEarlierTask, followUpFlag } from '../follow-up.js';
import { readPrompt } from '../prompt-input.js';
import { noticeFirstRemoteUse } from '../remote-notice.js';
import { multiAgentFlag, parseAgents } from '../queue/agents-flag.js';
import { openCliQueue } from '../queue/open-cli-queue.js';
import { taskViewJson, type TaskViewJson } from '@tsk/engine/queue';
import { waitingNotes } from '../queue/waiting-notes.js';
import { waitExitCode, waitReport } from '../queue/wait-report.js';
import { agentRunFlags, agentRunOptions, parseRequires, requiresFlag, taskFlags } from '../task-flags.js';
import { terminalSink } from '../terminal-sink.js';
import { userTrust } from '../user-trust.js';

/** Variable names that usually hold secrets, which `env` would put in the queue in clear text. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE|CREDENTIAL/i;

export default class Add extends BaseCommand {
  static override summary = 'Queue a task for a worker (tsk server start) to run.';
  static override description =
    'Snapshots the repository now, so later edits do not change the task. With --parent the task waits until that task ' +
    'is COMPLETE and starts from its result; it fails or is cancelled with it. -a a,b queues one task per agent; ' +
    '-a a,a queues the same agent twice. With a shared remote (remote / TSK_REMOTE_URL) the snapshot is pushed there ' +
    'and any worker that reaches it can run the task; `tsk fetch` brings the results back as branches.';
  static override examples = [
    `<%= config.bin %> add -t feat -n dark-mode -p 'Add a dark mode toggle'`,
    `<%= config.bin %> add -n review -p 'Review the change' --parent AbC123_x`,
    `<%= config.bin %> add -a claude,codex -p 'Fix the flaky test' -w`,
    `<%= config.bin %> add -a claude,claude,codex -t feat -p 'Try three designs for the cache'`,
    `<%= config.bin %> add --requires gpu -p 'Train the small model and report the loss'`,
    `<%= config.bin %> add --follow-up AbC12345 -p 'Address the review comments' -w`,
  ];
  static override enableJsonFlag = true;
  static override flags = {
    ...taskFlags,
    ...multiAgentFlag,
    ...requiresFlag,
    ...agentRunFlags,
    parent: Flags.string({ description: 'Chain after this task: start from its result once it is COMPLETE.' }),
    ...followUpFlag,
    wait: Flags.boolean({ char: 'w', description: 'Wait for the task(s) to end, like tsk wait.', default: false }),
  };

  async run(): Promise<TaskViewJson[]> {
    const { flags } = await this.parse(Add);
    const log = terminalSink(process.stderr);
    const agents = parseAgents(flags.agent);
    const requires = parseRequires(flags.requires);
    const prompt = await readPrompt(flags, log);
    await using opened = await openCliQueue();
    const { queue } = opened;
    const trust = await userTrust(opened.config.machine, log);
    if (flags.parent !== undefined && (await queue.get(flags.parent)) === undefined) {
      throw new InputError(`No task ${flags.parent} to chain after`, { hint: 'see `tsk list`' });
    }
    const followUpOf = flags['follow-up'];
    const followUp = followUpOf === undefined ? undefined : await findEarlierTask(followUpOf, opened.config.machine.dataDir, trust.ring, async () => queue);
    let edited: string | undefined;
    const queued: TaskView[] = [];
    for (const agent of agents) {
      const spec = await createTaskSpec({
        repoPath: flags.repo ?? process.cwd(),
        type: flags.type,
        name: flags.name,
        prompt,
        agent,
        stack: flags.stack,
        project: flags.project,
        branch: flags.branch,
        networkIsolation: flags['network-isolation'] ? undefined : false,
        budget: agentRunOptions(flags),
        parentTaskId: flags.parent,
        followUp,
        requires,
        // One edit for all agents: they get the same instructions.
        edit: flags.edit ? async (text) => (edited ??= await editInEditor(text)) : undefined,
        log,
        onConfigWarnings: printConfigWarnings,
        signer: taskSigner(trust.key),
        viaRemote: true,
      });
      if (queued.length === 0 && spec.source.kind === 'remote') await noticeFirstRemoteUse(opened.config.machine.dataDir, spec.source.url, log);
      if (queued.length === 0) warnAboutSecrets(spec, opened.config.machine.redisUrl !== undefined, log);
      queued.push(await queue.add(signTask(spec, trust.key)));
      if (queued.length === 1) trust.announce();
      // The stack can come from the repository's own .tsk/ configuration.
      this.log(oneLine(`Queued ${spec.id} (${spec.type}, ${spec.stack}, ${spec.agent})`));
    }
    if (!flags.wait) return queued.map(taskViewJson);
    const ended = await queue.waitFor(queued.map((task) => task.id), { onPoll: waitingNotes((line) => log.write('tsk', line)) });
    for (const line of await waitReport(queue, ended, process.stdout.isTTY === true)) this.log(line);
    const result = ended.map(taskViewJson);
    if (waitExitCode(ended) !== 0) {
      if (flags.json) this.logJson(result);
      this.exit(1);
    }
    return result;
  }
}

/** `env` values travel with the task: on a shared Redis, every teammate can read them. */
function warnAboutSecrets(spec: TaskSpec, sharedQueue: boolean, log: { write(source: 'warn', line: string): void }): void {
  if (!sharedQueue) return;
  const names = spec.config.env.filter((variable) => SECRET_NAME.test(variable.name)).map((variable) => variable.name);
  if (names.length === 0) return;
  log.write('warn', `env ${names.join(', ')}: values go into the shared queue in clear text; list secrets in env_from_worker instead (the worker supplies them)`);
}
