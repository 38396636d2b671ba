import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetsRoot } from '../common/assets.js';
import { renderInstructions } from './render-instructions.js';
import { listTemplates, readTemplate } from './template-store.js';

const BUILT_INS = ['ack', 'doc', 'feat', 'fix', 'plan', 'project-layer', 'refactor', 'shell', 'tech-stack'];
const facts = { STACK: 'python', PROJECT: 'web-app' };
const builtInDir = join(assetsRoot(), 'templates');
let configDir: string;

beforeAll(async () => {
  // An empty user config dir, so only the repository's built-in templates are seen.
  configDir = await mkdtemp(join(tmpdir(), 'tsk-built-ins-'));
});

afterAll(async () => {
  await rm(configDir, { recursive: true, force: true });
});

describe('built-in templates', () => {
  it('should ship every built-in with a description', async () => {
    const templates = await listTemplates({ configDir, builtInDir });
    expect(templates.map((t) => t.name)).toEqual(BUILT_INS);
    for (const template of templates) {
      expect(template.source).toBe('built-in');
      expect(template.description, template.name).toMatch(/\w/);
    }
  });

  it.each(BUILT_INS)('should render %s with a prompt, verbatim, asking for tests and a conventional commit', async (type) => {
    const prompt = 'Handle <a & "b"> and {{x}} in $HOME `now`';
    const warnings: string[] = [];
    const text = await renderInstructions({ type, prompt, configDir, builtInDir, facts, log: { write: (_, line) => void warnings.push(line) } });
    expect(text).toContain(prompt);
    expect(text).not.toMatch(/^---/);
    expect(text).toMatch(/[Tt]est/);
    expect(text).toMatch(/conventional commit/);
    expect(warnings).toEqual([]);
  });

  it.each(['ack', 'shell', 'tech-stack', 'project-layer'])('should render %s without a prompt', async (type) => {
    const text = await renderInstructions({ type, prompt: undefined, configDir, builtInDir, facts });
    expect(text).not.toContain('{{');
    expect(text.length).toBeGreaterThan(0);
  });

  it.each([
    ['tech-stack', '.tsk/dockerfiles/stack/python.dockerfile'],
    ['project-layer', '.tsk/dockerfiles/project/web-app.dockerfile'],
  ])('should make %s ask for the snippet tsk reads on the next task: %s', async (type, snippet) => {
    const text = await renderInstructions({ type, prompt: undefined, configDir, builtInDir, facts });
    expect(text).toContain(`Write \`${snippet}\``);
    expect(text).toMatch(/run as root while the image is built/);
  });

  it('should let the script agent run tech-stack with a prompt: everything before the prompt is a bash comment', async () => {
    const text = await renderInstructions({ type: 'tech-stack', prompt: 'echo from-the-prompt\nexit 0', configDir, builtInDir, facts });
    const beforePrompt = text.slice(0, text.indexOf('echo from-the-prompt'));
    expect(beforePrompt.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))).toEqual([]);
  });

  it('should make plan write a document rather than code', async () => {
    const { body } = await readTemplate('plan', { configDir, builtInDir });
    expect(body).toMatch(/do not change source code/);
  });
});
