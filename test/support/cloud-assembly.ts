import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './environment.js';

/**
 * The synthesized cloud assembly (what `cdk deploy` uploads), read as AWS will read it: templates,
 * function code assets and state-machine definitions with their references resolved. `.ci/run`
 * synthesizes each stage once into TWIN_CLOUD_ASSEMBLIES/<stage>; run alone, a test synthesizes its own.
 */

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

const run = promisify(execFile);
const synthesized = new Map<Stage, Promise<string>>();

/** The cloud assembly folder of a stage (`cdk.out` of `cdk synth -c stage=<stage>`). */
export function cloudAssembly(stage: Stage): Promise<string> {
  let dir = synthesized.get(stage);
  if (!dir) {
    dir = locateOrSynthesize(stage);
    synthesized.set(stage, dir);
  }
  return dir;
}

async function locateOrSynthesize(stage: Stage): Promise<string> {
  const given = process.env.TWIN_CLOUD_ASSEMBLIES;
  if (given) {
    const dir = join(given, stage);
    if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`no cloud assembly in ${dir}`);
    return dir;
  }
  const dir = await mkdtemp(join(tmpdir(), `twin-cdk-out-${stage}-`));
  await run('npx', ['cdk', 'synth', '--quiet', '-c', `stage=${stage}`, '-o', dir], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return dir;
}

export type CfnValue = unknown;
export interface CfnResource {
  Type: string;
  Properties?: Record<string, CfnValue>;
  Metadata?: Record<string, CfnValue>;
  DependsOn?: string | string[];
}
export interface StackTemplate {
  stack: string;
  file: string;
  size: number;
  template: {
    Resources: Record<string, CfnResource>;
    Parameters?: Record<string, unknown>;
    Outputs?: Record<string, { Value: CfnValue; Export?: { Name?: CfnValue } }>;
  };
}

/** Every stack template of the assembly. */
export async function stackTemplates(assembly: string): Promise<StackTemplate[]> {
  const manifest = JSON.parse(await readFile(join(assembly, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stacks = Object.entries(manifest.artifacts).filter(
    ([, artifact]) => artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile,
  );
  return Promise.all(
    stacks.map(async ([stack, artifact]) => {
      const file = join(assembly, artifact.properties?.templateFile ?? '');
      const text = await readFile(file, 'utf8');
      return {
        stack,
        file,
        size: Buffer.byteLength(text),
        template: JSON.parse(text) as StackTemplate['template'],
      };
    }),
  );
}

export interface SynthesizedFunction {
  stack: string;
  logicalId: string;
  /** The handler file of lambdas/handlers it was built from, as its bundle or image says. */
  handlerName: string | undefined;
  /** Ours (POWERTOOLS_SERVICE_NAME llm-twin), not one of CDK's own custom-resource functions. */
  ours: boolean;
  architecture: 'arm64' | 'x86_64';
  reservedConcurrency: number | undefined;
  environment: Record<string, CfnValue>;
  code:
    | { kind: 'zip'; assetDir: string; runtime: string; handler: string }
    | { kind: 'image'; assetDir: string; dockerfile: string; buildArgs: Record<string, string> };
}

/** Every Lambda function of the assembly, with where its code is in the assembly. */
export async function synthesizedFunctions(assembly: string): Promise<SynthesizedFunction[]> {
  const found: SynthesizedFunction[] = [];
  for (const { stack, template } of await stackTemplates(assembly)) {
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const properties = resource.Properties ?? {};
      const metadata = resource.Metadata ?? {};
      const assetDir = join(assembly, String(metadata['aws:asset:path']));
      const environment =
        (properties.Environment as { Variables?: Record<string, CfnValue> } | undefined)?.Variables ?? {};
      const architectures = (properties.Architectures as string[] | undefined) ?? ['x86_64'];
      const image = metadata['aws:asset:dockerfile-path'] !== undefined;
      const buildArgs = (metadata['aws:asset:docker-build-args'] ?? {}) as Record<string, string>;
      found.push({
        stack,
        logicalId,
        handlerName: image ? buildArgs.HANDLER : await handlerOfBundle(assetDir),
        ours: environment.POWERTOOLS_SERVICE_NAME === 'llm-twin',
        architecture: architectures[0] === 'arm64' ? 'arm64' : 'x86_64',
        reservedConcurrency: properties.ReservedConcurrentExecutions as number | undefined,
        environment,
        code: image
          ? { kind: 'image', assetDir, dockerfile: String(metadata['aws:asset:dockerfile-path']), buildArgs }
          : {
              kind: 'zip',
              assetDir,
              runtime: String(properties.Runtime),
              handler: String(properties.Handler),
            },
      });
    }
  }
  return found;
}

/** The lambdas/handlers file a zip bundle was built from, read from its source map. */
async function handlerOfBundle(assetDir: string): Promise<string | undefined> {
  const map = join(assetDir, 'index.mjs.map');
  if (!existsSync(map)) return undefined;
  const { sources } = JSON.parse(await readFile(map, 'utf8')) as { sources: string[] };
  const entry = sources.map((source) => /lambdas\/handlers\/([\w-]+)\.ts$/u.exec(source)?.[1]).find(Boolean);
  return entry;
}

export interface SynthesizedStateMachine {
  stack: string;
  logicalId: string;
  /**
   * The definition as deployed, its substitutions made; a reference to a resource of the same stack
   * reads `ref:<logicalId>`.
   */
  definition: AslDefinition;
  size: number;
}

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Arguments?: Record<string, unknown>;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[] }[];
  Branches?: AslDefinition[];
  Iterator?: AslDefinition;
  ItemProcessor?: AslDefinition;
  MaxConcurrency?: number;
  Next?: string;
  End?: boolean;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

/** Every state machine of the assembly, its definition string joined as CloudFormation would. */
export async function synthesizedStateMachines(assembly: string): Promise<SynthesizedStateMachine[]> {
  const found: SynthesizedStateMachine[] = [];
  const templates = await stackTemplates(assembly);
  // What each cross-stack export refers to, so an imported ARN reads as the resource it names.
  const exports = new Map<string, string>();
  for (const { template } of templates) {
    for (const output of Object.values(template.Outputs ?? {})) {
      if (output.Export?.Name) exports.set(joinCfnString(output.Export.Name), joinCfnString(output.Value));
    }
  }
  const resolveImports = (text: string) =>
    text.replace(/ref:Fn::ImportValue:([\w:-]+)/gu, (whole, name: string) => exports.get(name) ?? whole);
  for (const { stack, template } of templates) {
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
      const substitutions = (resource.Properties?.DefinitionSubstitutions ?? {}) as Record<string, CfnValue>;
      const text = joinCfnString(resource.Properties?.DefinitionString).replace(
        /\$\{([A-Za-z0-9_]+)\}/gu,
        (whole, name: string) =>
          name in substitutions ? resolveImports(joinCfnString(substitutions[name])) : whole,
      );
      found.push({
        stack,
        logicalId,
        definition: JSON.parse(text) as AslDefinition,
        size: Buffer.byteLength(text),
      });
    }
  }
  return found;
}

/**
 * A CloudFormation string value with its intrinsics written out: Fn::Join joined, a GetAtt or Ref to a
 * resource as `ref:<logicalId>`, anything else (imports, pseudo parameters) as `ref:<what>`.
 */
export function joinCfnString(value: CfnValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, CfnValue[]];
      return parts.map(joinCfnString).join(separator);
    }
    if ('Fn::GetAtt' in object) return `ref:${String((object['Fn::GetAtt'] as string[])[0])}`;
    if ('Ref' in object) return `ref:${String(object.Ref)}`;
  }
  // Imports and the like: a placeholder that stays valid inside a JSON string.
  return `ref:${JSON.stringify(value).replace(/[^\w:.-]/gu, '')}`;
}

/** The logical id a joined value refers to (`ref:<logicalId>`), or undefined for anything else. */
export function referencedId(value: string | undefined): string | undefined {
  return /^ref:([A-Za-z0-9]+)$/u.exec(value ?? '')?.[1];
}

/** Each Task state of a definition, nested ones (Parallel branches, Map processors) included. */
export function* taskStates(
  definition: AslDefinition,
  path: string[] = [],
): Generator<{ name: string; path: string[]; state: AslState }> {
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') yield { name, path, state };
    for (const branch of state.Branches ?? []) yield* taskStates(branch, [...path, name]);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) yield* taskStates(processor, [...path, name]);
  }
}

/** The error names a state retries or catches, `States.*` left out. */
export function caughtNames(state: AslState): string[] {
  const names = [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((rule) => rule.ErrorEquals);
  return [...new Set(names.filter((name) => !name.startsWith('States.')))];
}
