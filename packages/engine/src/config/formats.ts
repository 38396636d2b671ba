import { parseDuration } from '../common/duration.js';
import { remoteUrlProblem } from '../git/git-values.js';
import { AGENT_NAMES, isAgentName } from '../model/agent-name.js';
import { labelListProblem } from '../model/worker-labels.js';
import { describeValue, isTable } from './describe-value.js';

/**
 * A value broke its format. `subPath` locates the offending part inside the key's value (`[1].host`), so
 * the message can name the exact entry of a list. Thrown by the convict format functions below.
 */
export class FormatViolation extends Error {
  readonly subPath: string;

  constructor(detail: string, subPath = '') {
    super(detail);
    this.name = 'FormatViolation';
    this.subPath = subPath;
  }

  /** `expected <what>, got <value>`. */
  static expected(what: string, actual: unknown, subPath = ''): FormatViolation {
    return new FormatViolation(`expected ${what}, got ${describeValue(actual)}`, subPath);
  }
}

/** A convict format function: returns on success, throws a {@link FormatViolation} otherwise. */
export type Format = (value: unknown) => void;

/** A stack name (also a file name of `dockerfiles/stack/` and part of an image tag). */
export const STACK_NAME = /^[a-z0-9][a-z0-9._-]*$/;
/** An environment variable name. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Docker's own rule for volume names.
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const agentName: Format = (value) => {
  if (typeof value !== 'string' || !isAgentName(value)) {
    throw FormatViolation.expected(`one of ${AGENT_NAMES.join(', ')}`, value);
  }
};

export const stackName: Format = (value) => {
  if (typeof value !== 'string' || !STACK_NAME.test(value)) {
    throw FormatViolation.expected('a stack name such as rust, python, node, go, java, lua or default', value);
  }
};

export const text: Format = (value) => {
  if (typeof value !== 'string') throw FormatViolation.expected('a string', value);
};

export const nonEmptyText: Format = (value) => {
  if (typeof value !== 'string' || value.trim() === '') throw FormatViolation.expected('a non-empty string', value);
};

export const boolean: Format = (value) => {
  if (typeof value !== 'boolean') throw FormatViolation.expected('true or false', value);
};

export const positiveNumber: Format = (value) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw FormatViolation.expected('a number greater than 0', value);
  }
};

export const nonNegativeNumber: Format = (value) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw FormatViolation.expected('a number of 0 or more', value);
  }
};

export const positiveInteger: Format = (value) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw FormatViolation.expected('a whole number of 1 or more', value);
  }
};

/** A duration with its unit: `45s`, `90m`, `2h`, `1d` (see `parseDuration`); `allowZero` takes `0s` (and a bare `0`). */
export function duration(options: { allowZero?: boolean } = {}): Format {
  return (value) => {
    const zero = options.allowZero === true && typeof value === 'string' && value.trim() === '0';
    const ms = zero ? 0 : typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined || (ms <= 0 && !options.allowZero)) throw FormatViolation.expected(`a duration such as "45s", "90m" or "2h"`, value);
  };
}

export const containerEngine: Format = (value) => {
  if (value !== 'docker') throw FormatViolation.expected('"docker"', value);
};

export const redisUrl: Format = (value) => {
  if (typeof value !== 'string' || !/^rediss?:\/\/\S+$/.test(value)) {
    // The value is not echoed: a Redis URL may carry a password.
    throw new FormatViolation('expected a redis:// or rediss:// URL');
  }
};

/** A shared git remote (see `remoteUrlProblem`): what workers fetch snapshots from and push results to. */
export const remoteUrl: Format = (value) => {
  if (typeof value !== 'string') throw FormatViolation.expected('a git remote URL', value);
  const problem = remoteUrlProblem(value);
  // Not echoed: a URL the check refuses may carry a token.
  if (problem !== undefined) throw new FormatViolation(`expected a git remote URL (ssh, https, git, file or an absolute path); this one ${problem}`);
};

/** A model name as agents take it: `claude-sonnet-4-5`, `gpt-5.5-codex`, `opus`, `us.anthropic.claude…:0`. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}$/;

export const modelName: Format = (value) => {
  if (typeof value !== 'string' || !MODEL_NAME.test(value)) throw FormatViolation.expected('a model name of letters, digits and . _ : / @ - (at most 100)', value);
};

/** An http(s) URL without credentials in it. */
export const httpUrl: Format = (value) => {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw FormatViolation.expected('an http(s) URL', value);
  if (url.username !== '' || url.password !== '') throw new FormatViolation('expected an http(s) URL without a user or password in it');
};

/**
 * A list whose items each pass `each`. With `uniqueKey`, two entries of one list that configure the same
 * thing (env name, container path) are an error: which one was meant is not knowable.
 */
function listOf(
  what: string,
  each: (item: unknown, at: string) => void,
  uniqueKey?: { field: string; of: (item: Record<string, unknown>) => unknown },
): Format {
  return (value) => {
    if (!Array.isArray(value)) throw FormatViolation.expected(`a list of ${what}`, value);
    const seen = new Set<unknown>();
    value.forEach((item: unknown, index) => {
      each(item, `[${index}]`);
      if (!uniqueKey || !isTable(item)) return;
      const key = uniqueKey.of(item);
      if (seen.has(key)) {
        throw new FormatViolation(`duplicate ${uniqueKey.field} ${describeValue(key)} in one list`, `[${index}]`);
      }
      seen.add(key);
    });
  };
}

export const portList: Format = listOf('ports', (item, at) => {
  if (typeof item !== 'number' || !Number.isInteger(item) || item < 1 || item > 65535) {
    throw FormatViolation.expected('a port number from 1 to 65535', item, at);
  }
});

export const deviceList: Format = listOf('device paths', (item, at) => {
  if (typeof item !== 'string' || !item.startsWith('/')) {
    throw FormatViolation.expected('a device path such as "/dev/fuse"', item, at);
  }
});

export const envNameList: Format = listOf('environment variable names', (item, at) => {
  if (typeof item !== 'string' || !ENV_NAME.test(item)) throw FormatViolation.expected('an environment variable name', item, at);
});

/** `[worker] labels`: what a worker serves (`tsk add --requires`), in the strict label syntax. */
export const workerLabelList: Format = (value) => {
  if (!Array.isArray(value)) throw FormatViolation.expected('a list of labels such as ["gpu"]', value);
  const problem = labelListProblem(value);
  if (problem !== undefined) throw new FormatViolation(`expected labels of a-z 0-9 . _ -: ${problem}`);
};

export const textList: Format = listOf('strings', (item, at) => {
  if (typeof item !== 'string' || item.trim() === '') throw FormatViolation.expected('a non-empty string', item, at);
});

export const trustedKeyList: Format = listOf('{ name, key } tables', (item, at) => {
  const entry = entryTable(item, at, ['name', 'key']);
  if (typeof entry.name !== 'string' || entry.name.trim() === '') throw FormatViolation.expected('a name', entry.name, `${at}.name`);
  if (typeof entry.key !== 'string' || !entry.key.startsWith('ed25519:')) {
    throw FormatViolation.expected('a public key as `tsk key show` prints it (ed25519:…)', entry.key, `${at}.key`);
  }
}, { field: 'key', of: (entry) => entry.key });

export const pathList: Format = listOf('file paths', (item, at) => {
  if (typeof item !== 'string' || item.trim() === '') throw FormatViolation.expected('a file path', item, at);
});

/** Only `~` and `~/…` are expanded; anything else must already be absolute. */
const ABSOLUTE_OR_HOME = /^(\/|~\/|~$)/;

// Relative paths are refused, not resolved: the working directory changes between runs, so what one
// names would be a guess.
export const absolutePathList: Format = listOf('absolute paths', (item, at) => {
  if (typeof item !== 'string' || !ABSOLUTE_OR_HOME.test(item)) throw FormatViolation.expected('an absolute path (or ~/...)', item, at);
});

/** Checks that a list entry is a table holding only `allowed` keys. */
function entryTable(item: unknown, at: string, allowed: readonly string[]): Record<string, unknown> {
  if (!isTable(item)) throw FormatViolation.expected(`a table with ${allowed.join(', ')}`, item, at);
  for (const key of Object.keys(item)) {
    if (!allowed.includes(key)) {
      throw new FormatViolation(`unknown key; entries take ${allowed.join(', ')}`, `${at}.${key}`);
    }
  }
  return item;
}

export const envList: Format = listOf('{ name, value } tables', (item, at) => {
  const entry = entryTable(item, at, ['name', 'value']);
  if (typeof entry.name !== 'string' || !ENV_NAME.test(entry.name)) {
    throw FormatViolation.expected('an environment variable name', entry.name, `${at}.name`);
  }
  if (typeof entry.value !== 'string') throw FormatViolation.expected('a string', entry.value, `${at}.value`);
}, { field: 'name', of: (entry) => entry.name });

export const volumeList: Format = listOf('{ host | name, container, readonly } tables', (item, at) => {
  const entry = entryTable(item, at, ['host', 'name', 'container', 'readonly']);
  if ((entry.host === undefined) === (entry.name === undefined)) {
    throw new FormatViolation('expected exactly one of host (a bind mount) or name (a named volume)', at);
  }
  if (entry.host !== undefined && (typeof entry.host !== 'string' || !ABSOLUTE_OR_HOME.test(entry.host))) {
    throw FormatViolation.expected('an absolute host path (or ~/...)', entry.host, `${at}.host`);
  }
  if (entry.name !== undefined && (typeof entry.name !== 'string' || !VOLUME_NAME.test(entry.name))) {
    throw FormatViolation.expected('a volume name of letters, digits, _ . -', entry.name, `${at}.name`);
  }
  if (typeof entry.container !== 'string' || !entry.container.startsWith('/')) {
    throw FormatViolation.expected('an absolute container path', entry.container, `${at}.container`);
  }
  if (entry.readonly !== undefined && typeof entry.readonly !== 'boolean') {
    throw FormatViolation.expected('true or false', entry.readonly, `${at}.readonly`);
  }
}, { field: 'container path', of: (entry) => entry.container });

export const remoteUrlList: Format = listOf('git remote URLs', (item, at) => {
  const problem = typeof item === 'string' ? remoteUrlProblem(item) : 'is not a string';
  if (problem !== undefined) throw new FormatViolation(`expected a git remote URL; this one ${problem}`, at);
});

/** A TCP port a server listens on. */
export const port: Format = (value) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) throw FormatViolation.expected('a port number from 1 to 65535', value);
};

/** A host name: letters, digits, dots and hyphens (what a browser sends in `Host`, without a port). */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** An IPv4 or IPv6 address as `listen()` takes it (no brackets). */
const IP_ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$/;

/** Where a server listens: an IP address or a host name. */
export const listenHost: Format = (value) => {
  if (typeof value !== 'string' || !(IP_ADDRESS.test(value) || HOST_NAME.test(value))) throw FormatViolation.expected('an IP address or host name such as "127.0.0.1"', value);
};

export const hostNameList: Format = listOf('host names', (item, at) => {
  if (typeof item !== 'string' || !(HOST_NAME.test(item) || IP_ADDRESS.test(item))) throw FormatViolation.expected('a host name such as "tsk.example.internal"', item, at);
});

/** A table of name → absolute path (`[dashboard] repositories`). */
export const namedPaths: Format = (value) => {
  if (!isTable(value)) throw FormatViolation.expected('a table of name = "/absolute/path"', value);
  for (const [name, path] of Object.entries(value)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(name)) throw new FormatViolation('expected a name of letters, digits, _ - (at most 64)', `.${name}`);
    if (typeof path !== 'string' || !ABSOLUTE_OR_HOME.test(path)) throw FormatViolation.expected('an absolute path (or ~/...)', path, `.${name}`);
  }
};
