import { Duration } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { suppressFunctionBaseline } from './function-suppressions.js';
import { TwinFunction } from './node-function.js';
import type { TwinSecrets } from './twin-secrets.js';

export const WAREHOUSE_EXPORTS_PREFIX = 'warehouse-exports/';

export interface WarehouseImportProps {
  readonly artifacts: s3.IBucket;
  readonly secrets: TwinSecrets;
}

/**
 * The function that loads a warehouse export from the artifact bucket into the MongoDB warehouse.
 * It reads only `warehouse-exports/` and only the MongoDB URI secret.
 */
export class WarehouseImport extends Construct {
  readonly function: TwinFunction['function'];

  constructor(scope: Construct, id: string, props: WarehouseImportProps) {
    super(scope, id);
    const fn = new TwinFunction(this, 'Import', {
      handlerName: 'import-warehouse',
      description: 'Imports a warehouse export from the artifact bucket into MongoDB',
      timeout: Duration.minutes(5),
      memorySize: 1024,
      environment: {
        ARTIFACT_BUCKET: props.artifacts.bucketName,
        TWIN_WAREHOUSE: 'mongodb',
        ...props.secrets.environmentFor(['MONGODB_URI']),
      },
    }).function;
    props.artifacts.grantRead(fn, `${WAREHOUSE_EXPORTS_PREFIX}*`);
    props.secrets.grantRead(fn, ['MONGODB_URI']);
    this.function = fn;

    suppressFunctionBaseline(fn, [
      {
        id: 'AwsSolutions-IAM5',
        reason: 'Reads objects under the warehouse-exports/ prefix only (the object names are user-chosen).',
        appliesTo: [
          'Action::s3:GetBucket*',
          'Action::s3:GetObject*',
          'Action::s3:List*',
          { regex: `/^Resource::<.*Bucket.*\\.Arn>\\/${WAREHOUSE_EXPORTS_PREFIX}\\*$/` },
        ],
      },
    ]);
  }
}
