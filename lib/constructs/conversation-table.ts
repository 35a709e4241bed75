import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CONVERSATIONS_TABLE as T } from '../../lambdas/adapters/conversations/dynamodb-table.js';

export interface ConversationTableProps {
  /** RETAIN in a stage that keeps its data (prod); DESTROY by default. */
  readonly removalPolicy?: RemovalPolicy;
}

/** What the RAG function does with conversations (lambdas/adapters/conversations/dynamodb.ts), no more. */
const CONVERSATION_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:Query',
  'dynamodb:BatchWriteItem',
];

/**
 * Where the twin keeps conversations on AWS: a DynamoDB table laid out as the adapter reads it
 * (one partition per conversation, an index of each owner's conversations), billed per request,
 * encrypted, with point-in-time recovery, and with DynamoDB's TTL deleting a conversation's items
 * once its retention has passed.
 */
export class ConversationTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ConversationTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: T.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: T.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: T.ttlAttribute,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: T.ownerIndex,
      partitionKey: { name: T.ownerKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: T.ownerSortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /** Reads and writes conversations: the adapter's actions on the table and its owner index. */
  grantConversations(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, ...CONVERSATION_ACTIONS);
  }
}
