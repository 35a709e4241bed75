import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAuthorConfig, readAuthorConfigs } from '../../lambdas/collection/author-config.js';
import { routeLink } from '../../lambdas/collection/links.js';
import { REPO_ROOT } from '../support/environment.js';

describe('author configs', () => {
  it('reads an author and their links', () => {
    expect(
      parseAuthorConfig('author: Ada Lovelace\nlinks:\n  - https://example.com/a\n', 'ada.yaml'),
    ).toEqual({
      author: 'Ada Lovelace',
      links: ['https://example.com/a'],
    });
  });

  it('names the file and the field of a bad config', () => {
    expect(() => parseAuthorConfig('links: [https://example.com/a]\n', 'x.yaml')).toThrow(
      /^x\.yaml: author: /u,
    );
    expect(() => parseAuthorConfig('author: A\nlinks: []\n', 'x.yaml')).toThrow(
      'x.yaml: links: must list at least one link',
    );
    expect(() => parseAuthorConfig('author: A\nlinks: [a]\nlinkz: [b]\n', 'x.yaml')).toThrow(
      /x\.yaml: .*linkz/u,
    );
    expect(() => parseAuthorConfig('author: [unclosed\n', 'x.yaml')).toThrow(/x\.yaml: not valid YAML/u);
  });

  it('ships valid configs for the book authors, every link routable', async () => {
    const configs = await readAuthorConfigs(join(REPO_ROOT, 'configs', 'authors'));
    expect(configs.map(({ config }) => config.author)).toEqual(['Maxime Labonne', 'Paul Iusztin']);
    for (const { config } of configs)
      for (const link of config.links) expect(() => routeLink(link)).not.toThrow();
  });
});
