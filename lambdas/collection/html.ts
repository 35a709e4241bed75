import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';

export interface ExtractedArticle {
  title: string | null;
  subtitle: string | null;
  content: string;
  language: string | null;
}

const BLOCKS =
  'p, h1, h2, h3, h4, h5, h6, li, pre, blockquote, figcaption, tr, br, hr, div, section, article';

/** Plain text of an HTML fragment, one block per paragraph (textContent alone glues blocks together). */
export function htmlToText(html: string): string {
  const { document } = parseHTML(`<!doctype html><html><body>${html}</body></html>`);
  for (const element of document.querySelectorAll(BLOCKS)) element.after('\n\n');
  return (document.body.textContent ?? '')
    .replace(/[ \t\u00a0]+/gu, ' ')
    .replace(/ *\n */gu, '\n')
    .replace(/\n{3,}/gu, '\n\n')
    .trim();
}

function meta(document: ReturnType<typeof parseHTML>['document'], ...names: string[]): string | null {
  for (const name of names) {
    const value = document
      .querySelector(`meta[name="${name}"], meta[property="${name}"]`)
      ?.getAttribute('content');
    if (value?.trim()) return value.trim();
  }
  return null;
}

/**
 * The main content of an article page with Mozilla Readability (the reader view of Firefox): title,
 * subtitle (the description the page gives), body as plain text with paragraph breaks, language.
 * Returns null when the page has no readable article (a JavaScript shell, a login wall, a listing).
 */
export function extractArticle(html: string, minimumChars = 200): ExtractedArticle | null {
  const { document } = parseHTML(html);
  const language = document.documentElement.getAttribute('lang')?.trim() || null;
  const subtitle = meta(document, 'description', 'og:description', 'twitter:description');
  const heading = document.querySelector('h1')?.textContent.trim() || null;
  const parsed = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0]).parse();
  if (!parsed?.content) return null;
  const content = htmlToText(parsed.content);
  if (content.length < minimumChars) return null;
  return {
    title: parsed.title?.trim() || heading,
    subtitle: subtitle ?? (parsed.excerpt?.trim() || null),
    content,
    language: parsed.lang?.trim() || language,
  };
}
