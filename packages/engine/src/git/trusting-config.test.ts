import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trustingConfigText, withTrustingConfig } from './trusting-config.js';

describe('trustingConfigText', () => {
  it("should include the user's global config files and trust every directory", () => {
    expect(trustingConfigText({ HOME: '/home/u', XDG_CONFIG_HOME: '/home/u/.config' })).toBe(
      '[include]\n\tpath = "/home/u/.config/git/config"\n[include]\n\tpath = "/home/u/.gitconfig"\n[safe]\n\tdirectory = *\n',
    );
  });

  it('should include only GIT_CONFIG_GLOBAL when it is set, quoted', () => {
    expect(trustingConfigText({ GIT_CONFIG_GLOBAL: '/tmp/my "odd" config' })).toContain('path = "/tmp/my \\"odd\\" config"');
  });
});

describe('withTrustingConfig', () => {
  it('should hand out a private file and remove it afterwards', async () => {
    const path = await withTrustingConfig({ HOME: '/home/u' }, async (file) => {
      expect(readFileSync(file, 'utf8')).toContain('directory = *');
      expect(statSync(file).mode & 0o077).toBe(0);
      return file;
    });
    expect(existsSync(path)).toBe(false);
  });
});
