import type { MachineConfig } from '@tsk/engine/config';
import type { LogSink } from '@tsk/engine/core';
import { signingKeyFile } from '@tsk/engine/signing';
import { loadLocalTrust, type LocalTrust } from '@tsk/engine/tasks';

/** The user's trust, and a way to tell them once their key was made. */
export interface UserTrust extends LocalTrust {
  /** Say that the key was made just now, if it was: call it once the command has done its work. */
  announce(): void;
}

/**
 * The user's signing key and the keys they trust (see `tsk key`). The key is made on first use, so a
 * single-user machine needs no set-up; the command says so once it has succeeded (a command that fails
 * prints only its one-line error).
 */
export async function userTrust(machine: MachineConfig, log: LogSink): Promise<UserTrust> {
  const trust = await loadLocalTrust(machine);
  return {
    ...trust,
    announce: () => {
      if (!trust.created) return;
      log.write('tsk', `Created your signing key "${trust.key.name}" in ${signingKeyFile(machine.configDir)}: tasks you queue are signed with it (tsk key show)`);
    },
  };
}
