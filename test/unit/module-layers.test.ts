import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LAMBDAS = resolve(import.meta.dirname, '../../lambdas');

/** Every relative import of the modules under lambdas/<folder>, as `file -> lambdas folder imported`. */
function importsOf(folder: string): { file: string; target: string }[] {
  const found: { file: string; target: string }[] = [];
  const files = readdirSync(join(LAMBDAS, folder), { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.ts'),
  );
  for (const file of files) {
    const path = join(LAMBDAS, folder, file);
    for (const [, specifier] of readFileSync(path, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/gu)) {
      const target = relative(LAMBDAS, resolve(dirname(path), specifier ?? '')).split('/')[0] ?? '';
      if (target !== folder) found.push({ file: `${folder}/${file}`, target });
    }
  }
  return found;
}

const outside = (folder: string, allowed: readonly string[]) =>
  importsOf(folder)
    .filter(({ target }) => !allowed.includes(target))
    .map(({ file, target }) => `${file} -> ${target}`);

describe('module layers: lower layers never import upper ones', () => {
  it('keeps the domain free of every other module', () => {
    expect(outside('domain', [])).toEqual([]);
  });

  it('lets the shared helpers use the domain only', () => {
    expect(outside('shared', ['domain'])).toEqual([]);
  });

  it('keeps access control below the RAG service: it uses the domain, the ports and shared helpers', () => {
    expect(outside('access', ['domain', 'ports', 'shared'])).toEqual([]);
  });
});
