import type { IncomingMessage, ServerResponse } from 'node:http';
import { substackPage } from './fixture-sites.js';
import { startLoopbackServer } from './http-server.js';

const body = (topic: string) =>
  [1, 2, 3]
    .map(
      (n) =>
        `<p>${topic}, part ${String(n)}: a feature pipeline turns raw posts into cleaned, chunked and embedded features that the retrieval step can search.</p>`,
    )
    .join('');

/**
 * A Substack-like RSS 2.0 feed: two items with their full text (content:encoded), one with a summary
 * only (followed to its page), one without a link, and one repeating the first item's link.
 */
export function rssFeed(base: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Decoding ML</title><link>${base}</link><language>en</language>
<item><title><![CDATA[Feature pipelines & you]]></title><link>${base}/p/feature-pipelines?utm_source=rss&amp;utm_medium=feed</link>
<description>The short version.</description><pubDate>Tue, 21 May 2024 18:59:39 GMT</pubDate>
<content:encoded><![CDATA[${body('Feature pipelines')}]]></content:encoded></item>
<item><title>Chunking, measured</title><link>${base}/p/chunking-measured</link><pubDate>Mon, 06 May 2024 08:00:00 GMT</pubDate>
<content:encoded><![CDATA[${body('Chunking')}]]></content:encoded></item>
<item><title>Summary only</title><link>${base}/p/summary-only</link><pubDate>Wed, 01 May 2024 08:00:00 GMT</pubDate>
<description>Read the whole post on the site.</description></item>
<item><title>A note without a link</title><description>${body('No link')}</description></item>
<item><title>Feature pipelines (again)</title><link>${base}/p/feature-pipelines</link>
<content:encoded><![CDATA[${body('Duplicate')}]]></content:encoded></item>
</channel></rss>`;
}

/** An Atom feed: one entry with inline HTML content, one with a summary only, one with content by reference. */
export function atomFeed(base: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>Maxime's notes</title><id>${base}/</id>
<updated>2024-06-01T00:00:00Z</updated>
<entry><title type="html">Fine-tuning &lt;em&gt;without&lt;/em&gt; tears</title><id>tag:notes,2024:1</id>
<link rel="alternate" href="${base}/notes/fine-tuning"/><published>2024-06-01T09:30:00+02:00</published>
<content type="html">${escapeXml(body('Fine-tuning'))}</content></entry>
<entry><title>Merging models</title><id>tag:notes,2024:2</id><link href="${base}/p/merging-models"/>
<updated>2024-05-20T10:00:00Z</updated><summary>Why merges work.</summary></entry>
<entry><title>Elsewhere</title><id>tag:notes,2024:3</id><link rel="alternate" href="${base}/p/content-by-reference"/>
<link rel="edit" href="${base}/api/3"/><updated>2024-05-10T10:00:00Z</updated>
<content type="text/html" src="${base}/p/content-by-reference"/></entry>
</feed>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;');
}

/** A blog home page that advertises its RSS feed. */
function homePage(): string {
  return `<!doctype html><html lang="en"><head><title>Decoding ML</title>
<link rel="alternate" type="application/rss+xml" title="Decoding ML" href="/feed"></head>
<body><h1>Decoding ML</h1><ul><li><a href="/p/feature-pipelines">Feature pipelines</a></li></ul></body></html>`;
}

function pageAt(path: string, base: string): [type: string, text: string] | undefined {
  if (path === '/feed') return ['application/rss+xml; charset=utf-8', rssFeed(base)];
  if (path === '/blog/atom.xml') return ['application/atom+xml', atomFeed(base)];
  if (path === '/') return ['text/html; charset=utf-8', homePage()];
  const article = /^\/p\/([\w-]+)$/u.exec(path);
  return article ? ['text/html; charset=utf-8', substackPage(article[1] ?? 'post')] : undefined;
}

export interface FeedSites {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

/** A blog with an RSS feed, an Atom feed and article pages, served on 127.0.0.1. */
export async function startFeedSites(): Promise<FeedSites> {
  const hits: string[] = [];
  const server = await startLoopbackServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://fixture').pathname;
    hits.push(path);
    const [type, text] = pageAt(path, `http://${request.headers.host ?? '127.0.0.1'}`) ?? [
      'text/html',
      '<h1>Not found</h1>',
    ];
    response.writeHead(type === 'text/html' ? 404 : 200, { 'content-type': type });
    response.end(text);
  });
  return { url: server.url, hits, close: () => server.close() };
}
