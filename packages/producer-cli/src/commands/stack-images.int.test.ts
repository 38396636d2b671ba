import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../test-utils/repo-state.js';
import { makeTskHome, runTsk, type TskHome } from '../test-utils/run-tsk.js';
import { containersOf, makeSimpleRepo, writeFiles } from '../test-utils/simple-repo.js';

/**
 * The host's CA bundle: on hosts behind a TLS-intercepting proxy it holds that proxy's CA, which image
 * builds and sandboxes must trust to reach package registries.
 */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** One compiled and one interpreted toolchain: what CI can afford (each first build takes minutes). */
const CI_STACKS: ReadonlySet<string> = new Set(['rust', 'node']);
/**
 * `TSK_TEST_STACKS=all` (`npm run test:stacks`) runs every stack, `TSK_TEST_STACKS=go,lua` those;
 * unset (`npm test`, CI), {@link CI_STACKS}.
 */
const SELECTED = process.env.TSK_TEST_STACKS?.trim();
const runs = (stack: string): boolean => (SELECTED ? SELECTED === 'all' || SELECTED.split(',').includes(stack) : CI_STACKS.has(stack));

/**
 * A small project of one stack that needs nothing downloaded (no registry is reachable here but through
 * the proxy, and crates.io, PyPI, Go's proxy and Maven Central not even through it). `script` builds
 * and tests it in the sandbox with the stack's own toolchain (bash -e: any failure fails the task),
 * writing what the assertions read into files it commits. `tools` names, per label of the stack's
 * toolchain note, the command whose output shows that tool's version.
 */
interface StackCase {
  stack: string;
  files: Record<string, string>;
  script: string[];
  tools: Record<string, string>;
  /** File on the result branch → what it must match. */
  expect: Record<string, RegExp>;
}

const CASES: StackCase[] = [
  {
    stack: 'rust',
    files: {
      '.gitignore': '/target/\n',
      // Cargo before 1.85 refuses edition 2024 outright ("feature `edition2024` is required").
      'Cargo.toml': '[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2024"\n\n[dependencies]\n',
      'src/lib.rs': [
        'use std::sync::LazyLock;',
        '',
        '/// `LazyLock` is Rust 1.80.',
        'static WORDS: LazyLock<Vec<&str>> = LazyLock::new(|| vec!["hello", "from", "rust"]);',
        '',
        'pub fn greeting() -> String {',
        '    WORDS.join(" ")',
        '}',
        '',
        '#[cfg(test)]',
        'mod tests {',
        '    #[test]',
        '    fn greets() {',
        '        assert_eq!(super::greeting(), "hello from rust");',
        '    }',
        '}',
        '',
      ].join('\n'),
      'src/main.rs': 'fn main() {\n    println!("{}", probe::greeting());\n}\n',
    },
    script: [
      'cargo build 2>&1',
      'cargo test 2>&1 | tee test-output.txt',
      'cargo run -q > run-output.txt',
      'cargo fmt --check',
      'cargo clippy -q -- -D warnings',
    ],
    tools: { Rust: 'rustc --version' },
    expect: { 'test-output.txt': /test result: ok\. 1 passed/, 'run-output.txt': /^hello from rust$/ },
  },
  {
    stack: 'node',
    files: {
      'package.json': '{ "name": "node-project", "private": true, "type": "module", "scripts": { "test": "node --test" } }\n',
      // Array.prototype.toSorted is Node 20.
      'src/greeting.js': 'export function greeting(words) {\n  return words.toSorted().join(" ");\n}\n',
      'test/greeting.test.js': [
        "import { test } from 'node:test';",
        "import assert from 'node:assert/strict';",
        "import { greeting } from '../src/greeting.js';",
        '',
        "test('sorts the words', () => assert.equal(greeting(['node', 'hello']), 'hello node'));",
        "test('leaves its input alone', () => { const words = ['b', 'a']; greeting(words); assert.deepEqual(words, ['b', 'a']); });",
        '',
      ].join('\n'),
    },
    script: [
      'npm test 2>&1 | tee test-output.txt',
      'node -e "console.log(require(\'./package.json\').name)" > run-output.txt',
      // ca_certificates reach the sandbox: the system store and the variable Node reads.
      'ls /usr/local/share/ca-certificates/tsk/ | wc -l > ca-count.txt',
      'echo "$NODE_EXTRA_CA_CERTS" >> ca-count.txt',
    ],
    tools: { 'Node.js': 'node --version', npm: 'npm --version' },
    expect: {
      'test-output.txt': /pass 2[\s\S]*fail 0/,
      'run-output.txt': /^node-project$/,
      'ca-count.txt': new RegExp(`^[1-9]\\d*\\n${HOST_CA_BUNDLE}$`),
    },
  },
  {
    stack: 'python',
    files: {
      '.gitignore': '__pycache__/\n',
      'pyproject.toml': '[project]\nname = "probe"\nversion = "0.1.0"\nrequires-python = ">=3.12"\n',
      // Type parameter syntax is Python 3.12.
      'probe/__init__.py': 'def first[T](items: list[T]) -> T:\n    return items[0]\n',
      'tests/__init__.py': '',
      'tests/test_probe.py': [
        'import unittest',
        '',
        'from probe import first',
        '',
        '',
        'class FirstTest(unittest.TestCase):',
        '    def test_first(self) -> None:',
        '        self.assertEqual(first(["hello", "python"]), "hello")',
        '',
      ].join('\n'),
    },
    script: [
      'python3 -m unittest discover -v 2>&1 | tee test-output.txt',
      'python3 -c "import probe; print(probe.first([\'hello from python\']))" > run-output.txt',
      'python3 -m venv /tmp/venv && /tmp/venv/bin/python -c "import ssl, sys; print(sys.prefix)" > venv.txt',
    ],
    tools: { Python: 'python3 --version', pip: 'python3 -m pip --version', pipx: 'pipx --version' },
    expect: { 'test-output.txt': /Ran 1 test[\s\S]*OK/, 'run-output.txt': /^hello from python$/, 'venv.txt': /^\/tmp\/venv$/ },
  },
  {
    stack: 'go',
    files: {
      '.gitignore': '/build/\n',
      'go.mod': 'module example.com/probe\n\ngo 1.24\n',
      // strings.SplitSeq is Go 1.24.
      'probe.go': [
        'package probe',
        '',
        'import "strings"',
        '',
        'func Words(text string) []string {',
        '\tvar words []string',
        '\tfor word := range strings.SplitSeq(text, " ") {',
        '\t\twords = append(words, strings.ToUpper(word))',
        '\t}',
        '\treturn words',
        '}',
        '',
      ].join('\n'),
      'probe_test.go': [
        'package probe',
        '',
        'import (',
        '\t"slices"',
        '\t"testing"',
        ')',
        '',
        'func TestWords(t *testing.T) {',
        '\tif got := Words("hello go"); !slices.Equal(got, []string{"HELLO", "GO"}) {',
        '\t\tt.Fatalf("got %v", got)',
        '\t}',
        '}',
        '',
      ].join('\n'),
      'cmd/probe/main.go': 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/probe"\n)\n\nfunc main() {\n\tfmt.Println(probe.Words("hello from go"))\n}\n',
    },
    script: ['go vet ./...', 'go build -o build/probe ./cmd/probe', 'go test -v ./... 2>&1 | tee test-output.txt', 'build/probe > run-output.txt'],
    tools: { Go: 'go version' },
    expect: { 'test-output.txt': /--- PASS: TestWords[\s\S]*\nok/, 'run-output.txt': /^\[HELLO FROM GO\]$/ },
  },
  {
    stack: 'java',
    files: {
      '.gitignore': '/out/\n',
      // Detected by its pom.xml; Maven itself would need Maven Central, so the build is javac's.
      'pom.xml': [
        '<project xmlns="http://maven.apache.org/POM/4.0.0">',
        '  <modelVersion>4.0.0</modelVersion>',
        '  <groupId>example</groupId>',
        '  <artifactId>probe</artifactId>',
        '  <version>0.1.0</version>',
        '</project>',
        '',
      ].join('\n'),
      // Record patterns in switch are Java 21.
      'src/main/java/probe/Main.java': [
        'package probe;',
        '',
        'public class Main {',
        '    sealed interface Shape permits Square, Rect {}',
        '    record Square(int side) implements Shape {}',
        '    record Rect(int width, int height) implements Shape {}',
        '',
        '    static int area(Shape shape) {',
        '        return switch (shape) {',
        '            case Square(int side) -> side * side;',
        '            case Rect(int width, int height) -> width * height;',
        '        };',
        '    }',
        '',
        '    public static void main(String[] args) {',
        '        System.out.println("hello from java " + area(new Rect(2, 3)));',
        '    }',
        '}',
        '',
      ].join('\n'),
      'src/test/java/probe/MainTest.java': [
        'package probe;',
        '',
        'public class MainTest {',
        '    public static void main(String[] args) {',
        '        if (Main.area(new Main.Square(3)) != 9) throw new AssertionError("square");',
        '        if (Main.area(new Main.Rect(2, 5)) != 10) throw new AssertionError("rect");',
        '        System.out.println("2 checks passed");',
        '    }',
        '}',
        '',
      ].join('\n'),
    },
    script: [
      'javac -d out $(find src -name "*.java")',
      'java -cp out probe.MainTest | tee test-output.txt',
      'java -cp out probe.Main > run-output.txt',
    ],
    // JAVA_TOOL_OPTIONS (the proxy) makes every JVM say "Picked up …" first, on stderr.
    tools: { OpenJDK: 'java -version 2>&1 | grep -m 1 " version "', Maven: 'mvn --version 2>/dev/null | head -n 1' },
    expect: { 'test-output.txt': /^2 checks passed$/, 'run-output.txt': /^hello from java 6$/ },
  },
  {
    stack: 'lua',
    files: {
      'probe-0.1-1.rockspec': [
        'package = "probe"',
        'version = "0.1-1"',
        'source = { url = "." }',
        'description = { summary = "tsk stack probe", homepage = "https://example.com/probe", license = "MIT" }',
        'dependencies = { "lua >= 5.4" }',
        'build = { type = "builtin", modules = { probe = "probe.lua" } }',
        '',
      ].join('\n'),
      // <const> locals are Lua 5.4.
      'probe.lua': 'local M = {}\nlocal greeting <const> = "hello from lua"\nfunction M.greeting() return greeting end\nfunction M.half(n) return n // 2 end\nreturn M\n',
      'test.lua': [
        'local probe = require("probe")',
        'assert(probe.greeting() == "hello from lua", "greeting")',
        'assert(math.type(probe.half(7)) == "integer" and probe.half(7) == 3, "integer division")',
        'print("2 checks passed")',
        '',
      ].join('\n'),
    },
    script: [
      'lua test.lua | tee test-output.txt',
      'lua -e \'print(require("probe").greeting())\' > run-output.txt',
      // LuaRocks installs for Lua 5.4 (Debian's luarocks brings Lua 5.1 along, which must not win).
      'luarocks lint probe-0.1-1.rockspec',
      'luarocks make --local probe-0.1-1.rockspec',
      '(cd /tmp && eval "$(luarocks path)" && lua -e \'print(package.searchpath("probe", package.path))\') > rock-path.txt',
    ],
    tools: { Lua: 'lua -v', LuaRocks: 'luarocks --version | head -n 1' },
    expect: {
      'test-output.txt': /^2 checks passed$/,
      'run-output.txt': /^hello from lua$/,
      'rock-path.txt': /^\/home\/agent\/\.luarocks\/share\/lua\/5\.4\/probe\.lua$/,
    },
  },
  {
    stack: 'default',
    files: {
      '.gitignore': '/probe\n*.o\n',
      // -std=c23 is GCC 14 (GCC 12 knows it as c2x only).
      Makefile: 'CFLAGS = -std=c23 -Wall -Werror\n\nprobe: probe.c\n\ntest: probe\n\t./probe | grep -qx "hello from c"\n\t@echo "1 check passed"\n',
      'probe.c': '#include <stdio.h>\n\nint main(void) {\n    constexpr int answer = 42;\n    printf("hello from c\\n");\n    return answer == 42 ? 0 : 1;\n}\n',
    },
    script: ['make > /dev/null', 'make -s test | tee test-output.txt', './probe > run-output.txt'],
    tools: { GCC: 'gcc --version | head -n 1', make: 'make --version | head -n 1', Python: 'python3 --version' },
    expect: { 'test-output.txt': /^1 check passed$/, 'run-output.txt': /^hello from c$/ },
  },
];

interface TaskJson {
  id: string;
  stack: string;
  status: string;
  branch: string;
}

/**
 * Every built-in stack: its image builds on the default base image, and in the sandbox (network
 * isolation on: only the proxy is reachable) its own toolchain builds and tests a small project, in the
 * versions `tsk docker build --dry-run` announces. Slow on a first run (minutes per stack); images are
 * tagged by content, so later runs reuse them.
 */
describe('stack images (real Docker)', () => {
  let home: TskHome;

  beforeAll(async () => {
    home = await makeTskHome();
    writeFiles(join(home.env.TSK_CONFIG_HOME!, 'tsk'), { 'tsk.toml': `[defaults]\nca_certificates = ["${HOST_CA_BUNDLE}"]\n` });
  });

  afterAll(async () => {
    await home.cleanup();
  });

  for (const stackCase of CASES) {
    const { stack } = stackCase;
    it(`should build the ${stack} image and, in the sandbox, build and test a ${stack} project with the versions the dry run names`, async (context) => {
      context.skip(!runs(stack), `the ${stack} stack builds only with \`npm run test:stacks\` (npm test builds ${[...CI_STACKS].join(' and ')})`);
      const repo = makeSimpleRepo(join(home.dir, `${stack}-project`), stackCase.files);

      const dryRun = await runTsk(['docker', 'build', '--dry-run', '--repo', repo, '--agent', 'script'], { env: home.env });
      expect(dryRun.exitCode, dryRun.stderr).toBe(0);
      expect(dryRun.stdout).toContain(`# layer stack: ${stack} (`);
      const note = /^# toolchain: (.*)$/m.exec(dryRun.stdout)?.[1];
      expect(note, dryRun.stdout).toMatch(/\(Debian trixie\)$/);

      const versionLines = Object.entries(stackCase.tools).map(([label, command]) => `echo "${label}=$(${command})" >> tool-versions.txt`);
      const script = ['set -o pipefail', ...stackCase.script, ...versionLines, 'git add -A', `git commit -q -m "chore: build and test with the ${stack} toolchain"`];
      const result = await runTsk(['run', '--repo', repo, '--agent', 'script', '-n', `${stack}-toolchain`, '--json', '-p', script.join('\n')], {
        env: home.env,
      });
      expect(result.exitCode, result.stderr).toBe(0);
      const task = JSON.parse(result.stdout) as TaskJson;
      expect(task.status, result.stderr).toBe('COMPLETE');
      expect(task.stack).toBe(stack);
      expect(containersOf(task.id)).toBe('');
      expect(result.stderr).toMatch(new RegExp(`(?:Built|Using) image tsk/${stack}-project/${stack}/script:[0-9a-f]{12}`));

      const branchFile = (file: string) => git(repo, 'show', `${task.branch}:${file}`);
      for (const [file, expected] of Object.entries(stackCase.expect)) expect(branchFile(file), file).toMatch(expected);
      // What the dry run announced is what the sandbox has: each tool's version, as precise as the note.
      const versions = Object.fromEntries(branchFile('tool-versions.txt').split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2)));
      for (const label of Object.keys(stackCase.tools)) {
        const announced = new RegExp(`(?:^|[ :,])${label.replaceAll('.', '\\.')} (\\d+(?:\\.\\d+)*)`).exec(note!)?.[1];
        expect(announced, `${label} in "${note}"`).toBeDefined();
        expect(versions[label], `${label} (the dry run says ${announced})`).toMatch(new RegExp(`(?:^|[^\\d.])${announced!.replaceAll('.', '\\.')}(?:[^\\d]|$)`));
      }
    }, 1_200_000);
  }
});
