import { readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cloudAssembly,
  STAGES,
  synthesizedFunctions,
  type SynthesizedFunction,
} from '../support/cloud-assembly.js';
import { imageTaskRoot, taskRootCode } from '../support/lambda-runtime.js';
import {
  elfMachine,
  importedPackages,
  installAsImage,
  nativeBinaries,
  reachablePackages,
  type Cpu,
  type NativeBinary,
} from '../support/native-binaries.js';

/**
 * Every native binary a function can load is built for the CPU the function runs on. An x86-64
 * Chromium in an arm64 function fails every browser crawl with an exec format error, on AWS only.
 * Zip functions: every ELF file in the asset. Container functions: the packages their entry bundle
 * imports, and all those depend on, installed for the image's CPU as its `npm ci` installs them.
 */

/** Installed once per lock and CPU: the stages' images share their package.json and lock. */
const installs = new Map<string, Promise<string>>();
async function imageModules(fn: SynthesizedFunction): Promise<string> {
  const lock = createHash('sha256')
    .update(await readFile(join(fn.code.assetDir, 'package-lock.json')))
    .digest('hex');
  const key = `${lock}:${fn.architecture}`;
  let modules = installs.get(key);
  if (!modules) {
    modules = installAsImage(fn.code.assetDir, fn.architecture);
    installs.set(key, modules);
  }
  return modules;
}

/** What a container function can load, once per image asset (an asset's name is its content hash). */
const imageScans = new Map<string, Promise<NativeBinary[]>>();
function imageBinaries(fn: SynthesizedFunction): Promise<NativeBinary[]> {
  const key = `${basename(fn.code.assetDir)}:${fn.architecture}`;
  let scan = imageScans.get(key);
  if (!scan) {
    scan = (async () => {
      const modules = await imageModules(fn);
      const imported = importedPackages(await taskRootCode(await imageTaskRoot(fn)));
      return nativeBinaries(modules, await reachablePackages(modules, imported), fn.architecture);
    })();
    imageScans.set(key, scan);
  }
  return scan;
}

async function zipBinaries(dir: string, prefix = ''): Promise<{ path: string; machine: string }[]> {
  const found: { path: string; machine: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await zipBinaries(path, `${prefix}${entry.name}/`)));
    else {
      const machine = elfMachine((await readFile(path)).subarray(0, 64));
      if (machine) found.push({ path: `${prefix}${entry.name}`, machine });
    }
  }
  return found;
}

describe('native binaries and the CPU of their function', () => {
  it('reads the CPU from an ELF header', () => {
    const header = Buffer.alloc(64);
    header.writeUInt32BE(0x7f454c46, 0);
    header[5] = 1;
    header.writeUInt16LE(183, 18);
    expect(elfMachine(header)).toBe('arm64');
    header.writeUInt16LE(62, 18);
    expect(elfMachine(header)).toBe('x86_64');
    expect(elfMachine(Buffer.from('#!/bin/sh\necho not a binary\n'))).toBeUndefined();
  });

  it('finds the packages a bundle imports, eagerly or lazily', () => {
    const code =
      'import{a}from"@sparticuz/chromium";const m=await import("puppeteer-core/lib/x.js");import"node:fs";import"./chunk.mjs";';
    expect([...importedPackages(code)].sort()).toEqual(['@sparticuz/chromium', 'puppeteer-core']);
  });

  for (const stage of STAGES) {
    it(`${stage}: every binary a function can load matches its architecture`, async () => {
      const functions = (await synthesizedFunctions(await cloudAssembly(stage))).filter((fn) => fn.ours);
      const mismatched: string[] = [];
      const checked: Record<string, number> = {};
      for (const fn of functions) {
        const binaries =
          fn.code.kind === 'zip' ? await zipBinaries(fn.code.assetDir) : await imageBinaries(fn);
        checked[String(fn.handlerName)] = binaries.length;
        for (const binary of binaries) {
          if (binary.machine !== fn.architecture) {
            mismatched.push(
              `${String(fn.handlerName)} (${fn.architecture}): ${binary.path} is ${binary.machine}`,
            );
          }
        }
      }
      expect(mismatched).toEqual([]);
      // The check saw the binaries that matter: Chromium for the crawler, ONNX Runtime for the models.
      expect(checked.crawl).toBeGreaterThan(1);
      expect(checked.features).toBeGreaterThan(0);
      expect(checked.rag).toBeGreaterThan(0);
    }, 600_000);
  }

  it('the crawler is on x86_64, where @sparticuz/chromium has a Chromium', async () => {
    const crawl = (await synthesizedFunctions(await cloudAssembly('dev'))).find(
      (fn) => fn.handlerName === 'crawl',
    );
    expect(crawl?.architecture).toBe<Cpu>('x86_64');
  });
});
