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

/** LinkedIn-like login form and activity feed (posts carry data-urn; one more loads on scroll). */
const LINKEDIN_LOGIN = `<!doctype html><html><body><form method="post" action="/checkpoint/lg/login-submit">
<input id="username" name="session_key"><input id="password" name="session_password" type="password">
<button type="submit">Sign in</button></form></body></html>`;

function linkedinPost(urn: string | null, text: string, image?: string): string {
  return `<div class="feed-shared-update-v2" ${urn ? `data-urn="${urn}"` : 'data-urn=""'}>
<div class="update-components-text"><span>${text}</span></div>
${image ? `<img class="update-components-image__image" src="${image}">` : ''}</div>`;
}

const LINKEDIN_FEED = `<!doctype html><html><body><main id="feed">
${linkedinPost('urn:li:activity:7001', 'Retrieval beats memorisation: ground your LLM in your own notes.', 'https://media.licdn.com/image/post-7001.jpg')}
${linkedinPost('urn:li:activity:7002', 'Three lessons from deploying an LLM twin on serverless AWS.')}
<div style="height:3000px"></div></main>
<script>
  let more = false;
  window.addEventListener('scroll', () => {
    if (more) return; more = true;
    document.getElementById('feed').insertAdjacentHTML('beforeend', ${JSON.stringify(linkedinPost('urn:li:activity:7003', 'A post that loads only after scrolling the feed.'))});
  });
</script></body></html>`;

/** The fixed pages of the fixture sites, by path. */
function pageAt(path: string, loggedIn: boolean): string | undefined {
  const pages: Record<string, string | undefined> = {
    '/app/rendered': JS_PAGE,
    '/@paul/story': mediumPage(true),
    '/@paul/story-without-subtitle': mediumPage(false),
    '/login': LINKEDIN_LOGIN,
    '/feed': '<html><body><h1>Your feed</h1></body></html>',
    '/in/paul/recent-activity/all': loggedIn ? LINKEDIN_FEED : undefined,
  };
  return pages[path];
}

/** A Cloudflare-style interstitial: what Medium serves crawlers instead of the story. */
export const CHALLENGE_PAGE = `<!doctype html><html lang="en"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="360"></head><body>
<div class="main-wrapper"><h1>medium.com</h1><h2>Verify you are human by completing the action below.</h2>
<p>medium.com needs to review the security of your connection before proceeding.</p>
${'<p>Waiting for the check to finish, which can take a few seconds while we look at your browser.</p>'.repeat(4)}
</div><script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8f1e"></script></body></html>`;

/** Bot walls of the fixture sites: a challenge, LinkedIn's HTTP 999, a members-only redirect to a login. */
function botWallAt(
  path: string,
): { status: number; headers: Record<string, string>; body: string } | undefined {
  if (path === '/@paul/walled-story' || path === '/p/walled')
    return { status: 403, headers: { 'cf-mitigated': 'challenge' }, body: CHALLENGE_PAGE };
  if (path === '/p/challenge-served-200') return { status: 200, headers: {}, body: CHALLENGE_PAGE };
  if (path === '/in/refused') return { status: 999, headers: {}, body: '' };
  if (path === '/members/only')
    return { status: 302, headers: { location: '/account/login?next=%2Fmembers%2Fonly' }, body: '' };
  if (path === '/account/login')
    return {
      status: 200,
      headers: {},
      body: '<html><head><title>Sign in</title></head><body><form method="post"><input name="email"><input type="password" name="password"><button>Sign in</button></form></body></html>',
    };
  return undefined;
}

export interface FixtureSites {
  url: string;
  /** Requests received, by path. */
  hits: string[];
  close(): Promise<void>;
}

/**
 * Fixture sites shaped like the real platforms, served on 127.0.0.1. `latencyMs` delays every answer,
 * as a distant server would (benchmarks use it; tests do not).
 */
export async function startFixtureSites(options: { latencyMs?: number } = {}): Promise<FixtureSites> {
  const hits: string[] = [];
  const server = await startLoopbackServer((request: IncomingMessage, response: ServerResponse) => {
    if (options.latencyMs) {
      setTimeout(() => serve(request, response), options.latencyMs);
    } else {
      serve(request, response);
    }
  });
  function serve(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://fixture').pathname;
    hits.push(path);
    const wall = botWallAt(path);
    if (wall) {
      response.writeHead(wall.status, { 'content-type': 'text/html; charset=utf-8', ...wall.headers });
      response.end(wall.body);
      return;
    }
    const articleMatch = /^\/p\/([\w-]+)$/u.exec(path);
    const loggedIn = (request.headers.cookie ?? '').includes('li_at=fixture-session');
    const page = articleMatch ? substackPage(articleMatch[1] ?? 'post') : pageAt(path, loggedIn);
    if (page !== undefined) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(page);
      return;
    }
    if (path === '/checkpoint/lg/login-submit' && request.method === 'POST') {
      const body: Buffer[] = [];
      request.on('data', (chunk: Buffer) => body.push(chunk));
      request.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(body).toString());
        const ok =
          form.get('session_key') === 'paul@example.com' && form.get('session_password') === 'correct horse';
        response.writeHead(
          302,
          ok ? { location: '/feed', 'set-cookie': 'li_at=fixture-session; Path=/' } : { location: '/login' },
        );
        response.end();
      });
      return;
    }
    if (path === '/in/paul/recent-activity/all') {
      // Not logged in: LinkedIn sends visitors to its login page.
      response.writeHead(302, { location: '/login' });
      response.end();
      return;
    }
    if (path === '/files/paper.pdf') {
      response.writeHead(200, { 'content-type': 'application/pdf' });
      response.end('%PDF-1.7 fake');
      return;
    }
    response.writeHead(404, { 'content-type': 'text/html' });
    response.end('<h1>Not found</h1>');
  }
  return { url: server.url, hits, close: () => server.close() };
}
