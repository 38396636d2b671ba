import { loadLocalTrust, signingKeyFile, type LocalTrust, type LogSink, type MachineConfig } from '@tsk/engine';

/**
 * The user's signing key and the keys they trust (see `tsk key`). The key is made on first use, so a
 * single-user machine needs no set-up; saying so once tells the user where it is.
 */
export async function userTrust(machine: MachineConfig, log: LogSink): Promise<LocalTrust> {
  const trust = await loadLocalTrust(machine);
  if (trust.created) {
    log.write('tsk', `Created your signing key "${trust.key.name}" in ${signingKeyFile(machine.configDir)}: tasks you queue are signed with it (tsk key show)`);
  }
  return trust;
}
