import { parseHTML } from 'linkedom';
import { htmlToText } from '../html.js';
import { normalizeLink } from '../links.js';
import { decodeText } from './csv.js';
import { filesEndingWith, isoDate, ReadingTally, type ExportReader } from './reading.js';

const POSTS = /(^|\/)posts\/[^/]+\.html$/u;

interface Element {
  textContent: string | null;
  innerHTML: string;
  getAttribute(name: string): string | null;
}
interface Document {
  querySelector(selector: string): Element | null;
}

/**
 * Medium's account export: one `posts/<date>_<slug>-<id>.html` per story, marked up with
 * microformats (h-entry: p-name, p-summary, e-content, dt-published, p-canonical). Drafts are the
 * files named `draft_…`, and have no canonical link.
 */
export const mediumExport: ExportReader = {
  platform: 'medium',
  recognizes: (paths) =>
    paths.some((path) => POSTS.test(path)) && !paths.some((path) => /(^|\/)posts\.csv$/u.test(path)),
  async read(archive, _options) {
    const tally = new ReadingTally();
    for (const file of filesEndingWith(archive.paths, POSTS)) {
      const name = file.slice(file.lastIndexOf('/') + 1);
      const { document } = parseHTML(decodeText(await archive.read(file), file)) as unknown as {
        document: Document;
      };
      const canonical = document.querySelector('a.p-canonical')?.getAttribute('href');
      if (name.startsWith('draft_') || !canonical) {
        tally.skip('draft');
        continue;
      }
      const body = document.querySelector('section[data-field="body"], .e-content');
      const text = body ? htmlToText(body.innerHTML) : '';
      if (!text) {
        tally.skip('empty');
        continue;
      }
      let link: string;
      try {
        link = normalizeLink(canonical);
      } catch {
        tally.problems.push({ file, reason: `its canonical link is not a link: ${canonical.slice(0, 80)}` });
        continue;
      }
      tally.items.push({
        category: 'articles',
        link,
        title: document.querySelector('.p-name')?.textContent?.trim() || null,
        subtitle:
          document.querySelector('section[data-field="subtitle"], .p-summary')?.textContent?.trim() || null,
        text: withoutRepeatedTitle(text, document.querySelector('.p-name')?.textContent?.trim()),
        ...isoDate(document.querySelector('time.dt-published')?.getAttribute('datetime')),
      });
    }
    return tally.result();
  },
};

/** Medium repeats the title as the body's first heading. */
function withoutRepeatedTitle(text: string, title: string | undefined): string {
  return title && text.startsWith(title) ? text.slice(title.length).trimStart() || text : text;
}
