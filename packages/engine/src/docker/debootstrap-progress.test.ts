import { describe, expect, it } from 'vitest';
import { debootstrapProgress } from './debootstrap-progress.js';

/** debootstrap's output for `count` packages (as a trixie minbase run prints it), trailing spaces included. */
function debootstrapOutput(count: number): string[] {
  const packages = Array.from({ length: count }, (_, index) => `pkg${index}`);
  return [
    'I: Retrieving InRelease ',
    'I: Valid Release signature (key id 4158)',
    'I: Checking component main on http://deb.debian.org/debian...',
    ...packages.flatMap((name) => [`I: Retrieving ${name} 1.0-1`, `I: Validating ${name} 1.0-1`]),
    'I: Chosen extractor for .deb packages: dpkg-deb',
    ...packages.map((name) => `I: Extracting ${name}...`),
    'I: Installing core packages...',
    'I: Unpacking required packages...',
    ...packages.slice(0, 3).map((name) => `I: Unpacking ${name}:amd64...`),
    'I: Configuring required packages...',
    ...packages.slice(0, 1).map((name) => `I: Configuring ${name}...`),
    'I: Base system installed successfully.',
  ];
}

function condense(lines: string[]): string[] {
  const progress = debootstrapProgress();
  return [...lines.flatMap((line) => progress.push(line)), ...progress.end()];
}

describe('debootstrapProgress', () => {
  it('should count each phase once, report downloads every 20 packages and pass the other lines through', () => {
    expect(condense(debootstrapOutput(45))).toEqual([
      'I: Retrieving InRelease',
      'I: Valid Release signature (key id 4158)',
      'I: Checking component main on http://deb.debian.org/debian...',
      'I: Retrieving packages: 20 so far…',
      'I: Retrieving packages: 40 so far…',
      'I: Retrieved 45 packages',
      'I: Chosen extractor for .deb packages: dpkg-deb',
      'I: Extracted 45 packages',
      'I: Installing core packages...',
      'I: Unpacking required packages...',
      'I: Unpacked 3 packages',
      'I: Configuring required packages...',
      'I: Configured 1 package',
      'I: Base system installed successfully.',
    ]);
  });

  it('should owe the count of the phase debootstrap died in', () => {
    const progress = debootstrapProgress();
    expect(['I: Retrieving apt 3.0.4', 'I: Validating apt 3.0.4', 'I: Retrieving bash 5.2'].flatMap((line) => progress.push(line))).toEqual([]);
    expect(progress.end()).toEqual(['I: Retrieved 2 packages']);
    expect(progress.end()).toEqual([]);
  });

  it('should pass through errors and lines that only look like a phase', () => {
    expect(condense(['E: Couldn\'t download packages: apt', 'I: Unpacking the base system...', 'W: Failure trying to run: chroot'])).toEqual([
      "E: Couldn't download packages: apt",
      'I: Unpacking the base system...',
      'W: Failure trying to run: chroot',
    ]);
  });
});
