import { DOMParser, parseHTML } from 'linkedom';
import { htmlToText } from './html.js';

/** One item of an RSS or Atom feed, as the feed gives it. */
export interface FeedItem {
  title: string | null;
  link: string | null;
  publishedAt?: string;
  /** The item's body (RSS content:encoded, Atom content), as plain text; null when it has none. */
  text: string | null;
}

export interface Feed {
  format: 'rss' | 'atom';
  language: string | null;
  items: FeedItem[];
}

/**
 * A body this short is an excerpt, not the article: the item is followed to its page instead. Long
 * enough for a real short post; RSS descriptions and Atom summaries are never taken as the text.
 */
export const FULL_TEXT_MIN_CHARS = 200;

/** A feed holds at most this many items we read (feeds are the latest writing, not an archive). */
export const MAX_FEED_ITEMS = 500;

interface XmlNode {
  localName: string;
  tagName: string;
  textContent: string | null;
  children: Iterable<XmlNode>;
  getAttribute(name: string): string | null;
}

interface XmlDocument {
  documentElement: XmlNode | null;
}

/** Whether a fetched body is a feed, judged by its type and, for generic XML, by its root element. */
export function looksLikeFeed(contentType: string, body: string): boolean {
  if (/^application\/(rss|atom)\+xml/iu.test(contentType)) return true;
  if (!/xml/iu.test(contentType) && !/^\s*<\?xml/u.test(body)) return false;
  return /<(rss|feed|rdf:RDF)[\s>]/u.test(body.slice(0, 2_000));
}

/** Parses an RSS 2.0 or Atom feed; undefined when the XML is neither. External entities are never read. */
export function parseFeed(xml: string): Feed | undefined {
  const root = (new DOMParser().parseFromString(xml, 'text/xml') as unknown as XmlDocument).documentElement;
  if (!root) return undefined;
  const name = root.localName.toLowerCase();
  if (name === 'rss') {
    const channel = childrenNamed(root, 'channel')[0];
    if (!channel) return undefined;
    return {
      format: 'rss',
      language: text(childrenNamed(channel, 'language')[0]),
      items: childrenNamed(channel, 'item').slice(0, MAX_FEED_ITEMS).map(rssItem),
    };
  }
  if (name === 'feed') {
    return {
      format: 'atom',
      language: root.getAttribute('xml:lang'),
      items: childrenNamed(root, 'entry').slice(0, MAX_FEED_ITEMS).map(atomEntry),
    };
  }
  return undefined;
}

function rssItem(item: XmlNode): FeedItem {
  const encoded = childrenNamed(item, 'content:encoded')[0];
  const date = text(childrenNamed(item, 'pubDate')[0]) ?? text(childrenNamed(item, 'dc:date')[0]);
  return {
    title: plain(text(childrenNamed(item, 'title')[0])),
    link: text(childrenNamed(item, 'link')[0]) ?? permalinkGuid(item),
    ...isoDate(date),
    text: body(text(encoded ?? null)),
  };
}

function atomEntry(entry: XmlNode): FeedItem {
  const links = childrenNamed(entry, 'link');
  const alternate =
    links.find((link) => (link.getAttribute('rel') ?? 'alternate') === 'alternate') ?? links[0];
  const content = childrenNamed(entry, 'content')[0];
  // Content given by reference (src) is not in the feed: the entry is followed instead.
  const inline = content && !content.getAttribute('src') ? content : undefined;
  const date = text(childrenNamed(entry, 'published')[0]) ?? text(childrenNamed(entry, 'updated')[0]);
  return {
    title: plain(text(childrenNamed(entry, 'title')[0])),
    link: alternate?.getAttribute('href')?.trim() || null,
    ...isoDate(date),
    text: body(text(inline ?? null)),
  };
}

/** RSS items without a <link> often carry their address as a permalink guid. */
function permalinkGuid(item: XmlNode): string | null {
  const guid = childrenNamed(item, 'guid')[0];
  if (!guid || guid.getAttribute('isPermaLink') === 'false') return null;
  const value = text(guid);
  return value && /^https?:\/\//u.test(value) ? value : null;
}

function childrenNamed(node: XmlNode, name: string): XmlNode[] {
  return [...node.children].filter((child) => child.tagName === name);
}

function text(node: XmlNode | null | undefined): string | null {
  return node?.textContent?.trim() || null;
}

/** Titles may be HTML (Atom type="html"); bodies are HTML in every feed we know. */
function plain(value: string | null): string | null {
  return value ? htmlToText(value) || null : null;
}

function body(html: string | null): string | null {
  return html ? htmlToText(html) || null : null;
}

function isoDate(value: string | null): { publishedAt?: string } {
  if (!value) return {};
  const time = Date.parse(value);
  return Number.isNaN(time) ? {} : { publishedAt: new Date(time).toISOString() };
}

/** The feed a page advertises (<link rel="alternate" type="application/rss+xml" href>), absolute. */
export function advertisedFeed(html: string, pageUrl: string): string | undefined {
  const { document } = parseHTML(html) as unknown as {
    document: { querySelector(selector: string): XmlNode | null };
  };
  const link = document.querySelector(
    'link[rel~="alternate"][type="application/rss+xml"], link[rel~="alternate"][type="application/atom+xml"]',
  );
  const href = link?.getAttribute('href')?.trim();
  if (!href) return undefined;
  try {
    return new URL(href, pageUrl).toString();
  } catch {
    return undefined;
  }
}
