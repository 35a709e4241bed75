import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { CONVERSATIONS_TABLE as T } from '../../lambdas/adapters/conversations/dynamodb-table.js';

/**
 * A local DynamoDB: dynalite (from the npm registry), an implementation of DynamoDB's HTTP API written
 * to match the service's validation and semantics, in memory, on a loopback port. DynamoDB Local itself
 * needs Java and a download from outside the package registries.
 */
export async function startLocalDynamoDb(): Promise<{
  client: DynamoDBClient;
  url: string;
  createConversationsTable(name: string): Promise<void>;
  close(): Promise<void>;
}> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const client = new DynamoDBClient({
    endpoint: url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    client,
    url,
    async createConversationsTable(name) {
      // The layout of lib/constructs/conversation-table.ts, from the same constants.
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: T.partitionKey, AttributeType: 'S' },
            { AttributeName: T.sortKey, AttributeType: 'S' },
            { AttributeName: T.ownerKey, AttributeType: 'S' },
            { AttributeName: T.ownerSortKey, AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: T.partitionKey, KeyType: 'HASH' },
            { AttributeName: T.sortKey, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: T.ownerIndex,
              KeySchema: [
                { AttributeName: T.ownerKey, KeyType: 'HASH' },
                { AttributeName: T.ownerSortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      );
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        client.destroy();
        server.close((error?: Error) => (error ? reject(error) : resolve()));
      }),
  };
}
