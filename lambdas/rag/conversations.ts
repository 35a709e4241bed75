import { InvalidInputError } from '../domain/index.js';
import {
  ConversationFullError,
  type ConversationLimits,
  type ConversationStore,
  type ConversationTurn,
} from '../ports/conversations.js';
import type { ConversationReceipt, RagAnswer } from './contract.js';
import { followUp } from './follow-up.js';
import type { RagRequest } from './service.js';

/** The conversation named in a request does not exist for the caller (or no longer: it expired). */
export class ConversationNotFoundError extends InvalidInputError {
  constructor() {
    // The id is not repeated: the reply is the same for another caller's conversation and for none.
    super('no such conversation; leave conversation_id out to start a new one', 'conversation_id');
    this.name = 'ConversationNotFoundError';
  }
}

/** A request inside a conversation, ready for the RAG service, and what is needed to keep its turn. */
export interface ConversationalRequest {
  request: RagRequest;
  conversationId?: string;
}

/**
 * Conversations around the RAG service: a request that names a conversation is answered with its
 * earlier turns (a standalone query for retrieval, the earlier answers in the prompt, the conversation's
 * author), and every answered turn is kept, for the principal that asked, in the conversation store.
 */
export class Conversations {
  constructor(
    readonly store: ConversationStore,
    readonly limits: ConversationLimits,
    private readonly maxQueryChars: number,
    private readonly onSaveError?: (error: unknown) => void,
  ) {}

  /** The request with its conversation's context; a conversation the caller lacks is a 404. */
  async prepare(owner: string, request: RagRequest, conversationId?: string): Promise<ConversationalRequest> {
    if (!conversationId) return { request };
    const conversation = await this.store.get(owner, conversationId);
    if (!conversation) throw new ConversationNotFoundError();
    // Refused before any work: answering a turn that cannot be kept would lose it.
    if (conversation.turns >= this.limits.maxTurns) throw new ConversationFullError(this.limits.maxTurns);
    const next = followUp(
      { query: request.query, ...(request.author ? { author: request.author } : {}) },
      conversation.history,
      this.maxQueryChars,
    );
    return {
      conversationId,
      request: {
        ...request,
        ...(next.author ? { author: next.author } : {}),
        retrievalQuery: next.query,
        history: next.history,
      },
    };
  }

  /**
   * Keeps the answered turn: in a new conversation when the request named none. A store that fails
   * loses only the turn: the answer goes out, saying the turn was not saved.
   */
  async record(
    owner: string,
    prepared: ConversationalRequest,
    answer: RagAnswer,
  ): Promise<ConversationReceipt> {
    const id = prepared.conversationId ?? null;
    if (answer.answer === null) {
      return { id, turn: null, saved: false, reason: 'no answer was written (retrieval only)' };
    }
    // What retrieval searched first: the standalone query, by the query model or carried (queries[0]).
    const searched = answer.queries[0];
    const turn: Omit<ConversationTurn, 'index' | 'at'> = {
      query: prepared.request.query,
      ...(searched && searched !== prepared.request.query ? { rewrittenQuery: searched } : {}),
      ...(answer.author.name ? { author: answer.author.name } : {}),
      answer: answer.answer,
      sources: answer.sources.map((source) => source.chunk_id),
      traceId: answer.trace_id,
    };
    try {
      const written = prepared.conversationId
        ? await this.store.append(owner, prepared.conversationId, turn, this.limits)
        : await this.store.start(owner, turn, this.limits);
      if (!written) return { id, turn: null, saved: false, reason: 'the conversation was deleted meanwhile' };
      return { id: written.conversationId, turn: written.turn.index, saved: true };
    } catch (error) {
      this.onSaveError?.(error);
      const reason =
        error instanceof ConversationFullError
          ? error.message
          : 'the conversation store failed; try again later';
      return { id, turn: null, saved: false, reason };
    }
  }
}
