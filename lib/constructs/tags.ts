import { Tags } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Tags every resource of the twin with the project and the stage (cost allocation, clean-up). */
export function tagTwinResources(scope: IConstruct, stage: string): void {
  Tags.of(scope).add('project', 'llm-twin');
  Tags.of(scope).add('stage', stage);
}
