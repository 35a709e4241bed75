import { deflateRawSync } from 'node:zlib';
import { CATEGORIES } from '../domain/index.js';

/** Why an answer is not writing. */
export type NotWriting = 'empty' | 'template-tokens' | 'empty-list' | 'repetition-loop' | 'no-prose';

/** Tokens of chat templates and prompt layouts: a model that writes them is echoing its frame. */
const TEMPLATE_TOKENS =
  /<\|(im_start|im_end|eot_id|start_header_id|end_header_id|begin_of_text|end_of_text|endoftext|system|user|assistant)\|>|<\/?(start_of_turn|end_of_turn|bos|eos|s)>|\[\/?INST\]|^\s*#{2,3} ?(Instruction|Response|Input):/imu;
/**
 * The header our prompt puts above each retrieved passage ("[2] articles on medium by Ada Lovelace
 * (https://…)", prompt.ts): an answer that writes it is echoing its context, not writing.
 */
const CONTEXT_HEADER = new RegExp(`^\\s*\\[\\d+\\] (${CATEGORIES.join('|')}) on \\S+ by `, 'mu');
/** A list item with nothing in it ("3.", "-", "*"). */
const EMPTY_ITEM = /^\s*(\d{1,3}[.)]|[-*•])\s*$/u;
/** Below this many words an answer says nothing (a refusal of a sentence still passes). */
const MIN_WORDS = 5;
/**
 * Prose compresses to about a third of its size with DEFLATE; a text that loops compresses far
 * better. Below this ratio (over at least MIN_LOOP_CHARS) the answer is repeating itself.
 */
const LOOP_COMPRESSION_RATIO = 0.2;
const MIN_LOOP_CHARS = 200;
/** A line (of some length) repeated this often is a loop even when the rest varies. */
const MAX_LINE_REPEATS = 3;

/**
 * Whether an answer is writing at all, and if not, why: nothing (or a few words), chat-template or
 * prompt-layout tokens, a list of empty items, or a repetition loop. Said of the whole answer; a
 * good answer that quotes one template token in prose is rare enough to be worth a second look.
 */
export function notWriting(answer: string): NotWriting | undefined {
  const text = answer.trim();
  if (text === '') return 'empty';
  if (TEMPLATE_TOKENS.test(text) || CONTEXT_HEADER.test(text)) return 'template-tokens';
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const emptyItems = lines.filter((line) => EMPTY_ITEM.test(line)).length;
  if (emptyItems >= 3 && emptyItems * 2 >= lines.length) return 'empty-list';
  if (repeats(text)) return 'repetition-loop';
  const words = text.match(/\p{L}{2,}/gu) ?? [];
  if (words.length < MIN_WORDS) return 'no-prose';
  return undefined;
}

function repeats(text: string): boolean {
  if (text.length >= MIN_LOOP_CHARS) {
    const ratio = deflateRawSync(Buffer.from(text, 'utf8')).length / Buffer.byteLength(text, 'utf8');
    if (ratio < LOOP_COMPRESSION_RATIO) return true;
  }
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const key = line.trim().toLowerCase();
    if (key.length < 12) continue;
    const count = (counts.get(key) ?? 0) + 1;
    if (count > MAX_LINE_REPEATS) return true;
    counts.set(key, count);
  }
  return false;
}

/** The trace flag of an answer that is still not writing after the retry. */
export const notWritingFlag = (reason: NotWriting): string => `answer-not-writing:${reason}`;
/** The trace flag of an answer written again because the first was not writing. */
export const rewrittenFlag = (reason: NotWriting): string => `answer-rewritten:${reason}`;
