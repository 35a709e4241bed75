import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './environment.js';

// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks (Node 22 has it).
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** A state machine file of statemachines/, with its ${...} substitutions filled in as CDK does. */
export function loadDefinition(file: string, substitutions: Record<string, string>): unknown {
  const text = readFileSync(join(REPO_ROOT, 'statemachines', file), 'utf8');
  return JSON.parse(
    text.replace(/\$\{(\w+)\}/gu, (_, name: string) => {
      const value = substitutions[name];
      if (value === undefined) throw new Error(`no substitution for \${${name}} in ${file}`);
      return value;
    }),
  );
}

export const FAKE_FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:twin-test';
