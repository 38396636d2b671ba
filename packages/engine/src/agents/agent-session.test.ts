import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAgentSessionId } from './agent.js';
import { ClaudeLogParser } from './claude/claude-log-parser.js';
import { getAgent } from './registry.js';

describe('agent sessions (follow-ups resume them)', () => {
  it('Claude’s parser keeps the session id of its init event (real Claude Code output)', () => {
    const parser = new ClaudeLogParser();
    const text = readFileSync(new URL('./fixtures/claude-stream.jsonl', import.meta.url), 'utf8');
    for (const line of text.split('\n').filter((line) => line.trim())) parser.parse(line);
    expect(parser.outcome().sessionId).toBe('b12eed9a-8b8d-4cb3-8c17-e1973af24f45');
  });

  it('an id that is no session id is ignored: it would reach a file name and a command line', () => {
    const parser = new ClaudeLogParser();
    parser.parse(JSON.stringify({ type: 'system', subtype: 'init', session_id: '../../etc/x; rm -rf /' }));
    expect(parser.outcome().sessionId).toBeUndefined();
    expect(isAgentSessionId('945b4983-be15-4074-93d8-39d7dfba1457')).toBe(true);
    expect(isAgentSessionId('a/b')).toBe(false);
  });

  it('claude resumes a session with --resume; an id that is not one never reaches its command', () => {
    const claude = getAgent('claude');
    expect(claude.command({ resumeSessionId: 'b12eed9a-8b8d-4cb3-8c17-e1973af24f45' }).join(' ')).toContain(' --resume b12eed9a-8b8d-4cb3-8c17-e1973af24f45');
    expect(claude.command({ resumeSessionId: '$(touch /x)' }).join(' ')).not.toContain('--resume');
    expect(claude.keepsSession?.transcript('/workspace/my.proj', 'abc')).toBe('.claude/projects/-workspace-my-proj/abc.jsonl');
    expect(getAgent('script').keepsSession).toBeUndefined();
  });
});
