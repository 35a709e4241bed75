import { call, remove } from './api.js';
import { byId, el } from './dom.js';
import type { ConversationPage, ConversationView } from './types.js';

/**
 * The conversation the writing request continues: its turns as a thread, "New conversation", and the
 * caller's past conversations to reopen or delete. A request continues the open conversation; the
 * server keeps each answered turn and names the conversation in its reply.
 */
export interface ConversationPanel {
  /** The open conversation's id, sent with the next request; null for a new one. */
  current(): string | null;
  /** After an answer: the turn joins the thread, and the conversation becomes the open one. */
  answered(turn: { query: string; answer: string; conversationId: string | null }): void;
  reload(): Promise<void>;
}

export function setUpConversations(): ConversationPanel {
  let current: string | null = null;
  /** The open conversation's turns, as shown. */
  let turns: { query: string; answer: string }[] = [];
  const thread = byId('thread');
  const status = byId('conversation-status');

  function showThread(shown: readonly { query: string; answer: string }[]): void {
    turns = [...shown];
    thread.replaceChildren(
      ...turns.map((turn) =>
        el(
          'li',
          {},
          el('p', { class: 'turn-request' }, turn.query),
          el('p', { class: 'turn-answer' }, turn.answer),
        ),
      ),
    );
    status.textContent =
      turns.length === 0
        ? 'A new conversation: follow-ups such as "shorter" or "now as a LinkedIn post" build on the answers before.'
        : `${String(turns.length)} turn${turns.length === 1 ? '' : 's'} so far: the next request follows on from them.`;
  }

  function startNew(): void {
    current = null;
    showThread([]);
  }

  async function open(id: string): Promise<void> {
    const conversation = await call<ConversationView>('GET', `/conversations/${encodeURIComponent(id)}`);
    current = conversation.id;
    showThread(conversation.history);
  }

  async function reload(): Promise<void> {
    const list = byId('conversations');
    let page: ConversationPage;
    try {
      page = await call<ConversationPage>('GET', '/conversations?limit=20');
    } catch {
      list.replaceChildren(el('li', { class: 'meta' }, 'Past conversations are not available.'));
      return;
    }
    list.replaceChildren(
      ...page.conversations.map((conversation) => {
        const openButton = el('button', { type: 'button', class: 'link-button' }, conversation.title);
        openButton.addEventListener('click', () => void open(conversation.id));
        const deleteButton = el(
          'button',
          {
            type: 'button',
            class: 'remove',
            'aria-label': `Delete the conversation "${conversation.title}"`,
          },
          'Delete',
        );
        deleteButton.addEventListener('click', () => {
          void remove(`/conversations/${encodeURIComponent(conversation.id)}`).then(async () => {
            if (current === conversation.id) startNew();
            await reload();
          });
        });
        return el(
          'li',
          { 'data-conversation': conversation.id },
          openButton,
          el(
            'span',
            { class: 'meta' },
            ` ${String(conversation.turns)} turns · ${conversation.updatedAt.slice(0, 16).replace('T', ' ')} `,
          ),
          deleteButton,
        );
      }),
    );
    if (page.conversations.length === 0) list.append(el('li', { class: 'meta' }, 'None yet.'));
  }

  byId('new-conversation').addEventListener('click', startNew);
  startNew();
  return {
    current: () => current,
    answered(turn) {
      if (!turn.conversationId) return;
      const earlier = current === turn.conversationId ? turns : [];
      current = turn.conversationId;
      showThread([...earlier, { query: turn.query, answer: turn.answer }]);
      void reload();
    },
    reload,
  };
}
