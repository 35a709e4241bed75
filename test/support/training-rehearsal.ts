import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IN_CI, REFERENCE_WAREHOUSE_DIR, REPO_ROOT } from './environment.js';
import { startLoopbackServer } from './http-server.js';

const run = promisify(execFile);

/** The jobs' Python environment with the container's libraries (.ci/install-training-env.sh). */
export const TRAINING_PYTHON = process.env.TWIN_TRAINING_PYTHON ?? 'python3';

/** True when the jobs' environment is installed; in CI its absence fails the run instead of skipping. */
export function trainingEnvironmentAvailable(): boolean {
  const available = process.env.TWIN_TRAINING_PYTHON !== undefined && existsSync(TRAINING_PYTHON);
  if (!available && IN_CI) {
    throw new Error('TWIN_TRAINING_PYTHON is not set: .ci/run must run .ci/install-training-env.sh');
  }
  return available;
}

/** Builds the tiny rehearsal base model (.ci/training/rehearsal_model.py) into `folder`. */
export async function buildRehearsalBase(folder: string): Promise<string> {
  await run(TRAINING_PYTHON, [
    join(REPO_ROOT, '.ci', 'training', 'rehearsal_model.py'),
    join(REFERENCE_WAREHOUSE_DIR, 'ArticleDocument.json'),
    folder,
  ]);
  return folder;
}

export interface RehearsalRows {
  /** Instruction pairs from the reference corpus's own passages. */
  pairs: { instruction: string; output: string }[];
  /** Preference triples: the passage chosen, another one shouted rejected. */
  triples: { prompt: string; chosen: string; rejected: string }[];
}

/** `count` instruction pairs and preference triples made from the reference corpus. */
export async function rehearsalRows(count: number): Promise<RehearsalRows> {
  const articles = JSON.parse(
    await readFile(join(REFERENCE_WAREHOUSE_DIR, 'ArticleDocument.json'), 'utf8'),
  ) as {
    content: { Content?: string };
  }[];
  const passages = articles
    .map((article) => (article.content.Content ?? '').slice(0, 400))
    .filter((text) => text.length > 100)
    .slice(0, count);
  const pairs = passages.map((text, index) => ({
    instruction: `Write a paragraph for article ${String(index)} about what this covers.`,
    output: text,
  }));
  const triples = pairs.map((pair, index) => ({
    prompt: pair.instruction,
    chosen: pair.output,
    rejected: passages[(index + 1) % passages.length]?.toUpperCase() ?? '',
  }));
  return { pairs, triples };
}

export const jsonl = (rows: readonly object[]): string =>
  rows.map((row) => JSON.stringify(row)).join('\n') + '\n';

/**
 * The judge, an OpenAI-compatible imitation: production uses a hosted model; here every answer is
 * graded by a rule (the prompt's length), so the scores are known. Records each prompt it grades.
 */
export async function startJudgeImitation(): Promise<{
  url: string;
  judged: string[];
  close(): Promise<void>;
}> {
  const judged: string[] = [];
  const server = await startLoopbackServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const prompt = (JSON.parse(body) as { messages: { content: string }[] }).messages[0]?.content ?? '';
      judged.push(prompt);
      const verdict = {
        accuracy: { analysis: 'graded by length', score: 1 + (prompt.length % 3) },
        style: { analysis: 'graded by length', score: 1 + ((prompt.length >> 1) % 3) },
      };
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `judge-${String(judged.length)}`,
          object: 'chat.completion',
          created: 0,
          model: 'judge-test',
          choices: [
            {
              index: 0,
              finish_reason: 'stop',
              message: { role: 'assistant', content: JSON.stringify(verdict) },
            },
          ],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  return { url: server.url, judged, close: () => server.close() };
}
