import { describe, expect, it } from 'vitest';
import { withoutCredentials } from './workspace.js';

describe('withoutCredentials', () => {
  it('should strip user info from http(s) URLs', () => {
    expect(withoutCredentials('https://user:token@example.com/repo.git')).toBe('https://example.com/repo.git');
    expect(withoutCredentials('http://token@example.com/repo.git')).toBe('http://example.com/repo.git');
  });

  it('should leave other URLs alone', () => {
    expect(withoutCredentials('https://example.com/repo.git')).toBe('https://example.com/repo.git');
    expect(withoutCredentials('git@example.com:repo.git')).toBe('git@example.com:repo.git');
    expect(withoutCredentials('/srv/git/repo.git')).toBe('/srv/git/repo.git');
  });
});
