import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLoopbackServer } from './http-server.js';

export type Fault = 'ok' | 'malformed' | 'incomplete' | 'rate-limit' | 'server-error' | 'slow';

export interface LlmServerOptions {
  /** What to do with the n-th request (1-based); every request succeeds by default. */
  fault?: (request: number) => Fault;
  /** Seconds in the Retry-After header of a 429. */
  retryAfterSeconds?: number;
  /** How long each answer takes, as a real model would (and how long a "slow" one takes). */
  latencyMs?: number;
  slowMs?: number;
}

export interface LlmServer {
  url: string;
  requests: number;
  /** The most requests the server had in flight at once. */
  maxInFlight: number;
  close(): Promise<void>;
}

/** The passage a dataset prompt quotes between triple quotes. */
function passageOf(prompt: string): string {
  return /"""\n([\s\S]*?)\n"""/u.exec(prompt)?.[1] ?? '';
}

function sentencesOf(passage: string): string[] {
  return passage.split(/(?<=[.!?])\s+/u).filter((sentence) => sentence.trim() !== '');
}

/**
 * A deterministic OpenAI-compatible chat server for tests, on 127.0.0.1: it answers dataset prompts
 * from the quoted passage (instructions built from its sentences, extracted answers copied from it),
 * so the same prompt always gets the same reply. Faults (malformed JSON, 429 with Retry-After, 500s,
 * slow answers) are injected by request number.
 */
export async function startLlmServer(options: LlmServerOptions = {}): Promise<LlmServer> {
  const state = { requests: 0, inFlight: 0, maxInFlight: 0 };
  const server = await startLoopbackServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.requests += 1;
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      const fault = options.fault?.(state.requests) ?? 'ok';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        model: string;
        messages: { content: string }[];
      };
      const reply = () => {
        state.inFlight -= 1;
        if (fault === 'rate-limit') {
          response.writeHead(429, {
            'content-type': 'application/json',
            'retry-after': String(options.retryAfterSeconds ?? 0),
          });
          response.end(
            JSON.stringify({
              error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' },
            }),
          );
          return;
        }
        if (fault === 'server-error') {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } }),
          );
          return;
        }
        const prompt = body.messages.at(-1)?.content ?? '';
        const content =
          fault === 'malformed'
            ? 'Sure! Here are your pairs: instruction_answer_pairs = ['
            : fault === 'incomplete'
              ? '{"instruction_answer_pairs": []}'
              : answer(prompt);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: `chatcmpl-${createHash('sha1').update(prompt).digest('hex').slice(0, 12)}`,
            object: 'chat.completion',
            created: 1_700_000_000,
            model: body.model,
            choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
            usage: {
              prompt_tokens: Math.ceil(prompt.length / 4),
              completion_tokens: Math.ceil(content.length / 4),
              total_tokens: 0,
            },
          }),
        );
      };
      const delay = fault === 'slow' ? (options.slowMs ?? 5_000) : (options.latencyMs ?? 0);
      if (delay > 0) setTimeout(reply, delay);
      else reply();
    });
  });
  return {
    url: server.url,
    get requests() {
      return state.requests;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () => server.close(),
  };
}

function answer(prompt: string): string {
  const sentences = sentencesOf(passageOf(prompt));
  const pick = (i: number) => sentences[i % Math.max(sentences.length, 1)] ?? 'Nothing to say.';
  const topic = (i: number) => pick(i).split(' ').slice(0, 8).join(' ');
  // Four instructions follow the passage; the fifth is the same everywhere (an exact duplicate to remove).
  const instructions = [0, 1, 2, 3].map((i) => `Explain in your own words what it means that ${topic(i)}`);
  instructions.push('What is the single most important lesson to remember here?');
  if (prompt.includes('preference_triples')) {
    return JSON.stringify({
      preference_triples: instructions.map((instruction, i) => ({
        instruction,
        generated_answer: `A neutral answer about ${topic(i)}.`,
        // One in five extracted answers is a paraphrase, not a copy: curation must drop it.
        extracted_answer: i === 3 ? `In other words, ${pick(i).toLowerCase()}` : pick(i),
      })),
    });
  }
  return JSON.stringify({
    instruction_answer_pairs: instructions.map((instruction, i) => ({
      instruction,
      answer: `${pick(i)} ${pick(i + 1)}`,
    })),
  });
}
