import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * tsk's oclif manifest (`oclif.manifest.json` in the package): every command's id, flags, arguments and
 * help text, so `tsk --version`, `tsk --help` and `tsk <command> --help` load no command module, and a
 * command loads only its own. `npm run build` writes it after compiling.
 *
 * oclif trusts a manifest whose version matches the package's, and tsk's version does not change with
 * its code: a manifest from an earlier build would describe commands and flags that are no longer there.
 * So the manifest carries a fingerprint of the build it describes (the compilers' `.tsbuildinfo` of this
 * package and of the engine, which change whenever anything they compile does), and the `tsk` binary
 * writes it again before running when the fingerprint differs (see {@link ensureManifest}).
 */
export const MANIFEST_FILE = 'oclif.manifest.json';

/** The manifest as oclif reads it, plus the build it was made from. */
interface TskManifest {
  version: string;
  commands: Record<string, unknown>;
  tskBuild?: string;
}

/**
 * A fingerprint of the compiled code the manifest describes. `root` is this package; the engine is its
 * sibling in the workspace. A missing file counts as empty (an installation without build info keeps
 * whatever manifest it was shipped with).
 */
export async function buildFingerprint(root: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [join(root, 'dist', '.tsbuildinfo'), join(root, '..', 'engine', 'dist', '.tsbuildinfo')]) {
    const text = await readFile(file).catch(() => Buffer.alloc(0));
    hash.update(String(text.length)).update(':').update(text);
  }
  return hash.digest('hex');
}

/** Build the manifest by loading every command (what oclif does without one) and write it atomically. */
export async function writeManifest(root: string, fingerprint?: string): Promise<void> {
  // Loaded here: a `tsk` whose manifest is current never needs it.
  const { Plugin } = await import('@oclif/core/config');
  const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
  await plugin.load();
  const manifest: TskManifest = { ...plugin.manifest, tskBuild: fingerprint ?? (await buildFingerprint(root)) };
  const file = join(root, MANIFEST_FILE);
  // Another `tsk` may be writing it at the same moment: each writes its own file and renames it over.
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(manifest)}\n`, { flag: 'wx' });
    await rename(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * Make sure the manifest describes the code that is there: written again when it is missing, unreadable
 * or from another build. When it cannot be written, the stale one is removed (oclif then loads the
 * commands from their modules, as before manifests); when not even that is possible, returns why, for
 * one line on stderr.
 */
export async function ensureManifest(root: string): Promise<string | undefined> {
  const fingerprint = await buildFingerprint(root);
  const file = join(root, MANIFEST_FILE);
  const current = await readFile(file, 'utf8').then(
    (text) => (JSON.parse(text) as Partial<TskManifest>).tskBuild,
    () => undefined,
  );
  if (current === fingerprint) return undefined;
  try {
    await writeManifest(root, fingerprint);
    return undefined;
  } catch (error) {
    return rm(file, { force: true }).then(
      () => undefined,
      () => `${file} is from another build and cannot be written again (${(error as Error).message}): run \`npm run build\``,
    );
  }
}
