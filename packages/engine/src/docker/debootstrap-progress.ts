/** debootstrap's per-package lines: `Retrieving <pkg> <version>`, `Validating <pkg> <version>`, `Extracting <pkg>...`. */
const PER_PACKAGE = /^I: (?:(Retrieving|Validating) \S+ \S+|(Extracting|Unpacking|Configuring) \S+\.\.\.)$/;

const DONE: Record<string, string> = { Retrieving: 'Retrieved', Extracting: 'Extracted', Unpacking: 'Unpacked', Configuring: 'Configured' };

/** How often, in packages, a download in progress is reported: downloads are the slow part. */
const DOWNLOAD_EVERY = 20;

/** Condenses debootstrap's output into progress lines. */
export interface DebootstrapProgress {
  /** The lines to show for one line of debootstrap's output (often none). */
  push(line: string): string[];
  /** The lines still owed when debootstrap ends (the count of the phase it was in). */
  end(): string[];
}

/**
 * debootstrap prints two to four lines per package, ~400 for a minimal Debian. Shown are its other lines
 * as they are, one count per phase when the phase ends (`I: Retrieved 80 packages`), and, while packages
 * download, a count every {@link DOWNLOAD_EVERY} packages. Validating a download belongs to retrieving it.
 */
export function debootstrapProgress(): DebootstrapProgress {
  let phase: string | undefined;
  let count = 0;
  const finishPhase = (): string[] => {
    const done = phase === undefined ? [] : [`I: ${DONE[phase]} ${count} package${count === 1 ? '' : 's'}`];
    phase = undefined;
    count = 0;
    return done;
  };
  return {
    push(line) {
      const text = line.trimEnd();
      const match = PER_PACKAGE.exec(text);
      if (match === null) return [...finishPhase(), text];
      if (match[1] === 'Validating') return [];
      const verb = match[1] ?? match[2]!;
      const shown = verb === phase ? [] : finishPhase();
      phase = verb;
      count += 1;
      if (verb === 'Retrieving' && count % DOWNLOAD_EVERY === 0) shown.push(`I: Retrieving packages: ${count} so far…`);
      return shown;
    },
    end: finishPhase,
  };
}
