/**
 * Scripts that run inside the crawled page. They are kept as plain JavaScript source on purpose:
 * page.evaluate serialises functions with Function.prototype.toString, and a TypeScript runner or
 * bundler that rewrites functions (tsx adds `__name(...)` helpers, for one) would ship code that
 * fails in the page. A string reaches the browser exactly as written here.
 */

/** Scrolls to the bottom once; resolves to true when the page grew (more content was loaded). */
export const SCROLL_ONCE = `(async () => {
  const before = document.body.scrollHeight;
  window.scrollTo(0, before);
  await new Promise((resolve) => setTimeout(resolve, 150));
  return document.body.scrollHeight > before;
})()`;

export interface MediumStory {
  title: string | null;
  subtitle: string | null;
  content: string;
  language: string | null;
}

/** Medium's story: h1.pw-post-title, h2.pw-subtitle-paragraph, the article's text. */
export const READ_MEDIUM_STORY = `(() => {
  const text = (selector) => {
    const found = document.querySelector(selector);
    const value = found ? found.textContent.trim() : '';
    return value === '' ? null : value;
  };
  const body = document.querySelector('article') || document.body;
  return {
    title: text('h1.pw-post-title') || text('h1'),
    subtitle: text('h2.pw-subtitle-paragraph'),
    content: body.innerText.trim(),
    language: document.documentElement.lang || null,
  };
})()`;

export interface FeedPost {
  text: string;
  urn: string | null;
  image: string | null;
}

/** The posts of a LinkedIn activity feed: text, activity URN, first image. */
export const READ_LINKEDIN_POSTS = `(() => {
  const items = document.querySelectorAll('[data-urn].feed-shared-update-v2, div[data-urn^="urn:li:activity"]');
  return Array.from(items).map((item) => {
    const text = item.querySelector('.update-components-text, .feed-shared-text');
    const image = item.querySelector('img.update-components-image__image');
    const urn = item.getAttribute('data-urn');
    return {
      text: text ? text.textContent.trim() : '',
      urn: urn ? urn : null,
      image: image ? image.getAttribute('src') : null,
    };
  });
})()`;
