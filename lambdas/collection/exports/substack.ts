import { htmlToText } from '../html.js';
import { normalizeLink } from '../links.js';
import { InvalidInputError } from '../../domain/index.js';
import { decodeText, parseCsv } from './csv.js';
import { filesEndingWith, isoDate, ReadingTally, type ExportReader } from './reading.js';

const POSTS_CSV = /(^|\/)posts\.csv$/u;

/**
 * Substack's export: `posts.csv` (post_id, post_date, is_published, type, title, subtitle, …) and
 * one `posts/<post_id>.html` body per post, where post_id is `<number>.<slug>`. The export does not
 * name the publication, so its address comes from `--site`; a post's link is `<site>/p/<slug>`.
 * Unpublished posts are drafts; discussion threads are comments.
 */
export const substackExport: ExportReader = {
  platform: 'substack',
  recognizes: (paths) => paths.some((path) => POSTS_CSV.test(path)),
  async read(archive, options) {
    if (!options.site) {
      throw new InvalidInputError(
        'a Substack export does not say where the posts were published: add --site https://<name>.substack.com (or your custom domain)',
        'site',
      );
    }
    const site = normalizeLink(options.site).replace(/\/$/u, '');
    const tally = new ReadingTally();
    for (const file of filesEndingWith(archive.paths, POSTS_CSV)) {
      const folder = file.slice(0, file.length - 'posts.csv'.length);
      const table = parseCsv(decodeText(await archive.read(file), file));
      for (const problem of table.problems) tally.problems.push({ file, ...problem });
      for (const { line, values } of table.rows) {
        const id = values.post_id?.trim() ?? '';
        const slug = id.slice(id.indexOf('.') + 1);
        if (!id.includes('.') || !/^[\w-]+$/u.test(slug)) {
          tally.problems.push({ file, line, reason: `post_id "${id.slice(0, 60)}" is not <number>.<slug>` });
          continue;
        }
        if (values.is_published?.trim().toLowerCase() !== 'true') {
          tally.skip('draft');
          continue;
        }
        if (values.type?.trim().toLowerCase() === 'thread') {
          tally.skip('comment');
          continue;
        }
        const body = `${folder}posts/${id}.html`;
        if (!archive.paths.includes(body)) {
          tally.problems.push({ file, line, reason: `its body ${body} is not in the export` });
          continue;
        }
        const text = htmlToText(decodeText(await archive.read(body), body));
        if (!text) {
          tally.skip('empty');
          continue;
        }
        tally.items.push({
          category: 'articles',
          link: `${site}/p/${slug}`,
          title: values.title?.trim() || null,
          subtitle: values.subtitle?.trim() || null,
          text,
          ...isoDate(values.post_date),
        });
      }
    }
    return tally.result();
  },
};
