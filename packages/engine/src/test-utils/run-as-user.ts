import { execFileSync, spawn } from 'node:child_process';
import { chmod, chown, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from './git-fixtures.js';

/** An unprivileged account tests run code as. */
export interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

/** A system account made for these tests, so no real user's files are ever involved. */
const TEST_USER = 'tsk-test';

function lookUp(name: string): TestUser | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { name, uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * The `tsk-test` system account, created when missing (idempotent; a concurrent creation is fine).
 * Undefined when this process is not root: it can neither create the account nor switch to it.
 */
export function ensureTestUser(): TestUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = lookUp(TEST_USER);
  if (existing) return existing;
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER], { stdio: 'pipe' });
  } catch (error) {
    // Another test process may have created it in between; only a still-missing account is an error.
    if (!lookUp(TEST_USER)) throw error;
  }
  const created = lookUp(TEST_USER);
  if (!created) throw new Error(`useradd did not create ${TEST_USER}`);
  return created;
}

/** Give `paths` (recursively) to `user`. */
export function chownTo(user: TestUser, ...paths: string[]): void {
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, ...paths]);
}

/**
 * Load hooks that let plain node import the engine's TypeScript sources: `./x.js` resolves to `./x.ts`
 * next to it, and `.ts` files are transpiled (types stripped) by the project's own TypeScript.
 */
function loaderSource(typescriptPath: string): string {
  return `
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from ${JSON.stringify(pathToFileURL(typescriptPath).href)};
export async function resolve(specifier, context, next) {
  if (context.parentURL?.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js')) {
    const url = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(readFileSync(fileName, 'utf8'), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
`;
}

const MAIN = `
import { register } from 'node:module';
import { writeFileSync } from 'node:fs';
const [loader, moduleUrl, exportName, argsJson, resultFile] = process.argv.slice(2);
register(loader);
try {
  const module = await import(moduleUrl);
  const value = await module[exportName](...JSON.parse(argsJson));
  writeFileSync(resultFile, JSON.stringify({ value: value ?? null }));
} catch (error) {
  writeFileSync(resultFile, JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
}
`;

/**
 * Call `exportName(...args)` of the engine's TypeScript module `moduleUrl` in a separate node process
 * running as `user`, and return what it returns (arguments and result go through JSON). For tests whose
 * point is what happens when tsk runs as an ordinary user. `env` is layered over this process's
 * environment; HOME is a fresh directory the user owns.
 */
export async function callAsUser<T>(user: TestUser, moduleUrl: URL, exportName: string, args: readonly unknown[], env: Record<string, string> = {}): Promise<T> {
  const dir = await tempDir('tsk-as-user-');
  const typescriptPath = createRequire(import.meta.url).resolve('typescript');
  await writeFile(join(dir, 'loader.mjs'), loaderSource(typescriptPath));
  await writeFile(join(dir, 'main.mjs'), MAIN);
  await chmod(dir, 0o755);
  await chown(dir, user.uid, user.gid);
  const resultFile = join(dir, 'result.json');
  const argv = [join(dir, 'main.mjs'), pathToFileURL(join(dir, 'loader.mjs')).href, moduleUrl.href, exportName, JSON.stringify(args), resultFile];
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, argv, { uid: user.uid, gid: user.gid, cwd: dir, env: { ...process.env, HOME: dir, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ code: exitCode, stderr: errors }));
  });
  const outcome = JSON.parse(await readFile(resultFile, 'utf8').catch(() => `{"error":${JSON.stringify(`exit ${String(code)}: ${stderr}`)}}`)) as {
    value?: T;
    error?: string;
  };
  if (outcome.error !== undefined) throw new Error(`${exportName} as ${user.name} failed: ${outcome.error}`);
  return outcome.value as T;
}
