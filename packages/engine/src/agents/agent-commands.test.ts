import { describe, expect, it } from 'vitest';
import { getAgent } from './registry.js';

describe('agent commands', () => {
  it('pass every option as an argument of its own, never into the shell script', () => {
    const hostile = 'x"; touch /tmp/pwned; "';
    for (const name of ['claude', 'codex'] as const) {
      const command = getAgent(name).command({ model: hostile, maxTurns: 3 });
      expect(command.slice(0, 3)).toEqual(['sh', '-c', 'exec "$0" "$@" < /tsk/instructions.md']);
      expect(command).toContain(hostile);
    }
    expect(getAgent('claude').command({ model: 'claude-sonnet-4-5', maxTurns: 7 }).slice(3)).toEqual([
      'claude', '-p', '--verbose', '--output-format', 'stream-json', '--dangerously-skip-permissions', '--max-turns', '7', '--model', 'claude-sonnet-4-5',
    ]);
    expect(getAgent('codex').command({ model: 'gpt-5.5-codex' }).slice(3)).toEqual(['codex', 'exec', '--dangerously-bypass-approvals-and-sandbox', '--json', '-m', 'gpt-5.5-codex', '-']);
  });

  it('give the sandbox a placeholder and the gateway’s address, never a key', () => {
    const claude = getAgent('claude').api?.sandbox('http://127.0.0.1:4180');
    expect(claude?.env).toContainEqual({ name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:4180' });
    const codex = getAgent('codex').api?.sandbox('http://127.0.0.1:4180');
    expect(codex?.files.find((file) => file.path === '.codex/config.toml')?.content).toContain('base_url = "http://127.0.0.1:4180/v1"');
    expect(JSON.stringify([claude, codex])).not.toMatch(/sk-ant|sk-proj|sk-[A-Za-z0-9]{20}/);
  });
});
