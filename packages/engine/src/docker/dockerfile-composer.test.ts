import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetsRoot } from '../common/assets.js';
import { ConfigError } from '../errors/index.js';
import { builtInLayerNames, composeImagePlan, renderDryRun, type ComposeImagePlanInput } from './dockerfile-composer.js';

const BUILT_IN_DIR = join(assetsRoot(), 'dockerfiles');

const PEM = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`;

function input(overrides: Partial<ComposeImagePlanInput> = {}): ComposeImagePlanInput {
  return {
    config: { baseImage: 'debian:bookworm-slim', setup: undefined, stackConfig: {}, agentConfig: {} },
    stack: 'python',
    agent: 'claude',
    project: 'my-app',
    agentUid: 1000,
    agentGid: 1000,
    builtInDir: BUILT_IN_DIR,
    ...overrides,
  };
}

describe('composeImagePlan', () => {
  it('should order the layers base, stack, project, agent and end as the agent user', () => {
    const plan = composeImagePlan(input({ config: { ...input().config, setup: 'RUN echo project-setup' } }));
    expect(plan.layers.map((layer) => layer.kind)).toEqual(['base', 'stack', 'project', 'agent']);
    const at = (text: string) => plan.dockerfile.indexOf(text);
    expect(plan.dockerfile.startsWith('# ---- tsk layer base')).toBe(true);
    expect(at('FROM debian:bookworm-slim')).toBeGreaterThan(0);
    expect(at('FROM debian:bookworm-slim')).toBeLessThan(at('python3-venv'));
    expect(at('python3-venv')).toBeLessThan(at('RUN echo project-setup'));
    expect(at('RUN echo project-setup')).toBeLessThan(at('@anthropic-ai/claude-code'));
    expect(plan.dockerfile.trimEnd().split('\n').slice(-2)).toEqual(['USER agent', 'WORKDIR /workspace']);
    expect(plan.dockerfile).not.toContain('{{');
  });

  it('should record built-in, config and empty sources', () => {
    const plan = composeImagePlan(input({ agent: 'script' }));
    expect(plan.layers).toEqual([
      { kind: 'base', name: 'debian:bookworm-slim', source: 'built-in' },
      { kind: 'stack', name: 'python', source: 'built-in' },
      { kind: 'project', name: 'my-app', source: 'empty' },
      { kind: 'agent', name: 'script', source: 'empty' },
    ]);
  });

  it('should let stack_config and agent_config replace the built-in layers', () => {
    const plan = composeImagePlan(
      input({
        config: {
          baseImage: 'debian:bookworm-slim',
          setup: undefined,
          stackConfig: { python: { setup: 'RUN echo custom-python' } },
          agentConfig: { claude: { setup: 'RUN echo custom-claude' } },
        },
      }),
    );
    expect(plan.layers[1]).toEqual({ kind: 'stack', name: 'python', source: 'config' });
    expect(plan.layers[3]).toEqual({ kind: 'agent', name: 'claude', source: 'config' });
    expect(plan.dockerfile).toContain('RUN echo custom-python');
    expect(plan.dockerfile).toContain('RUN echo custom-claude');
    expect(plan.dockerfile).not.toContain('python3-venv');
    expect(plan.dockerfile).not.toContain('@anthropic-ai/claude-code');
  });

  it('should accept a stack that only the configuration defines', () => {
    const plan = composeImagePlan(
      input({ stack: 'zig', config: { ...input().config, stackConfig: { zig: { setup: 'RUN echo zig-toolchain' } } } }),
    );
    expect(plan.layers[1]).toEqual({ kind: 'stack', name: 'zig', source: 'config' });
    expect(plan.tag).toMatch(/^tsk\/my-app\/zig\/claude:[0-9a-f]{12}$/);
    expect(plan.dockerfile).toContain('RUN echo zig-toolchain');
  });

  it('should reject an unknown stack or agent with a ConfigError listing the known ones', () => {
    const config = { ...input().config, stackConfig: { zig: { setup: 'RUN true' } } };
    expect(() => composeImagePlan(input({ stack: 'cobol', config }))).toThrow(ConfigError);
    expect(() => composeImagePlan(input({ stack: 'cobol', config }))).toThrow(
      'Unknown stack "cobol"; known stacks: default, go, java, lua, node, python, rust, zig',
    );
    expect(() => composeImagePlan(input({ agent: 'gemini' }))).toThrow(
      'Unknown agent "gemini"; known agents: claude, codex, no-op, script',
    );
  });

  it('should reject names that are not valid Docker repository components', () => {
    expect(() => composeImagePlan(input({ stack: '../base' }))).toThrow(ConfigError);
    expect(() => composeImagePlan(input({ agent: 'Claude' }))).toThrow(ConfigError);
    expect(() => composeImagePlan(input({ config: { ...input().config, baseImage: 'debian\nRUN evil' } }))).toThrow(
      ConfigError,
    );
  });

  it('should make the project name a valid lowercase tag component', () => {
    const plan = composeImagePlan(input({ project: 'My_Project.v2', agent: 'no-op', stack: 'default' }));
    expect(plan.tag).toMatch(/^tsk\/my-project-v2\/default\/no-op:[0-9a-f]{12}$/);
    expect(plan.labels).toEqual({ 'tsk.project': 'my-project-v2', 'tsk.stack': 'default', 'tsk.agent': 'no-op' });
  });

  it('should pass uid, gid and git identity as build args', () => {
    const plan = composeImagePlan(input({ agentUid: 0, agentGid: 100, gitIdentity: { name: 'Ada', email: 'ada@x.org' } }));
    expect(plan.buildArgs).toEqual({ AGENT_UID: '0', AGENT_GID: '100', GIT_USER_NAME: 'Ada', GIT_USER_EMAIL: 'ada@x.org' });
    expect(() => composeImagePlan(input({ agentUid: -1 }))).toThrow(ConfigError);
  });

  it('should copy CA certificates one per file and trust them', () => {
    const plan = composeImagePlan(
      input({ caFiles: [{ name: 'corp-bundle.pem', content: `${PEM('AAA')}\r\n${PEM('BBB')}\n` }, { name: 'b.crt', content: PEM('CCC') }] }),
    );
    expect(plan.contextFiles.map((file) => file.name)).toEqual([
      '.tsk-build/ca-certificates/0-corp-bundle-0.crt',
      '.tsk-build/ca-certificates/0-corp-bundle-1.crt',
      '.tsk-build/ca-certificates/1-b-0.crt',
    ]);
    expect(plan.contextFiles[1]!.content).toBe(`${PEM('BBB')}\n`);
    expect(plan.dockerfile).toContain('COPY .tsk-build/ca-certificates/ /usr/local/share/ca-certificates/tsk/');
    expect(plan.dockerfile).toContain('RUN update-ca-certificates');
    expect(plan.dockerfile).toContain('NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt');
    // Trusted before any later layer downloads over HTTPS.
    expect(plan.dockerfile.indexOf('update-ca-certificates')).toBeLessThan(plan.dockerfile.indexOf('tsk layer stack'));
    expect(composeImagePlan(input()).dockerfile).not.toContain('update-ca-certificates');
  });

  it.each(builtInLayerNames(BUILT_IN_DIR, 'stack'))('should compose a well-formed Dockerfile for the %s stack', (stack) => {
    for (const agent of builtInLayerNames(BUILT_IN_DIR, 'agent')) {
      const { dockerfile } = composeImagePlan(input({ stack, agent, caFiles: [{ name: 'a.crt', content: PEM('A') }] }));
      const lines = dockerfile.split('\n');
      lines.forEach((line, index) => {
        const continued = index > 0 && lines[index - 1]!.trimEnd().endsWith('\\');
        const ok = continued || line.trim() === '' || line.startsWith('#') || /^(FROM|ARG|ENV|RUN|COPY|USER|WORKDIR) /.test(line);
        expect(ok, `${stack}/${agent} line ${index + 1}: ${line}`).toBe(true);
      });
      expect(dockerfile.match(/^FROM /gm)).toHaveLength(1);
    }
  });

  it('should reject a CA file without certificates', () => {
    expect(() => composeImagePlan(input({ caFiles: [{ name: 'empty.pem', content: 'nothing' }] }))).toThrow(
      'ca_certificates: empty.pem contains no PEM certificate',
    );
  });

  describe('tag hash', () => {
    it('should change with the base image id, since the same FROM line may name a rebuilt base image', () => {
      const without = composeImagePlan(input()).tag;
      const onOld = composeImagePlan(input({ baseImageId: 'sha256:aaaa' })).tag;
      const onNew = composeImagePlan(input({ baseImageId: 'sha256:bbbb' })).tag;
      expect(new Set([without, onOld, onNew]).size).toBe(3);
      expect(composeImagePlan(input({ baseImageId: 'sha256:aaaa' })).tag).toBe(onOld);
    });

    const baseline = composeImagePlan(input()).tag;

    it('should be stable for the same inputs', () => {
      expect(composeImagePlan(input()).tag).toBe(baseline);
      expect(baseline).toMatch(/^tsk\/my-app\/python\/claude:[0-9a-f]{12}$/);
    });

    it.each<[string, Partial<ComposeImagePlanInput>]>([
      ['the base image', { config: { ...input().config, baseImage: 'debian:trixie-slim' } }],
      ['the project setup', { config: { ...input().config, setup: 'RUN true' } }],
      ['a stack override', { config: { ...input().config, stackConfig: { python: { setup: 'RUN true' } } } }],
      ['an agent override', { config: { ...input().config, agentConfig: { claude: { setup: 'RUN true' } } } }],
      ['the uid', { agentUid: 1001 }],
      ['the gid', { agentGid: 1001 }],
      ['the git identity', { gitIdentity: { name: 'a', email: 'b' } }],
      ['a CA file', { caFiles: [{ name: 'a.crt', content: PEM('A') }] }],
    ])('should change when %s changes', (_what, overrides) => {
      const tag = composeImagePlan(input(overrides)).tag;
      expect(tag.split(':')[1]).not.toBe(baseline.split(':')[1]);
    });

    it('should change when a CA certificate changes', () => {
      const a = composeImagePlan(input({ caFiles: [{ name: 'a.crt', content: PEM('A') }] })).tag;
      const b = composeImagePlan(input({ caFiles: [{ name: 'a.crt', content: PEM('B') }] })).tag;
      expect(a).not.toBe(b);
    });
  });

  describe('with a custom built-in folder', () => {
    let dir: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tsk-dockerfiles-'));
      for (const kind of ['base', 'stack', 'agent', 'project']) await mkdir(join(dir, kind));
      await writeFile(join(dir, 'base', 'default.dockerfile'), 'FROM {{BASE_IMAGE}}\n{{CA_CERTIFICATES}}\n');
      await writeFile(join(dir, 'stack', 'default.dockerfile'), 'RUN echo v1\n');
      await writeFile(join(dir, 'agent', 'script.dockerfile'), '# nothing\n');
      await writeFile(join(dir, 'project', 'default.dockerfile'), 'RUN echo every-project\n');
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('should change the tag when a built-in snippet changes', async () => {
      const compose = () => composeImagePlan(input({ builtInDir: dir, stack: 'default', agent: 'script' }));
      const before = compose();
      await writeFile(join(dir, 'stack', 'default.dockerfile'), 'RUN echo v2\n');
      const after = compose();
      expect(after.tag).not.toBe(before.tag);
      expect(after.layers[2]).toEqual({ kind: 'project', name: 'my-app', source: 'built-in' });
      expect(builtInLayerNames(dir, 'agent')).toEqual(['script']);
    });

    it('should put a USER root line before layers after the base so a project USER cannot break them', () => {
      const plan = composeImagePlan(
        input({ builtInDir: dir, stack: 'default', agent: 'script', config: { ...input().config, setup: 'USER agent' } }),
      );
      expect(plan.dockerfile).toMatch(/project: my-app \(config\) ----\nUSER root\nUSER agent\n/);
      expect(plan.dockerfile).toMatch(/agent: script \(empty\) ----\n# nothing\n\n/);
    });

    it('should fail clearly when the base snippet is missing', () => {
      expect(() => composeImagePlan(input({ builtInDir: join(dir, 'nope') }))).toThrow(/Built-in base layer .* is missing/);
    });
  });
});

describe('renderDryRun', () => {
  it('should print the tag and one header per layer with its source, then the Dockerfile', () => {
    const plan = composeImagePlan(input({ caFiles: [{ name: 'a.crt', content: PEM('A') }] }));
    const text = renderDryRun(plan);
    expect(text.split('\n').slice(0, 9)).toEqual([
      `# image ${plan.tag}`,
      '# layer base: debian:bookworm-slim (built-in dockerfiles/base/default.dockerfile)',
      '# layer stack: python (built-in dockerfiles/stack/python.dockerfile)',
      '# layer project: my-app (empty)',
      '# layer agent: claude (built-in dockerfiles/agent/claude.dockerfile)',
      '# build args: AGENT_UID=1000 AGENT_GID=1000',
      '# ca_certificates: 1 certificate(s) trusted in the image',
      '# toolchain: Python 3.11, pip 23.0, pipx 1.1 (Debian bookworm)',
      '',
    ]);
    expect(text.endsWith(plan.dockerfile)).toBe(true);
  });

  it('should name the config key of each configured layer and list the copied project files', () => {
    const config = { ...input().config, setup: 'COPY a.txt /a', stackConfig: { python: { setup: 'RUN py' } }, agentConfig: { claude: { setup: 'RUN c' } } };
    const plan = composeImagePlan(input({ config, projectFiles: [{ name: 'a.txt', content: 'a' }] }));
    expect(renderDryRun(plan).split('\n').slice(1, 7)).toEqual([
      '# layer base: debian:bookworm-slim (built-in dockerfiles/base/default.dockerfile)',
      '# layer stack: python (config: stack_config.python.setup)',
      '# layer project: my-app (config: setup)',
      '# layer agent: claude (config: agent_config.claude.setup)',
      '# build args: AGENT_UID=1000 AGENT_GID=1000',
      '# project files copied by setup: a.txt',
    ]);
  });
});

describe('composeImagePlan with project files', () => {
  const config = { ...input().config, setup: 'COPY tool.sh /usr/local/bin/' };
  const file = (content: string | Uint8Array, mode?: number) => ({ name: 'bin/tool.sh', content, ...(mode ? { mode } : {}) });

  it('should put them in the context root next to tsk’s own folder', () => {
    const plan = composeImagePlan(input({ config, projectFiles: [file('x')], caFiles: [{ name: 'a.crt', content: PEM('A') }] }));
    expect(plan.contextFiles.map((f) => f.name)).toEqual(['.tsk-build/ca-certificates/0-a-0.crt', 'bin/tool.sh']);
  });

  it('should change the tag when a copied file’s bytes or mode change, and not otherwise', () => {
    const tag = (f: ReturnType<typeof file>) => composeImagePlan(input({ config, projectFiles: [f] })).tag;
    expect(tag(file(Buffer.from('x')))).toBe(tag(file(Buffer.from('x'))));
    expect(tag(file(Buffer.from('x')))).not.toBe(tag(file(Buffer.from('y'))));
    expect(tag(file(Buffer.from('x')))).not.toBe(tag(file(Buffer.from('x'), 0o755)));
  });

  it('should refuse a project file inside tsk’s own context folder', () => {
    expect(() => composeImagePlan(input({ config, projectFiles: [{ name: '.tsk-build/Dockerfile', content: 'x' }] }))).toThrow(ConfigError);
  });
});
