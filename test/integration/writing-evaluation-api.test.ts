import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StyleModel } from '../../lambdas/evaluation/stylometry.js';
import { scoreWriting, type WritingAnswer } from '../../lambdas/evaluation/twin-fidelity.js';
import { buildWritingSet, type WritingArticle } from '../../lambdas/evaluation/writing-set.js';
import { WorkspaceHttpApi, type WorkspaceServices } from '../../lambdas/workspace/http-api.js';
import {
  LATEST_WRITING_EVALUATION,
  readLatestWritingEvaluation,
  type WritingEvaluationView,
} from '../../lambdas/workspace/writing-evaluation.js';
import { REPO_ROOT } from '../support/environment.js';
import { embeddingModelAvailable, realEmbedder } from '../support/models.js';

const golden = JSON.parse(
  await readFile(join(REPO_ROOT, 'test', 'fixtures', 'stylometry-golden.json'), 'utf8'),
) as { passages: { author: string; text: string }[] };

/** Articles of the golden fixture's two voices, each long enough for one passage. */
function articles(): WritingArticle[] {
  return golden.passages.flatMap((passage, index) =>
    Array.from({ length: 2 }, (_, copy) => ({
      id: `${String(index)}-${String(copy)}`,
      author: passage.author,
      title: `Notes ${String(index)}`,
      content: Array.from({ length: 5 }, () => passage.text).join('\n\n'),
    })),
  );
}

describe.runIf(embeddingModelAvailable())('the latest writing evaluation in the web app’s data view', () => {
  let dataDir: string;
  let rows: Awaited<ReturnType<typeof scoreWriting>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'twin-writing-view-'));
    const set = buildWritingSet(articles(), 1);
    const answers: WritingAnswer[] = set.requests.map((request) => ({
      system: 'model · no RAG',
      author: request.author,
      articleId: request.article.id,
      query: request.query,
      text: request.author === 'Ada Terse' ? 'Measure first. Then cut. Short loops win.' : '1.\n2.\n3.\n4.',
      flags: [],
      sources: [],
      seconds: 1,
    }));
    rows = await scoreWriting(set, answers, StyleModel.fit(set.profilePassages), await realEmbedder());
    const file = join(dataDir, LATEST_WRITING_EVALUATION);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(
      file,
      JSON.stringify({
        createdAt: '2026-12-07T12:00:00.000Z',
        requestsPerAuthor: 1,
        rows,
        sanity: [],
        answers,
      }),
    );
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const api = (dir: string, authors?: string[]) =>
    new WorkspaceHttpApi(
      () =>
        Promise.resolve({
          writingEvaluation: () => readLatestWritingEvaluation(dir),
        } as unknown as WorkspaceServices),
      authors ? { access: { scopeFor: () => Promise.resolve({ kind: 'authors', names: authors }) } } : {},
    );
  const get = async (workspace: WorkspaceHttpApi) => {
    const reply = await workspace.handle({
      method: 'GET',
      path: '/evaluations/writing',
      headers: {},
      body: null,
    });
    if (typeof reply.body !== 'string') throw new Error('workspace replies are whole');
    return {
      status: reply.statusCode,
      json: JSON.parse(reply.body) as WritingEvaluationView & { error?: string },
    };
  };

  it('serves the table the evaluation wrote, without the answers, with the not-writing counts', async () => {
    const { status, json } = await get(api(dataDir));
    expect(status).toBe(200);
    expect(json.rows).toHaveLength(rows.length);
    expect(json).not.toHaveProperty('answers');
    const listed = json.rows.find((row) => row.author === 'Bo Verbose' && row.kind === 'system');
    expect(listed?.notWriting).toBe(1);
  });

  it('shows a caller only the rows of the authors they may use', async () => {
    const { json } = await get(api(dataDir, ['Ada Terse']));
    expect(new Set(json.rows.map((row) => row.author))).toEqual(new Set(['Ada Terse']));
  });

  it('says how to make one when none was run', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'twin-writing-none-'));
    try {
      const { status, json } = await get(api(empty));
      expect(status).toBe(404);
      expect(json.error).toContain('twin eval twin');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
