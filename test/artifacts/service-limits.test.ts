import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cloudAssembly,
  STAGES,
  stackTemplates,
  synthesizedFunctions,
  synthesizedStateMachines,
} from '../support/cloud-assembly.js';

/**
 * The service limits that neither CDK nor cfn-lint checks, and that a deploy (or the first run) hits:
 * checked on the synthesized templates of every stage. A reference that CloudFormation resolves at
 * deploy time (an ARN, a name) is counted at ARN_ESTIMATE characters.
 */

const ARN_ESTIMATE = 256;
const MiB = 1024 * 1024;

/** The length a value will have once deployed, each reference counted at ARN_ESTIMATE. */
function deployedLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  const object = (value ?? {}) as Record<string, unknown>;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.reduce<number>(
      (sum, part) => sum + deployedLength(part),
      separator.length * (parts.length - 1),
    );
  }
  if ('Fn::Sub' in object) {
    const template = Array.isArray(object['Fn::Sub'])
      ? String(object['Fn::Sub'][0])
      : String(object['Fn::Sub']);
    return (
      template.replace(/\$\{[^}]+\}/gu, '').length +
      (template.match(/\$\{[^}]+\}/gu) ?? []).length * ARN_ESTIMATE
    );
  }
  return ARN_ESTIMATE;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await folderBytes(path) : (await stat(path)).size;
  }
  return total;
}

/** Name properties and their limits, by resource type, where the name is a literal of ours. */
const NAME_LIMITS: Record<string, [property: string, max: number][]> = {
  'AWS::Lambda::Function': [['FunctionName', 64]],
  'AWS::StepFunctions::StateMachine': [['StateMachineName', 80]],
  'AWS::IAM::Role': [['RoleName', 64]],
  'AWS::S3::Bucket': [['BucketName', 63]],
  'AWS::Logs::LogGroup': [['LogGroupName', 512]],
  'AWS::SNS::Topic': [['TopicName', 256]],
  'AWS::SecretsManager::Secret': [['Name', 512]],
  'AWS::SageMaker::Endpoint': [['EndpointName', 63]],
  'AWS::SageMaker::EndpointConfig': [['EndpointConfigName', 63]],
  'AWS::SageMaker::Model': [['ModelName', 63]],
  'AWS::SageMaker::ModelPackageGroup': [['ModelPackageGroupName', 63]],
  'AWS::CloudWatch::Alarm': [['AlarmName', 255]],
  'AWS::Events::Rule': [['Name', 64]],
};

describe('AWS service limits on the synthesized templates', () => {
  for (const stage of STAGES) {
    it(`${stage}: stacks, inputs, definitions, environments, bundles, names and tags fit their limits`, async () => {
      const assembly = await cloudAssembly(stage);
      const over: string[] = [];
      const check = (what: string, size: number, limit: number) => {
        if (size > limit) over.push(`${what}: ${String(size)} > ${String(limit)}`);
      };

      for (const { stack, size, template } of await stackTemplates(assembly)) {
        // CloudFormation: template body (uploaded through S3 by CDK) 1 MB; 500 resources; 200 outputs.
        check(`${stack} template bytes`, size, MiB);
        check(`${stack} resources`, Object.keys(template.Resources).length, 500);
        check(`${stack} outputs`, Object.keys(template.Outputs ?? {}).length, 200);
        for (const [id, resource] of Object.entries(template.Resources)) {
          const properties = resource.Properties ?? {};
          for (const [property, max] of NAME_LIMITS[resource.Type] ?? []) {
            if (typeof properties[property] === 'string')
              check(`${stack} ${id} ${property}`, properties[property].length, max);
          }
          // Tags: 50 per resource, keys 128 and values 256 characters.
          const tags = Array.isArray(properties.Tags)
            ? (properties.Tags as { Key: string; Value: unknown }[])
            : [];
          check(`${stack} ${id} tags`, tags.length, 50);
          for (const tag of tags) {
            check(`${stack} ${id} tag key ${tag.Key}`, tag.Key.length, 128);
            check(`${stack} ${id} tag ${tag.Key}`, deployedLength(tag.Value), 256);
          }
          // EventBridge: a target's constant input, 8,192 characters.
          if (resource.Type === 'AWS::Events::Rule') {
            for (const target of (properties.Targets ?? []) as { Input?: unknown }[]) {
              if (target.Input !== undefined)
                check(`${stack} ${id} target input`, deployedLength(target.Input), 8192);
            }
          }
        }
      }

      // Step Functions: a definition is at most 1 MB.
      for (const machine of await synthesizedStateMachines(assembly)) {
        check(`${machine.stack} ${machine.logicalId} definition bytes`, machine.size, MiB);
      }

      for (const fn of await synthesizedFunctions(assembly)) {
        // Lambda: all environment variables together, names and values, 4 KB.
        const environment = Object.entries(fn.environment).reduce(
          (sum, [name, value]) => sum + name.length + deployedLength(value),
          0,
        );
        check(`${fn.stack} ${fn.logicalId} environment bytes`, environment, 4096);
        // Lambda: a zip function's code, unzipped, 250 MB.
        if (fn.code.kind === 'zip') {
          check(
            `${fn.stack} ${fn.logicalId} unzipped bytes`,
            await folderBytes(fn.code.assetDir),
            250 * 1000 * 1000,
          );
        }
      }
      expect(over).toEqual([]);
    });
  }

  it('counts a reference at its deployed length, not its placeholder', () => {
    expect(deployedLength({ 'Fn::GetAtt': ['Bucket', 'Arn'] })).toBe(ARN_ESTIMATE);
    expect(deployedLength({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::x']] })).toBe(
      'arn::s3:::x'.length + ARN_ESTIMATE,
    );
  });
});
