import { parseHTML } from 'linkedom';
import { htmlToText } from '../html.js';
import { normalizeLink } from '../links.js';
import type { ExportArchive } from './archive.js';
import { decodeText, parseCsv } from './csv.js';
import { filesEndingWith, isoDate, ReadingTally, type ExportReader } from './reading.js';

const SHARES = /(^|\/)Shares\.csv$/u;
const ARTICLES = /(^|\/)Articles\/Articles\/[^/]+\.html$/u;

/**
 * LinkedIn's "Get a copy of your data" archive: `Shares.csv` (Date, ShareLink, ShareCommentary,
 * SharedUrl, MediaUrl, Visibility) holds the posts; `Articles/Articles/*.html` the long-form articles.
 * A share without commentary is a repost of someone else's writing and is skipped.
 */
export const linkedinExport: ExportReader = {
  platform: 'linkedin',
  recognizes: (paths) => paths.some((path) => SHARES.test(path) || ARTICLES.test(path)),
  async read(archive, _options) {
    const tally = new ReadingTally();
    for (const file of filesEndingWith(archive.paths, SHARES)) await readShares(archive, file, tally);
    for (const file of filesEndingWith(archive.paths, ARTICLES)) await readArticle(archive, file, tally);
    return tally.result();
  },
};

async function readShares(archive: ExportArchive, file: string, tally: ReadingTally): Promise<void> {
  const table = parseCsv(decodeText(await archive.read(file), file));
  for (const problem of table.problems) tally.problems.push({ file, ...problem });
  if (table.rows.length > 0 && !table.columns.includes('ShareCommentary')) {
    tally.problems.push({
      file,
      line: 1,
      reason: 'no ShareCommentary column: is this a LinkedIn Shares.csv?',
    });
    return;
  }
  for (const { line, values } of table.rows) {
    const text = values.ShareCommentary?.trim() ?? '';
    if (!text) {
      tally.skip(values.SharedUrl?.trim() ? 'repost without your own text' : 'empty');
      continue;
    }
    const link = httpLink(values.ShareLink);
    if (values.ShareLink?.trim() && !link) {
      tally.problems.push({
        file,
        line,
        reason: `ShareLink is not a link: ${values.ShareLink.slice(0, 80)}`,
      });
      continue;
    }
    const image = httpLink(values.MediaUrl);
    tally.items.push({
      category: 'posts',
      text,
      ...(link ? { link } : {}),
      ...(image ? { image } : {}),
      ...isoDate(values.Date),
    });
  }
}

interface Element {
  textContent: string | null;
  innerHTML: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): Element | null;
  remove(): void;
}
interface Document {
  body: Element;
  querySelector(selector: string): Element | null;
}

/** An article page of the archive: its title links the published article; drafts have no link. */
async function readArticle(archive: ExportArchive, file: string, tally: ReadingTally): Promise<void> {
  const { document } = parseHTML(decodeText(await archive.read(file), file)) as unknown as {
    document: Document;
  };
  const heading = document.querySelector('h1');
  const link = httpLink(heading?.querySelector('a')?.getAttribute('href'));
  const published = document.querySelector('.published')?.textContent ?? '';
  if (!link || !published) {
    tally.skip('draft');
    return;
  }
  const title = heading?.textContent?.trim() || null;
  for (const selector of ['h1', '.created', '.published']) document.querySelector(selector)?.remove();
  const text = htmlToText(document.body.innerHTML);
  if (!text) {
    tally.skip('empty');
    return;
  }
  tally.items.push({
    category: 'articles',
    link,
    title,
    subtitle: null,
    text,
    ...isoDate(published.replace(/^\s*Published on\s*/iu, '')),
  });
}

function httpLink(value: string | null | undefined): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  try {
    return normalizeLink(text);
  } catch {
    return undefined;
  }
}
