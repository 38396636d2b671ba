import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isBranchName } from './git-values.js';

/** What git itself says about `refs/heads/<name>`. */
function gitAcceptsRef(name: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', `refs/heads/${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('isBranchName against git check-ref-format', () => {
  it('should agree with git on every ASCII character at the start, middle and end of a name', () => {
    const names: string[] = [];
    for (let code = 1; code < 128; code++) {
      const c = String.fromCharCode(code);
      names.push(`a${c}b`, `${c}ab`, `ab${c}`, `a/${c}b`, `a${c}/b`);
    }
    names.push('a..b', 'a.lock', 'a/b.lock/c', 'a.lock/b', 'a@{1}', 'a/.b', 'a//b', 'x@y', 'v1.2', 'tsk/feat/x/AbC123_x');
    // tsk refuses more than the ref format: a leading '-' (read as an option), 'HEAD' and '@' (names of HEAD).
    const tskOnly = (name: string): boolean => name.startsWith('-') || name === 'HEAD' || name === '@';
    const disagreements = names.filter((name) => !tskOnly(name) && isBranchName(name) !== gitAcceptsRef(name));
    expect(disagreements.map((name) => JSON.stringify(name))).toEqual([]);
  });
});
