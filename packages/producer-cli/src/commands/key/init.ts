import { Flags } from '@oclif/core';
import { tskDirs } from '@tsk/engine/core';
import { createSigningKey, signingKeyFile } from '@tsk/engine/signing';
import { BaseCommand } from '../../base-command.js';

export default class KeyInit extends BaseCommand {
  static override summary = 'Make your signing key: every task you queue is signed with it.';
  static override description =
    'Workers run only tasks signed by their owner or by a key in their [worker] trusted_keys. tsk add makes the key on ' +
    'first use; run this to choose its name, or with --force to replace it (tasks you queued before are then refused).';
  static override examples = ['<%= config.bin %> key init', '<%= config.bin %> key init --name alice@laptop'];
  static override enableJsonFlag = true;
  static override flags = {
    name: Flags.string({ description: 'How the key is shown in tsk list and on workers (default: user@host).' }),
    force: Flags.boolean({ description: 'Replace an existing key.', default: false }),
  };

  async run(): Promise<{ name: string; publicKey: string; file: string }> {
    const { flags } = await this.parse(KeyInit);
    const { configDir } = tskDirs();
    const key = await createSigningKey(configDir, { name: flags.name, replace: flags.force });
    const file = signingKeyFile(configDir);
    this.log(`Created signing key "${key.name}" in ${file}`);
    this.log(`Public key (give it to the owners of the workers that should run your tasks): ${key.publicKey} ${key.name}`);
    return { name: key.name, publicKey: key.publicKey, file };
  }
}
