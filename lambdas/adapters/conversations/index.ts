import type { ConversationStore } from '../../ports/conversations.js';
import type { Settings } from '../../settings/index.js';
import { retryingLazy } from '../../shared/lazy.js';

/** The conversation store the settings name: the DynamoDB table on AWS, the SQLite file otherwise. */
export async function openConversationStore(
  settings: Pick<Settings, 'conversations'>,
): Promise<ConversationStore> {
  const where = settings.conversations;
  if (where.kind === 'dynamodb') {
    // Loaded only where conversations live in DynamoDB: the embedded path never pulls the SDK in.
    const [{ DynamoDBClient }, { DynamoDbConversationStore }] = await Promise.all([
      import('@aws-sdk/client-dynamodb'),
      import('./dynamodb.js'),
    ]);
    return new DynamoDbConversationStore(new DynamoDBClient({}), where.table);
  }
  const { EmbeddedConversationStore } = await import('./embedded.js');
  return new EmbeddedConversationStore(where.file);
}

/** The store opened on first use: a function that only sometimes keeps a turn loads no client at start. */
export function lazyConversationStore(settings: Pick<Settings, 'conversations'>): ConversationStore {
  const store = retryingLazy(() => openConversationStore(settings));
  return {
    start: async (...args) => (await store()).start(...args),
    append: async (...args) => (await store()).append(...args),
    get: async (...args) => (await store()).get(...args),
    list: async (...args) => (await store()).list(...args),
    delete: async (...args) => (await store()).delete(...args),
  };
}
