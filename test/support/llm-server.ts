import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLoopbackServer } from './http-server.js';

export type Fault =
  'ok' | 'malformed' | 'incomplete' | 'rate-limit' | 'server-error' | 'slow' | 'unauthorized';

export interface LlmServerOptions {
  /** What to do with the n-th request (1-based); every request succeeds by default. */
  fault?: (request: number) => Fault;
  /** Seconds in the Retry-After header of a 429. */
  retryAfterSeconds?: number;
  /** How long each answer takes, as a real model would (and how long a "slow" one takes). */
  latencyMs?: number;
  slowMs?: number;
  /** The twin's reply to a RAG prompt (one with a system message); default: built from the context. */
  twinAnswer?: (userTurn: string) => string;
  /** Pause between streamed pieces. */
  tokenDelayMs?: number;
}

export interface LlmServer {
  url: string;
  requests: number;
  /** The most requests the server had in flight at once. */
  maxInFlight: number;
  /** Every request's messages, joined, in arrival order. */
  prompts: readonly string[];
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
  const state = { requests: 0, inFlight: 0, maxInFlight: 0, prompts: [] as string[] };
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
        messages: { role: string; content: string }[];
        stream?: boolean;
      };
      state.prompts.push(body.messages.map((message) => message.content).join('\n'));
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
        if (fault === 'unauthorized') {
          response.writeHead(401, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({
              error: {
                message: 'Incorrect API key provided',
                type: 'invalid_request_error',
                code: 'invalid_api_key',
              },
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
              : body.messages.some((message) => message.role === 'system')
                ? (options.twinAnswer ?? twinAnswer)(prompt)
                : answer(prompt);
        if (body.stream) {
          streamReply(response, body.model, content, options.tokenDelayMs ?? 0);
          return;
        }
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
    get prompts() {
      return state.prompts;
    },
    close: () => server.close(),
  };
}

/** The reply as server-sent chunks, a word each, then a usage chunk and [DONE], as OpenAI streams. */
function streamReply(response: ServerResponse, model: string, content: string, delayMs: number): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  const pieces = content.match(/\S+\s*/gu) ?? [];
  const event = (payload: object) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-stream', object: 'chat.completion.chunk', created: 1_700_000_000, model, ...payload })}\n\n`;
  const delta = (content: string) =>
    event({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });
  let index = 0;
  const next = () => {
    const piece = pieces[index++];
    if (piece !== undefined) {
      response.write(delta(piece));
      setTimeout(next, delayMs);
      return;
    }
    const usage = { prompt_tokens: 100, completion_tokens: pieces.length, total_tokens: 100 + pieces.length };
    response.write(event({ choices: [], usage }));
    response.end('data: [DONE]\n\n');
  };
  response.write(delta(''));
  next();
}

const KNOWN_AUTHORS = ['Paul Iusztin', 'Maxime Labonne', 'Ada Lovelace'];

/**
 * Replies to the RAG query prompts: self-query names an author written in the request (the test
 * corpus's two, and one who is not in it); a follow-up's rewrite joins the conversation's first
 * request and the latest message; expansion returns two rewrites wrapped in the noise models
 * produce (numbering, a blank, a repeat of the original, one rewrite too many).
 */
function queryAnswer(prompt: string): string | undefined {
  const request = /"""\n([\s\S]*?)\n"""/u.exec(prompt)?.[1] ?? '';
  if (prompt.includes('{"author"')) {
    return JSON.stringify({ author: KNOWN_AUTHORS.find((name) => request.includes(name)) ?? null });
  }
  if (prompt.includes('{"query"')) {
    // A follow-up made standalone: the conversation's first request, then the latest message.
    const topic = /^User: (.*)$/mu.exec(prompt)?.[1] ?? '';
    const latest = /Latest message:\n"""\n([\s\S]*?)\n"""/u.exec(prompt)?.[1] ?? '';
    return JSON.stringify({ query: `${topic} (${latest})` });
  }
  if (prompt.includes('{"queries"')) {
    return JSON.stringify({
      queries: [
        `1. In other words: ${request}`,
        '',
        request,
        `- Explain this: ${request}`,
        'One rewrite too many',
      ],
    });
  }
  return undefined;
}

/** The twin's answer: it names the first context entry, so tests can see the prompt carried it. */
function twinAnswer(userTurn: string): string {
  const request = /^Request: (.*)$/mu.exec(userTurn)?.[1] ?? '';
  const firstSource = /^\[1\] (.*)$/mu.exec(userTurn)?.[1] ?? 'no context';
  return `Here is my take on "${request.slice(0, 60)}". I drew on ${firstSource}. That is how I would write it.`;
}

function answer(prompt: string): string {
  const query = queryAnswer(prompt);
  if (query !== undefined) return query;
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
