import { describe, expect, it } from 'vitest';
import { normalizeLink, routeLink } from '../../lambdas/collection/links.js';

describe('link normalisation', () => {
  it('makes spellings of one page equal: www, case, fragment, tracking parameters, trailing slash', () => {
    const expected = 'https://medium.com/decodingml/an-end-to-end-framework';
    for (const spelling of [
      'https://medium.com/decodingml/an-end-to-end-framework',
      'http://www.medium.com/decodingml/an-end-to-end-framework/',
      'https://WWW.Medium.com/decodingml/an-end-to-end-framework#section-2',
      'https://medium.com/decodingml/an-end-to-end-framework?source=rss----&utm_source=x',
    ]) {
      expect(normalizeLink(spelling)).toBe(expected);
    }
  });

  it('keeps parameters that choose the page, in a stable order', () => {
    expect(normalizeLink('https://blog.example.com/index.php?p=42&lang=en&utm_medium=mail')).toBe(
      'https://blog.example.com/index.php?lang=en&p=42',
    );
    expect(normalizeLink('https://decodingml.substack.com/p/the-new-king?r=1ttoeh')).toBe(
      'https://decodingml.substack.com/p/the-new-king',
    );
  });

  it('cuts repository links to host/owner/name, whatever page of the repository was given', () => {
    expect(
      normalizeLink('https://github.com/PacktPublishing/LLM-Engineers-Handbook/tree/main/llm_engineering'),
    ).toBe('https://github.com/PacktPublishing/LLM-Engineers-Handbook');
    expect(normalizeLink('http://www.github.com/mlabonne/llm-course.git')).toBe(
      'https://github.com/mlabonne/llm-course',
    );
    expect(normalizeLink('https://gitlab.com/group/project/-/blob/main/README.md')).toBe(
      'https://gitlab.com/group/project',
    );
    expect(() => normalizeLink('https://github.com/only-owner')).toThrow(/not a repository link/u);
  });

  it('refuses what is not an http(s) link, or carries credentials', () => {
    expect(() => normalizeLink('ftp://example.com/a')).toThrow(/only http\(s\) links/u);
    expect(() => normalizeLink('javascript:alert(1)')).toThrow(/only http\(s\) links/u);
    expect(() => normalizeLink('not a url')).toThrow(/not a URL/u);
    expect(() => normalizeLink('https://user:pw@example.com/')).toThrow(/credentials/u);
  });
});

describe('the dispatcher', () => {
  it.each([
    ['https://medium.com/@pauliusztin/some-post-123', 'medium', 'medium'],
    ['https://decodingml.medium.com/some-post', 'medium', 'medium'],
    ['http://www.linkedin.com/posts/pauliusztin_activity-1', 'linkedin', 'linkedin'],
    ['https://www.linkedin.com/in/pauliusztin/recent-activity/all/', 'linkedin', 'linkedin'],
    ['https://github.com/PacktPublishing/LLM-Engineers-Handbook', 'repository', 'github'],
    ['https://gitlab.com/group/project', 'repository', 'gitlab'],
    ['https://maximelabonne.substack.com/p/q-learning', 'article', 'substack'],
    ['https://mlabonne.github.io/blog/posts/quantization.html', 'article', 'mlabonne.github.io'],
    ['https://www.example.org/essay', 'article', 'example.org'],
    ['https://medium.com/feed/@pauliusztin', 'feed', 'medium'],
    ['https://decodingml.substack.com/feed', 'feed', 'substack'],
    ['https://mlabonne.github.io/blog/index.xml', 'feed', 'mlabonne.github.io'],
    ['https://example.org/atom.xml', 'feed', 'example.org'],
    ['https://example.org/posts.rss', 'feed', 'example.org'],
    ['https://example.org/p/feed-forward-networks', 'article', 'example.org'],
    ['https://www.linkedin.com/feed/', 'linkedin', 'linkedin'],
  ])('sends %s to the %s crawler (platform %s)', (link, crawler, platform) => {
    expect(routeLink(link)).toMatchObject({ crawler, platform });
  });

  it('does not mistake look-alike hosts for a platform', () => {
    expect(routeLink('https://notmedium.com/a').crawler).toBe('article');
    expect(routeLink('https://medium.com.evil.example/a').crawler).toBe('article');
    expect(routeLink('https://github.com.evil.example/a/b').crawler).toBe('article');
  });
});
