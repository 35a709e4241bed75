import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertsProps {
  /** Receives every alert by e-mail (confirm the subscription once). */
  readonly email?: string;
}

/**
 * The topic every alarm and workflow notification goes to. Encrypted with a key of its own: CloudWatch
 * alarms cannot publish to a topic under the AWS-managed SNS key.
 */
export class Alerts extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertsProps = {}) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts the LLM Twin alerts topic',
      enableKeyRotation: true,
    });
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      key.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
    }
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'LLM Twin alerts',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
