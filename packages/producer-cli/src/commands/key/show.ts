import { InputError, tskDirs } from '@tsk/engine/core';
import { loadSigningKey, signingKeyFile } from '@tsk/engine/signing';
import { BaseCommand } from '../../base-command.js';

export default class KeyShow extends BaseCommand {
  static override summary = 'Print your public key, for the owners of workers that should run your tasks.';
  static override description =
    'The line it prints goes into a worker owner’s trusted keys file ([worker] trusted_keys_file), or as ' +
    '{ name, key } into [worker] trusted_keys.';
  static override examples = ['<%= config.bin %> key show', '<%= config.bin %> key show >> team-keys   # on the worker: trusted_keys_file'];
  static override enableJsonFlag = true;

  async run(): Promise<{ name: string; publicKey: string }> {
    await this.parse(KeyShow);
    const { configDir } = tskDirs();
    const key = await loadSigningKey(configDir);
    if (key === undefined) {
      throw new InputError(`No signing key in ${signingKeyFile(configDir)} yet`, { hint: 'run `tsk key init`; tsk add also makes one on first use' });
    }
    this.log(`${key.publicKey} ${key.name}`);
    return { name: key.name, publicKey: key.publicKey };
  }
}
