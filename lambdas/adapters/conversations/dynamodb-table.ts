/**
 * The conversations table's layout, shared by the adapter, the CDK construct that creates the table
 * and the tests that create it in a local DynamoDB: one definition, so they cannot drift apart.
 */
export const CONVERSATIONS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Lists a principal's conversations, newest first: only `meta` items carry its keys. */
  ownerIndex: 'byOwner',
  ownerKey: 'owner',
  ownerSortKey: 'updatedAt',
  /** Epoch seconds; DynamoDB's TTL deletes the items after it. */
  ttlAttribute: 'expiresAtEpoch',
} as const;
