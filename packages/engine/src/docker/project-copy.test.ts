import { describe, expect, it } from 'vitest';
import { copySources } from './project-copy.js';

describe('copySources', () => {
  it('should list the sources of COPY and ADD in shell and JSON form, once each', () => {
    const setup = [
      'COPY package.json package-lock.json /app/',
      'add --chown=agent:agent scripts/ /opt/scripts',
      'COPY ["with space.txt", "/dst/"]',
      'RUN npm ci',
      'COPY package.json /again/',
    ].join('\n');
    expect(copySources(setup)).toEqual(['package.json', 'package-lock.json', 'scripts/', 'with space.txt']);
  });

  it('should follow line continuations and skip comments', () => {
    expect(copySources('# COPY not-this /x\nCOPY --chmod=755 \\\n  a.sh \\\n  b.sh /usr/local/bin/\n')).toEqual(['a.sh', 'b.sh']);
  });

  it('should ignore copies from other stages or images, remote ADD sources and heredocs', () => {
    const setup = [
      'COPY --from=golang:1.22 /usr/local/go /usr/local/go',
      'ADD https://example.com/tool.tar.gz /tmp/',
      'ADD git@github.com:org/repo.git /src',
      'COPY <<EOF /etc/motd',
      'RUN true',
    ].join('\n');
    expect(copySources(setup)).toEqual([]);
  });

  it('should find nothing in lines without COPY or ADD', () => {
    expect(copySources('RUN apt-get update\nENV COPY=1\n')).toEqual([]);
    expect(copySources('')).toEqual([]);
  });
});
