import { randomUUID } from 'node:crypto';
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  ConversationFullError,
  conversationTitle,
  expiryOf,
  type Conversation,
  type ConversationLimits,
  type ConversationPage,
  type ConversationStore,
  type ConversationSummary,
  type ConversationTurn,
  type ConversationTurnWritten,
  type NewTurn,
} from '../../ports/conversations.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { CONVERSATIONS_TABLE as T } from './dynamodb-table.js';

type Item = Record<string, AttributeValue>;

const keyOf = (id: string) => ({ [T.partitionKey]: { S: `conversation#${id}` } });
const metaKey = (id: string): Item => ({ ...keyOf(id), [T.sortKey]: { S: 'meta' } });
const turnSortKey = (index: number) => `turn#${String(index).padStart(6, '0')}`;
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

function summaryOf(item: Item): ConversationSummary {
  return {
    id: (item[T.partitionKey]?.S ?? '').replace(/^conversation#/u, ''),
    title: item.title?.S ?? '',
    createdAt: item.createdAt?.S ?? '',
    updatedAt: item[T.ownerSortKey]?.S ?? '',
    turns: Number(item.turns?.N ?? 0),
    expiresAt: item.expiresAt?.S ?? '',
  };
}

/**
 * Conversations in a DynamoDB table (lib/constructs/conversation-table.ts): per conversation, one
 * `meta` item (owner, title, turn count, times) and one item per turn, all under the conversation's
 * partition and all carrying the TTL attribute of the conversation's expiry, so DynamoDB deletes them
 * together. The owner index lists a principal's conversations newest first. A turn's index is taken by
 * a conditional update of the count (owner, limit and expiry checked in the same write), so concurrent
 * turns never share one.
 */
export class DynamoDbConversationStore implements ConversationStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(owner: string, turn: NewTurn, limits: ConversationLimits): Promise<ConversationTurnWritten> {
    const created = this.now();
    const id = randomUUID();
    const expires = expiryOf(created, limits.retentionDays);
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          ...metaKey(id),
          [T.ownerKey]: { S: owner },
          [T.ownerSortKey]: { S: created.toISOString() },
          title: { S: conversationTitle(turn.query) },
          createdAt: { S: created.toISOString() },
          expiresAt: { S: expires.toISOString() },
          [T.ttlAttribute]: { N: String(epochSeconds(expires)) },
          turns: { N: '0' },
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': T.partitionKey },
      }),
    );
    const written = await this.append(owner, id, turn, limits);
    if (!written) throw new Error(`conversation ${id} vanished while it was started`);
    return written;
  }

  async append(
    owner: string,
    id: string,
    turn: NewTurn,
    limits: ConversationLimits,
  ): Promise<ConversationTurnWritten | undefined> {
    const now = this.now();
    let meta: Item | undefined;
    try {
      const updated = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: metaKey(id),
          UpdateExpression: 'SET turns = turns + :one, #updated = :now',
          ConditionExpression: '#owner = :owner AND turns < :max AND #ttl > :nowEpoch',
          ExpressionAttributeNames: {
            '#owner': T.ownerKey,
            '#updated': T.ownerSortKey,
            '#ttl': T.ttlAttribute,
          },
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':now': { S: now.toISOString() },
            ':owner': { S: owner },
            ':max': { N: String(limits.maxTurns) },
            ':nowEpoch': { N: String(epochSeconds(now)) },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      meta = updated.Attributes;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.ownedMeta(owner, id);
      if (current && Number(current.turns?.N ?? 0) >= limits.maxTurns) {
        throw new ConversationFullError(limits.maxTurns);
      }
      return undefined;
    }
    const written: ConversationTurn = {
      ...turn,
      index: Number(meta?.turns?.N ?? 1) - 1,
      at: now.toISOString(),
    };
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          ...keyOf(id),
          [T.sortKey]: { S: turnSortKey(written.index) },
          record: { S: JSON.stringify(written) },
          [T.ttlAttribute]: meta?.[T.ttlAttribute] ?? { N: '0' },
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': T.partitionKey },
      }),
    );
    return { conversationId: id, turn: written };
  }

  async get(owner: string, id: string): Promise<Conversation | undefined> {
    const meta = await this.ownedMeta(owner, id);
    if (!meta) return undefined;
    const history: ConversationTurn[] = [];
    for await (const item of this.partition(id, 'turn#')) {
      history.push(JSON.parse(item.record?.S ?? '{}') as ConversationTurn);
    }
    return { ...summaryOf(meta), history };
  }

  async list(owner: string, options: { limit: number; after?: string }): Promise<ConversationPage> {
    const after = options.after ? decodeCursor(options.after) : undefined;
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: T.ownerIndex,
        KeyConditionExpression: '#owner = :owner',
        // Expired conversations wait for DynamoDB's TTL sweep (within days): never shown meanwhile.
        FilterExpression: '#ttl > :nowEpoch',
        ExpressionAttributeNames: { '#owner': T.ownerKey, '#ttl': T.ttlAttribute },
        ExpressionAttributeValues: {
          ':owner': { S: owner },
          ':nowEpoch': { N: String(epochSeconds(this.now())) },
        },
        ScanIndexForward: false,
        Limit: options.limit,
        ...(after
          ? {
              ExclusiveStartKey: {
                ...metaKey(after.id),
                [T.ownerKey]: { S: owner },
                [T.ownerSortKey]: { S: after.updatedAt },
              },
            }
          : {}),
      }),
    );
    const last = page.LastEvaluatedKey;
    return {
      conversations: (page.Items ?? []).map(summaryOf),
      ...(last
        ? {
            next: encodeCursor({
              updatedAt: last[T.ownerSortKey]?.S ?? '',
              id: (last[T.partitionKey]?.S ?? '').replace(/^conversation#/u, ''),
            }),
          }
        : {}),
    };
  }

  async delete(owner: string, id: string): Promise<boolean> {
    if (!(await this.ownedMeta(owner, id))) return false;
    const turns: Item[] = [];
    for await (const item of this.partition(id, 'turn#')) {
      turns.push({ ...keyOf(id), [T.sortKey]: item[T.sortKey] ?? { S: '' } });
    }
    // Turns first, the conversation last: an interrupted delete leaves it listed, to be deleted again.
    await this.deleteAll(turns);
    await this.deleteAll([metaKey(id)]);
    return true;
  }

  private async ownedMeta(owner: string, id: string): Promise<Item | undefined> {
    const { Item: meta } = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: metaKey(id), ConsistentRead: true }),
    );
    if (!meta || meta[T.ownerKey]?.S !== owner) return undefined;
    if (Number(meta[T.ttlAttribute]?.N ?? 0) <= epochSeconds(this.now())) return undefined;
    return meta;
  }

  private async *partition(id: string, prefix: string): AsyncIterable<Item> {
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': T.partitionKey, '#sk': T.sortKey },
          ExpressionAttributeValues: { ':pk': { S: `conversation#${id}` }, ':prefix': { S: prefix } },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      yield* page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** BatchWriteItem takes 25 requests at a time and may hand some back: those are sent again. */
  private async deleteAll(keys: readonly Item[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 25) {
      let requests: WriteRequest[] = keys.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
        const result = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }),
        );
        requests = result.UnprocessedItems?.[this.table] ?? [];
        if (attempt > 8 && requests.length > 0)
          throw new Error(`DynamoDB kept ${String(requests.length)} deletes back`);
      }
    }
  }
}
