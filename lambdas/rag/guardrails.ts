import { InvalidInputError } from '../domain/index.js';

/** A query over the length limit: HTTP 413 at the API. */
export class QueryTooLongError extends InvalidInputError {
  constructor(length: number, limit: number) {
    super(`query is ${String(length)} characters; the limit is ${String(limit)}`, 'query');
  }
}

// Control characters other than tab, line feed and carriage return have no place in a question.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;

/** Phrases typical of attempts to override the instructions; flagged and logged, not refused. */
const INJECTION_MARKERS: readonly RegExp[] = [
  /\b(ignore|disregard|forget)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|your)\b[^.\n]{0,20}\b(instructions?|prompts?|rules)\b/iu,
  /\b(reveal|print|show|repeat|output)\b[^.\n]{0,30}\b(system prompt|your (instructions|prompt|rules))\b/iu,
  /\byou are now\b|\bact as (an? )?(unfiltered|jailbroken|dan)\b|\bdeveloper mode\b/iu,
  /<\|(im_start|im_end|system|begin_of_text|start_header_id)\|>|\[\/?INST\]|^#{2,3} ?(Instruction|System|Response):/imu,
];

export interface QueryCheck {
  query: string;
  flags: string[];
}

/** The input guardrail: refuses empty, over-long and garbled queries; flags likely prompt injection. */
export function checkQuery(raw: string, maxChars: number): QueryCheck {
  const query = raw.trim();
  if (query === '') throw new InvalidInputError('query is empty', 'query');
  if (query.length > maxChars) throw new QueryTooLongError(query.length, maxChars);
  if (CONTROL_CHARACTERS.test(query)) {
    throw new InvalidInputError('query contains control characters', 'query');
  }
  const flags = INJECTION_MARKERS.some((marker) => marker.test(query)) ? ['possible-prompt-injection'] : [];
  return { query, flags };
}

/** Shapes of credentials that must never leave in an answer, whatever the model was fed. */
const SECRET_SHAPES: readonly RegExp[] = [
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/gu,
  /\bsk-(proj-)?[A-Za-z0-9_-]{20,200}/gu,
  /\bhf_[A-Za-z0-9]{30,60}\b/gu,
  /\bgh[pousr]_[A-Za-z0-9]{36,80}\b/gu,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/gu,
  /\bmongodb(\+srv)?:\/\/[^\s:@/]{1,100}:[^\s@/]{1,100}@/gu,
];

/** Redacted text is replaced by this marker. */
export const REDACTED = '[redacted]';

/** The longest text a single redaction can match: streamed text is held back this much. */
const HOLD_BACK_CHARS = 220;

/**
 * The output guardrail: removes secrets (known values and credential shapes) and any sentence of the
 * system instruction from an answer. For streams, it holds back the last characters until they can no
 * longer be the start of something to redact, so nothing sent is ever taken back.
 */
export class AnswerGuard {
  private readonly literals: string[];
  private raw = '';
  private sent = 0;

  constructor(options: { secrets: readonly string[]; systemPrompt: string }) {
    const sentences = options.systemPrompt
      .split(/(?<=[.!?])\s+|\n+/u)
      .map((sentence) => sentence.trim())
      .filter((sentence) => sentence.length >= 40);
    this.literals = [...options.secrets.filter((secret) => secret.length >= 8), ...sentences]
      .map((literal) => literal.slice(0, HOLD_BACK_CHARS))
      .sort((a, b) => b.length - a.length);
  }

  /** The answer with everything that must not leave replaced, and how many replacements were made. */
  clean(text: string): { text: string; redactions: number } {
    let redactions = 0;
    let cleaned = text;
    for (const literal of this.literals) {
      const parts = cleaned.split(literal);
      redactions += parts.length - 1;
      cleaned = parts.join(REDACTED);
    }
    for (const shape of SECRET_SHAPES) {
      cleaned = cleaned.replace(shape, () => {
        redactions += 1;
        return REDACTED;
      });
    }
    return { text: cleaned, redactions };
  }

  /** Adds a streamed piece; returns the text now safe to send (possibly empty). */
  push(piece: string): string {
    this.raw += piece;
    return this.release(HOLD_BACK_CHARS);
  }

  /** The rest of a stream once it has ended, and the redactions over the whole answer. */
  end(): { rest: string; redactions: number } {
    return { rest: this.release(0), redactions: this.clean(this.raw).redactions };
  }

  private release(holdBack: number): string {
    const cleaned = this.clean(this.raw).text;
    const safeEnd = Math.max(this.sent, cleaned.length - holdBack);
    const released = cleaned.slice(this.sent, safeEnd);
    this.sent = safeEnd;
    return released;
  }
}
