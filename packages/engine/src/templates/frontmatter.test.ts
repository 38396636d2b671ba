import { describe, expect, it } from 'vitest';
import { parseFrontmatter } from './frontmatter.js';

describe('parseFrontmatter', () => {
  it('should strip frontmatter and read the description', () => {
    expect(parseFrontmatter('---\ndescription: Fix a bug\nauthor: me\n---\n\n# Fix\n{{PROMPT}}\n')).toEqual({
      description: 'Fix a bug',
      body: '# Fix\n{{PROMPT}}\n',
    });
  });

  it('should unquote quoted descriptions', () => {
    expect(parseFrontmatter('---\ndescription: "Say \\"hi\\": now"\n---\nx').description).toBe('Say "hi": now');
    expect(parseFrontmatter("---\ndescription: 'it''s'\n---\nx").description).toBe("it's");
  });

  it('should handle CRLF line endings, a BOM and empty frontmatter', () => {
    expect(parseFrontmatter('\uFEFF---\r\ndescription: d\r\n---\r\nbody\r\n')).toEqual({ description: 'd', body: 'body\r\n' });
    expect(parseFrontmatter('---\n---\nbody')).toEqual({ description: undefined, body: 'body' });
  });

  it('should leave text without frontmatter, or with an unclosed one, unchanged', () => {
    expect(parseFrontmatter('# Title\n---\ntext')).toEqual({ description: undefined, body: '# Title\n---\ntext' });
    expect(parseFrontmatter('---\nno end')).toEqual({ description: undefined, body: '---\nno end' });
  });
});
