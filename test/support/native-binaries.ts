import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdtemp, open, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createBrotliDecompress } from 'node:zlib';

/**
 * What a container image's `npm ci` puts in it, and the CPU each native binary in it is built for.
 * The tree is installed as the image's build installs it, for the image's CPU (npm's --cpu/--os/--libc
 * choose the platform packages of the lock), then pruned by the image's own prune-native.sh.
 */

const run = promisify(execFile);

export type Cpu = 'arm64' | 'x86_64';
const NPM_CPU: Record<Cpu, string> = { arm64: 'arm64', x86_64: 'x64' };

/** ELF e_machine values (System V ABI): the two CPUs Lambda runs. */
const ELF_MACHINES: Record<number, Cpu> = { 62: 'x86_64', 183: 'arm64' };

/** The CPU an ELF file's header names; undefined when the bytes are not an ELF file. */
export function elfMachine(header: Buffer): string | undefined {
  if (header.length < 20 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
  return ELF_MACHINES[machine] ?? `e_machine ${String(machine)}`;
}

/** node_modules as an image built from this asset (package.json, lock, prune script) would hold it. */
export async function installAsImage(assetDir: string, cpu: Cpu): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `twin-image-modules-${cpu}-`));
  for (const file of ['package.json', 'package-lock.json'])
    await copyFile(join(assetDir, file), join(dir, file));
  // Install scripts build for the machine they run on, which for an image is its own platform.
  await run(
    'npm',
    [
      'ci',
      '--omit=dev',
      '--os=linux',
      `--cpu=${NPM_CPU[cpu]}`,
      '--libc=glibc',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
    ],
    { cwd: dir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } },
  );
  const modules = join(dir, 'node_modules');
  await run('sh', [join(assetDir, 'lambdas', 'images', 'prune-native.sh'), modules, NPM_CPU[cpu]]);
  return modules;
}

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * The package folders a bundle can load: the packages it imports, and everything they depend on,
 * resolved as Node resolves them (the nearest node_modules upwards).
 */
export async function reachablePackages(modules: string, imported: Iterable<string>): Promise<Set<string>> {
  const reached = new Set<string>();
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir = from; dir.startsWith(modules); dir = join(dir, '..', '..')) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(candidate)) return candidate;
      if (dir === modules) break;
    }
    const top = join(modules, name);
    return existsSync(top) ? top : undefined;
  };
  const visit = async (folder: string): Promise<void> => {
    if (reached.has(folder)) return;
    reached.add(folder);
    const manifest = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8')) as PackageJson;
    const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
    for (const name of names) {
      const found = resolve(folder, name);
      if (found) await visit(found);
    }
  };
  for (const name of imported) {
    const found = existsSync(join(modules, name)) ? join(modules, name) : undefined;
    if (found) await visit(found);
  }
  return reached;
}

/** The bare package names a bundle imports, statically or lazily (`pkg`, `@scope/pkg`). */
export function importedPackages(code: string): Set<string> {
  const specifiers = [
    ...code.matchAll(/\bfrom\s*"([^"./][^"]*)"/gu),
    ...code.matchAll(/\bimport\(\s*"([^"./][^"]*)"\s*\)/gu),
    ...code.matchAll(/\brequire\(\s*"([^"./][^"]*)"\s*\)/gu),
  ].map((match) => match[1] ?? '');
  return new Set(
    specifiers
      .filter((specifier) => !specifier.startsWith('node:'))
      .map((specifier) =>
        specifier
          .split('/')
          .slice(0, specifier.startsWith('@') ? 2 : 1)
          .join('/'),
      ),
  );
}

/**
 * A binary in a folder named for another platform (`prebuilds/android-arm64/`, `linux-arm64/`,
 * `darwin/`) is one of a package's alternatives, of which its loader picks the one for the machine
 * it runs on; only those for Linux on the function's CPU (or for no named platform) are loaded.
 */
function isAlternativeFor(path: string, cpu: Cpu): boolean {
  const ours = NPM_CPU[cpu];
  return path.split('/').some((segment) => {
    const platform = /^(linux|darwin|win32|android|freebsd|openbsd|sunos|aix|ios)(?:[-_](\w+))?$/u.exec(
      segment,
    );
    if (!platform) return false;
    if (platform[1] !== 'linux') return true;
    return platform[2] !== undefined && !platform[2].startsWith(ours);
  });
}

export interface NativeBinary {
  /** Relative to node_modules; `archive.tar.br!member` for a member of a compressed archive. */
  path: string;
  machine: string;
}

/**
 * Every ELF binary under the given package folders that a loader on `cpu` could pick, inside
 * Brotli-compressed files and tarballs too.
 */
export async function nativeBinaries(
  modules: string,
  packages: Iterable<string>,
  cpu: Cpu,
): Promise<NativeBinary[]> {
  const found: NativeBinary[] = [];
  const seen = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        // Nested packages are reached (or not) on their own.
        if (entry.name !== 'node_modules') await walk(path);
        continue;
      }
      if (!entry.isFile() || seen.has(path)) continue;
      seen.add(path);
      const name = relative(modules, path);
      if (isAlternativeFor(name, cpu)) continue;
      if (entry.name.endsWith('.br')) {
        const content = await brotliContent(path);
        if (entry.name.endsWith('.tar.br')) {
          for (const member of tarMembers(content)) {
            const machine = elfMachine(member.head);
            if (machine) found.push({ path: `${name}!${member.name}`, machine });
          }
        } else {
          const machine = elfMachine(content.subarray(0, 64));
          if (machine) found.push({ path: name, machine });
        }
        continue;
      }
      const machine = elfMachine(await head(path));
      if (machine) found.push({ path: name, machine });
    }
  };
  for (const folder of packages) await walk(folder);
  return found;
}

async function head(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64);
    const { bytesRead } = await file.read(buffer, 0, 64, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

async function brotliContent(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(createReadStream(path), createBrotliDecompress(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

/** The regular files of a ustar archive, each with its first bytes. */
function* tarMembers(tar: Buffer): Generator<{ name: string; head: Buffer }> {
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    const name = header.toString('utf8', 0, 100).replace(/\0.*$/su, '');
    if (!name) return;
    const prefix = header.toString('utf8', 345, 500).replace(/\0.*$/su, '');
    const size = parseInt(header.toString('utf8', 124, 136).replace(/\0.*$/su, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    if (type === '0' || type === '\0') {
      yield {
        name: prefix ? `${prefix}/${name}` : name,
        head: tar.subarray(offset + 512, offset + 512 + Math.min(size, 64)),
      };
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
}
