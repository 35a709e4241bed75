import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLoopbackServer } from './http-server.js';

const paragraph = (topic: string, n: number) =>
  `<p>${topic} paragraph ${String(n)}: retrieval augmented generation grounds a language model in the author's own writing, so every answer can cite where it came from.</p>`;

/** A Substack-like article page: server-rendered, with chrome around the article. */
export function substackPage(slug: string): string {
  return `<!doctype html><html lang="en"><head><title>${slug} | Decoding ML</title>
<meta name="description" content="Why ${slug} matters for LLM systems"></head><body>
<nav><a href="/">Home</a> <a href="/archive">Archive</a> <button>Subscribe</button></nav>
<article><h1 class="post-title">${slug}</h1><h3 class="subtitle">Why ${slug} matters</h3>
${[1, 2, 3, 4, 5].map((n) => paragraph(slug, n)).join('\n')}</article>
<footer>© Decoding ML · Privacy · Terms</footer></body></html>`;
}

/** A page whose article only exists after its script runs. */
const JS_PAGE = `<!doctype html><html lang="en"><head><title>Rendered by script</title></head><body>
<div id="app">Loading…</div>
<script>
  setTimeout(() => {
    document.getElementById('app').innerHTML = '<article><h1>Rendered by script</h1>' +
      ${JSON.stringify([1, 2, 3, 4].map((n) => paragraph('Client-side', n)).join(''))} + '</article>';
  }, 50);
</script></body></html>`;

/** A Medium-like story: h1.pw-post-title, optional h2.pw-subtitle-paragraph, more text loaded on scroll. */
function mediumPage(withSubtitle: boolean): string {
  return `<!doctype html><html lang="en"><head><title>Story</title></head><body>
<article><h1 class="pw-post-title">An End-to-End Framework for Production-Ready LLM Systems</h1>
${withSubtitle ? '<h2 class="pw-subtitle-paragraph">From data collection to deployment</h2>' : ''}
<section id="story">${[1, 2].map((n) => paragraph('Medium', n)).join('')}<div style="height:3000px"></div></section></article>
<script>
  let loaded = false;
  window.addEventListener('scroll', () => {
    if (loaded) return; loaded = true;
    const more = document.createElement('p');
    more.textContent = 'Lazy paragraph loaded after scrolling: the feature pipeline chunks and embeds every article.';
    document.getElementById('story').appendChild(more);
  });
</script></body></html>`;
}

export interface FixtureSites {
  url: string;
  /** Requests received, by path. */
  hits: string[];
  close(): Promise<void>;
}

/** Fixture sites shaped like the real platforms, served on 127.0.0.1. */
export async function startFixtureSites(): Promise<FixtureSites> {
  const hits: string[] = [];
  const server = await startLoopbackServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://fixture').pathname;
    hits.push(path);
    const html = (body: string) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(body);
    };
    const articleMatch = /^\/p\/([\w-]+)$/u.exec(path);
    if (articleMatch) return html(substackPage(articleMatch[1] ?? 'post'));
    if (path === '/app/rendered') return html(JS_PAGE);
    if (path === '/@paul/story') return html(mediumPage(true));
    if (path === '/@paul/story-without-subtitle') return html(mediumPage(false));
    if (path === '/files/paper.pdf') {
      response.writeHead(200, { 'content-type': 'application/pdf' });
      return response.end('%PDF-1.7 fake');
    }
    response.writeHead(404, { 'content-type': 'text/html' });
    response.end('<h1>Not found</h1>');
  });
  return { url: server.url, hits, close: server.close };
}
