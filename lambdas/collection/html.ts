import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';

export interface ExtractedArticle {
  title: string | null;
  subtitle: string | null;
  content: string;
  language: string | null;
}

/** The part of linkedom's DOM we use, typed here (its own types lean on the DOM library). */
interface HtmlElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  after(...nodes: string[]): void;
}

interface HtmlDocument {
  documentElement: HtmlElement;
  body: HtmlElement;
  querySelector(selector: string): HtmlElement | null;
  querySelectorAll(selector: string): Iterable<HtmlElement>;
}

function parseDocument(html: string): HtmlDocument {
  return (parseHTML(html) as unknown as { document: HtmlDocument }).document;
}

const BLOCKS =
  'p, h1, h2, h3, h4, h5, h6, li, pre, blockquote, figcaption, tr, br, hr, div, section, article';

/** Plain text of an HTML fragment, one block per paragraph (textContent alone glues blocks together). */
export function htmlToText(html: string): string {
  const document = parseDocument(`<!doctype html><html><body>${html}</body></html>`);
  for (const element of document.querySelectorAll(BLOCKS)) element.after('\n\n');
  return (document.body.textContent ?? '')
    .replace(/[ \t\u00a0]+/gu, ' ')
    .replace(/ *\n */gu, '\n')
    .replace(/\n{3,}/gu, '\n\n')
    .trim();
}

function meta(document: HtmlDocument, ...names: string[]): string | null {
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
  const document = parseDocument(html);
  const language = document.documentElement.getAttribute('lang')?.trim() || null;
  const subtitle = meta(document, 'description', 'og:description', 'twitter:description');
  const heading = document.querySelector('h1')?.textContent?.trim() || null;
  // Readability is typed against the DOM library's Document, which linkedom implements but does not
  // claim; the per-file lint program cannot see that type at all, hence the directive.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  const parsed = new Readability(document as never).parse();
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
