import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, brokenLinks, headingSlug } from '../src/links.js';
import { documentationFiles } from '../src/snippets.js';

// The docs back their claims with links; a link that leads nowhere backs nothing.
describe('the documentation links', () => {
  it('all lead to a file and heading that exist', () => {
    const files = [...documentationFiles(), 'CONTRIBUTING.md', 'SECURITY.md'];
    const broken = brokenLinks(files).map((b) => `${b.where}: (${b.link}) ${b.reason}`);
    expect(broken).toEqual([]);
  });

  it('compute anchors as GitHub does', () => {
    expect(headingSlug('`timeout(msOrTimeout, options?)`')).toBe('timeoutmsortimeout-options');
    expect(headingSlug("Semantics (gobreaker's, exactly)")).toBe('semantics-gobreakers-exactly');
    expect(headingSlug('Behind a proxy: `trust proxy`')).toBe('behind-a-proxy-trust-proxy');
    expect([...anchorsOf('# A\n## Usage\n```sh\n# not a heading\n```\n## Usage\n')]).toEqual(['a', 'usage', 'usage-1']);
  });

  it('are reported when broken', () => {
    const root = mkdtempSync(join(tmpdir(), 'resilience-links-'));
    try {
      mkdirSync(join(root, 'docs'));
      writeFileSync(join(root, 'docs', 'b.md'), '# B\n## Real heading\n');
      writeFileSync(
        join(root, 'docs', 'a.md'),
        [
          '# A',
          '[ok](b.md#real-heading) [self](#a) [web](https://example.com/x) `[code](nowhere.md)`',
          '[gone](missing.md)',
          '[no heading](b.md#fake)',
          '[a folder](../docs)',
          '```md',
          '[in a code block](ignored.md)',
          '```',
        ].join('\n'),
      );
      expect(brokenLinks(['docs/a.md'], root)).toEqual([
        { where: 'docs/a.md:3', link: 'missing.md', reason: 'docs/missing.md does not exist' },
        { where: 'docs/a.md:4', link: 'b.md#fake', reason: 'docs/b.md has no heading #fake' },
        { where: 'docs/a.md:5', link: '../docs', reason: 'docs is a folder: link the file (its README.md)' },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
