import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbConversationStore } from '../../lambdas/adapters/conversations/dynamodb.js';
import { EmbeddedConversationStore } from '../../lambdas/adapters/conversations/embedded.js';
import { InvalidInputError } from '../../lambdas/domain/index.js';
import {
  ConversationFullError,
  type ConversationStore,
  type NewTurn,
} from '../../lambdas/ports/conversations.js';
import { startLocalDynamoDb } from '../support/dynamodb.js';

/** A clock the test moves: retention is checked without waiting days. */
class TestClock {
  time = new Date('2026-12-01T09:00:00.000Z');
  readonly now = () => new Date(this.time);
  advance(ms: number): void {
    this.time = new Date(this.time.getTime() + ms);
  }
}

interface StoreKind {
  name: string;
  setUp(): Promise<void>;
  open(clock: TestClock): Promise<{ store: ConversationStore; dispose: () => Promise<void> }>;
  tearDown(): Promise<void>;
}

let dynamo: Awaited<ReturnType<typeof startLocalDynamoDb>> | undefined;
const kinds: StoreKind[] = [
  {
    name: 'embedded (SQLite)',
    setUp: () => Promise.resolve(),
    async open(clock) {
      const dir = await mkdtemp(join(tmpdir(), 'twin-conversations-'));
      const store = new EmbeddedConversationStore(join(dir, 'conversations.sqlite'), clock.now);
      return {
        store,
        dispose: async () => {
          await store.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
    tearDown: () => Promise.resolve(),
  },
  {
    name: 'DynamoDB (dynalite server)',
    async setUp() {
      dynamo = await startLocalDynamoDb();
    },
    async open(clock) {
      if (!dynamo) throw new Error('no local DynamoDB');
      const table = `conversations-${randomUUID().slice(0, 8)}`;
      await dynamo.createConversationsTable(table);
      return {
        store: new DynamoDbConversationStore(dynamo.client, table, clock.now),
        dispose: () => Promise.resolve(),
      };
    },
    async tearDown() {
      await dynamo?.close();
    },
  },
];

const LIMITS = { maxTurns: 5, retentionDays: 30 };
const DAY = 24 * 60 * 60 * 1000;
const turn = (query: string, answer = `An answer to: ${query}`): NewTurn => ({
  query,
  answer,
  author: 'Paul Iusztin',
  sources: ['chunk-1', 'chunk-2'],
  traceId: 'trace-1',
});

describe.each(kinds)('ConversationStore contract: $name', (kind) => {
  let clock: TestClock;
  let store: ConversationStore;
  let dispose: () => Promise<void>;

  beforeAll(() => kind.setUp());
  afterAll(() => kind.tearDown());
  beforeEach(async () => {
    clock = new TestClock();
    ({ store, dispose } = await kind.open(clock));
  });
  afterEach(() => dispose());

  it('starts a conversation with its first turn and keeps every turn, in order, with what it was built from', async () => {
    const { conversationId, turn: first } = await store.start('alice', turn('Write about RAG'), LIMITS);
    clock.advance(60_000);
    const second = await store.append(
      'alice',
      conversationId,
      { ...turn('Shorter'), rewrittenQuery: 'Write about RAG, shorter' },
      LIMITS,
    );

    expect(first).toMatchObject({ index: 0, at: '2026-12-01T09:00:00.000Z', query: 'Write about RAG' });
    expect(second?.turn).toMatchObject({ index: 1, at: '2026-12-01T09:01:00.000Z' });
    const conversation = await store.get('alice', conversationId);
    expect(conversation).toMatchObject({
      id: conversationId,
      title: 'Write about RAG',
      createdAt: '2026-12-01T09:00:00.000Z',
      updatedAt: '2026-12-01T09:01:00.000Z',
      turns: 2,
      expiresAt: '2026-12-31T09:00:00.000Z',
    });
    expect(conversation?.history).toEqual([
      { ...turn('Write about RAG'), index: 0, at: '2026-12-01T09:00:00.000Z' },
      {
        ...turn('Shorter'),
        rewrittenQuery: 'Write about RAG, shorter',
        index: 1,
        at: '2026-12-01T09:01:00.000Z',
      },
    ]);
  });

  it("treats another principal's conversation as one that does not exist", async () => {
    const { conversationId } = await store.start('alice', turn('Private draft'), LIMITS);

    expect(await store.get('mallory', conversationId)).toBeUndefined();
    expect(await store.append('mallory', conversationId, turn('Mine now'), LIMITS)).toBeUndefined();
    expect(await store.delete('mallory', conversationId)).toBe(false);
    expect((await store.list('mallory', { limit: 10 })).conversations).toEqual([]);
    expect(await store.get('alice', randomUUID())).toBeUndefined();
    expect((await store.get('alice', conversationId))?.turns).toBe(1);
  });

  it("lists one's own conversations, most recently continued first, a page at a time", async () => {
    const ids: string[] = [];
    for (const query of ['first', 'second', 'third']) {
      ids.push((await store.start('alice', turn(query), LIMITS)).conversationId);
      clock.advance(1000);
    }
    await store.start('bob', turn("bob's"), LIMITS);
    clock.advance(1000);
    await store.append('alice', ids[0] ?? '', turn('again'), LIMITS);

    const firstPage = await store.list('alice', { limit: 2 });
    expect(firstPage.conversations.map((c) => c.title)).toEqual(['first', 'third']);
    expect(firstPage.next).toBeDefined();
    const secondPage = await store.list('alice', { limit: 2, after: firstPage.next ?? '' });
    expect(secondPage.conversations.map((c) => c.title)).toEqual(['second']);
    const all = [...firstPage.conversations, ...secondPage.conversations];
    expect(new Set(all.map((c) => c.id))).toEqual(new Set(ids));
    await expect(store.list('alice', { limit: 2, after: 'not-a-cursor' })).rejects.toThrow(InvalidInputError);
  });

  it('refuses a turn past the limit, saying to start a new conversation, and keeps the turns it has', async () => {
    const { conversationId } = await store.start('alice', turn('0'), LIMITS);
    for (let i = 1; i < LIMITS.maxTurns; i++)
      await store.append('alice', conversationId, turn(String(i)), LIMITS);

    const over = store.append('alice', conversationId, turn('one too many'), LIMITS);

    await expect(over).rejects.toBeInstanceOf(ConversationFullError);
    await expect(over).rejects.toThrow(/start a new conversation/u);
    expect((await store.get('alice', conversationId))?.history.map((t) => t.query)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('gives turns written at the same moment distinct, consecutive indexes', async () => {
    const { conversationId } = await store.start('alice', turn('start'), { ...LIMITS, maxTurns: 20 });
    const written = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.append('alice', conversationId, turn(`parallel ${String(i)}`), { ...LIMITS, maxTurns: 20 }),
      ),
    );

    expect(written.map((w) => w?.turn.index).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    expect((await store.get('alice', conversationId))?.history).toHaveLength(9);
  });

  it('deletes a conversation with every turn of it, once', async () => {
    const { conversationId } = await store.start('alice', turn('to forget'), LIMITS);
    await store.append('alice', conversationId, turn('and this'), LIMITS);

    expect(await store.delete('alice', conversationId)).toBe(true);

    expect(await store.get('alice', conversationId)).toBeUndefined();
    expect(await store.append('alice', conversationId, turn('still there?'), LIMITS)).toBeUndefined();
    expect((await store.list('alice', { limit: 10 })).conversations).toEqual([]);
    expect(await store.delete('alice', conversationId)).toBe(false);
  });

  it('forgets a conversation once its retention has passed', async () => {
    const { conversationId } = await store.start('alice', turn('short-lived'), {
      ...LIMITS,
      retentionDays: 7,
    });
    clock.advance(6 * DAY);
    expect((await store.get('alice', conversationId))?.turns).toBe(1);

    clock.advance(DAY);

    expect(await store.get('alice', conversationId)).toBeUndefined();
    expect(await store.append('alice', conversationId, turn('too late'), LIMITS)).toBeUndefined();
    expect((await store.list('alice', { limit: 10 })).conversations).toEqual([]);
  });
});
