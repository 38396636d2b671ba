import { describe, expect, it } from 'vitest';
import { composeFollowUpInstructions, FOLLOW_UP_LIMITS, type EarlierTaskFacts } from './follow-up-instructions.js';

const earlier: EarlierTaskFacts = {
  id: 'AbC12345',
  branch: 'tsk/feat/x/AbC12345',
  instructions: 'Add a dark mode toggle. Use {{PROMPT}} literally.',
  summary: 'Added the toggle\u001b[31m in settings',
  commits: ['1a2b3c4 feat: dark mode toggle', '5d6e7f8 test: toggle'],
  diffstat: ' src/theme.ts | 12 ++++++++++--\n 1 file changed, 10 insertions(+), 2 deletions(-)',
};

describe('composeFollowUpInstructions', () => {
  it('puts the earlier instructions, what was done, and the new request in that order', () => {
    const text = composeFollowUpInstructions(earlier, 'Make the toggle remember the choice.');
    const order = ['# Follow-up of task AbC12345', 'Add a dark mode toggle. Use {{PROMPT}} literally.', 'Its summary: Added the toggle in settings', '- 1a2b3c4 feat: dark mode toggle\n- 5d6e7f8 test: toggle', 'src/theme.ts | 12', '## The new request\n\nMake the toggle remember the choice.\n'];
    let at = -1;
    for (const part of order) {
      const next = text.indexOf(part);
      expect(next, part).toBeGreaterThan(at);
      at = next;
    }
    expect(text).toContain('branch\n`tsk/feat/x/AbC12345`');
    expect(text).not.toContain('\u001b');
  });

  it('says when the earlier task made no commits and has no summary', () => {
    const text = composeFollowUpInstructions({ ...earlier, summary: undefined, commits: [], diffstat: '' }, 'Try again.');
    expect(text).toContain('It made no commits.');
    expect(text).not.toContain('Its summary');
    expect(text).not.toContain('Files changed');
  });

  it('bounds what the earlier task brings: commits and instructions are cut, saying so', () => {
    const commits = Array.from({ length: FOLLOW_UP_LIMITS.commits + 5 }, (_, index) => `${index} subject`);
    const text = composeFollowUpInstructions({ ...earlier, commits, instructions: 'x'.repeat(FOLLOW_UP_LIMITS.instructionsChars + 10) }, 'Go on.');
    expect(text).toContain('- … 5 more');
    expect(text).toContain(`(cut at ${FOLLOW_UP_LIMITS.instructionsChars} characters)`);
    expect(text.length).toBeLessThan(FOLLOW_UP_LIMITS.instructionsChars + 20_000);
  });
});

describe('composeFollowUpInstructions for the script agent', () => {
  it('turns everything but the new request into bash comments, so the earlier script is shown, not run again', () => {
    const text = composeFollowUpInstructions({ ...earlier, instructions: 'echo one > notes.txt\ngit commit -qam one' }, 'echo two >> notes.txt', { script: true });
    const lines = text.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('echo two >> notes.txt');
    expect(lines.slice(0, -1).every((line) => line.startsWith('#'))).toBe(true);
    expect(text).toContain('# echo one > notes.txt\n# git commit -qam one');
  });
});
