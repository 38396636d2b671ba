// Runs benchmark sections in one throwaway tsk home, writes the report, and removes what it made on
// success, failure, Ctrl+C and SIGTERM. A figure below its target never fails the run; `--check` makes
// the exit code say whether every target was met.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanUp, createContext, machine, root } from './harness.mjs';
import { renderMarkdown } from './figures.mjs';

const SECTIONS = ['startup', 'workspace', 'run', 'queue', 'cancel', 'throughput', 'logs'];

export const USAGE = `Usage: node bench/run.mjs [options] [section …]

Sections (all when none is named, in this order): ${SECTIONS.join(', ')}

Options:
  --quick        fewer samples and smaller fixtures: a few minutes instead of ~20
  --check        exit 1 when a figure misses its target (otherwise the exit code ignores figures)
  --lock <file>  hold this flock(1) lock file during each section that runs containers (run, queue,
                 cancel, throughput, logs), not between them: where several people share one Docker engine
  --update       replace only the named sections in <out>/report.json (default out: bench/) and write the
                 report again: one section re-run after a change, the others kept with their own date
  --out <dir>    write REPORT.md and report.json there (default: bench/ for a full run without --quick,
                 nowhere otherwise: the report is printed either way)
  -h, --help     show this help
`;

export async function runBench(argv, loaded = {}) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean', default: false }, check: { type: 'boolean', default: false }, out: { type: 'string' }, lock: { type: 'string' }, update: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = positionals.filter((name) => !SECTIONS.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown section ${unknown.join(', ')}; sections: ${SECTIONS.join(', ')}\n`);
    return 2;
  }
  const names = positionals.length > 0 ? SECTIONS.filter((name) => positionals.includes(name)) : SECTIONS;
  const full = names.length === SECTIONS.length;
  const out = values.out ?? ((full && !values.quick) || values.update ? join(root, 'bench') : undefined);

  const ctx = createContext({ quick: values.quick });
  let cleaning;
  const clean = () => (cleaning ??= cleanUp(ctx));
  const onSignal = (signal) => {
    process.stderr.write(`\n[bench] ${signal}: stopping this run's processes and removing what it made…\n`);
    void clean().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const report = {
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    quick: values.quick,
    machine: machine(),
    sections: [],
  };
  try {
    for (const name of names) {
      if (cleaning) break; // interrupted: no new section
      const section = loaded[name] ?? (await import(`../sections/${name}.mjs`)).section;
      ctx.progress(`section ${name}: ${section.title}`);
      const entry = { name, title: section.title, about: section.about, figures: [] };
      const lock = values.lock && section.docker ? await acquireLock(values.lock, ctx) : undefined;
      const started = Date.now(); // not counting the wait for the lock
      try {
        entry.figures = await section.run(ctx);
      } catch (error) {
        // One broken section must not hide the others' figures: it is reported as failed.
        entry.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`[bench] section ${name} failed: ${entry.error}\n`);
      } finally {
        await lock?.release();
      }
      entry.seconds = (Date.now() - started) / 1000;
      entry.ranAt = new Date(started).toISOString().replace(/\.\d+Z$/, 'Z');
      entry.commit = report.machine.commit;
      entry.quick = values.quick;
      report.sections.push(entry);
      // Written after every section: an interrupted or stalled run still leaves what it measured.
      writeReport(report, out, values.update, SECTIONS);
    }
  } finally {
    const removed = await clean();
    ctx.progress(`cleaned up: ${removed.containers} containers, ${removed.networks} networks, ${removed.volumes} volumes, ${ctx.work}`);
  }
  const written = writeReport(report, out, values.update, SECTIONS);
  process.stdout.write(`${written}\n`);
  if (out) ctx.progress(`wrote ${join(out, 'REPORT.md')} and report.json`);
  const figures = report.sections.flatMap((s) => s.figures);
  const failedSections = report.sections.filter((s) => s.error).length;
  if (values.check && (failedSections > 0 || figures.some((f) => f.pass === false))) return 1;
  return failedSections > 0 ? 1 : 0;
}

/**
 * The report as it stands, written to `out` (if any) and returned as Markdown. With `update`, sections not
 * run now keep their figures from the earlier report.json, each with the date it ran; sections measured by
 * neither are listed as not measured.
 */
function writeReport(report, out, update, order) {
  let sections = report.sections;
  let command = report.command;
  if (update && out) {
    const earlier = existsSync(join(out, 'report.json')) ? JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) : { sections: [] };
    const now = new Map(sections.map((section) => [section.name, section]));
    sections = order.map((name) => now.get(name) ?? earlier.sections.find((section) => section.name === name)).filter(Boolean);
    for (const section of sections) {
      section.ranAt ??= earlier.generatedAt;
      section.commit ??= earlier.machine?.commit;
    }
    if (earlier.command) command = earlier.command.includes(command) ? earlier.command : `${earlier.command}, then ${command}`;
  }
  const missing = order.filter((name) => !sections.some((section) => section.name === name));
  const complete = { ...report, command, sections, notMeasured: missing };
  const markdown = renderMarkdown(complete);
  if (out) {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'REPORT.md'), `${markdown}\n`);
    writeFileSync(join(out, 'report.json'), `${JSON.stringify(complete, null, 2)}\n`);
  }
  return markdown;
}

/**
 * Hold `file` with flock(1) until release(): `flock` runs `cat`, which keeps the lock while its stdin is
 * open. Waits as long as others hold it.
 */
export async function acquireLock(file, ctx) {
  const { spawn } = await import('node:child_process');
  const { track, exited } = await import('./harness.mjs');
  ctx.progress(`waiting for the lock ${file}`);
  const holder = track(spawn('flock', [file, 'sh', '-c', 'echo locked; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] }));
  await new Promise((resolve, reject) => {
    holder.stdout.once('data', resolve);
    holder.once('exit', (code) => reject(new Error(`flock ${file} exited (${code})`)));
  });
  return {
    async release() {
      holder.stdin.end();
      await exited(holder);
    },
  };
}

/** `node bench/sections/<name>.mjs [options]`: that section alone, as `node bench/run.mjs <name>`. */
export async function runIfMain(metaUrl, section) {
  const { fileURLToPath } = await import('node:url');
  // The section is handed over, not imported again: its module is still evaluating (top-level await).
  if (process.argv[1] === fileURLToPath(metaUrl)) process.exitCode = await runBench([...process.argv.slice(2), section.name], { [section.name]: section });
}
