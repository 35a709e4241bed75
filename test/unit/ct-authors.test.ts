import { describe, expect, it } from 'vitest';
import { gatherAuthors } from '../../lambdas/continuous-training/authors.js';

const savedLists = (
  authors: { author: string; links: string[] }[],
  unreadable: { file: string; error: string }[] = [],
) => ({
  list: () => Promise.resolve({ authors: authors.map((config) => ({ slug: 'x', ...config })), unreadable }),
});

describe('the authors a continuous-training run collects', () => {
  it('takes a saved list over the given one of the same author, whatever its case and spacing', async () => {
    const gathered = await gatherAuthors(
      [
        { author: 'Paul Iusztin', links: ['https://a.example/1'] },
        { author: 'Maxime Labonne', links: ['https://b.example/old'] },
      ],
      savedLists([{ author: 'maxime  labonne', links: ['https://b.example/new'] }]),
    );
    expect(gathered.authors).toEqual([
      { author: 'Paul Iusztin', links: ['https://a.example/1'] },
      { author: 'maxime  labonne', links: ['https://b.example/new'] },
    ]);
    expect(gathered.saved).toEqual(['maxime  labonne']);
  });

  it('collects each author once, and passes unreadable files on', async () => {
    const broken = { file: 'author-configs/broken.yaml', error: 'not valid YAML' };
    const gathered = await gatherAuthors(
      [
        { author: 'Ada', links: ['https://a.example/1'] },
        { author: 'ADA', links: ['https://a.example/2'] },
      ],
      savedLists([{ author: 'Grace', links: ['https://g.example/1'] }], [broken]),
    );
    expect(gathered.authors.map(({ author }) => author)).toEqual(['Ada', 'Grace']);
    expect(gathered.unreadable).toEqual([broken]);
  });
});
