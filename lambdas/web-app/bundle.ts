import { buildSync } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Where the web app's source lives (web/ at the repository root). */
export const WEB_APP_SOURCE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

export interface WebAsset {
  /** URL path, e.g. `/index.html` or `/app-3FZ2.js`. */
  path: string;
  contentType: string;
  body: string;
  /** Hashed names never change content, so they may be cached for a year; index.html never. */
  immutable: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/**
 * Builds the single-page app: one minified ES module and one stylesheet, both named by content hash,
 * and index.html pointing at them. Synchronous, so the CDK app can bundle it during synth.
 */
export function bundleWebApp(source = WEB_APP_SOURCE): WebAsset[] {
  const result = buildSync({
    entryPoints: { app: join(source, 'src', 'main.ts'), style: join(source, 'src', 'styles.css') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    entryNames: '[name]-[hash]',
    outdir: '/assets',
    write: false,
    logLevel: 'silent',
    tsconfig: join(source, 'tsconfig.json'),
  });
  const assets = result.outputFiles.map((file) => {
    const name = basename(file.path);
    const extension = name.slice(name.lastIndexOf('.'));
    return {
      path: `/${name}`,
      contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream',
      body: file.text,
      immutable: true,
    };
  });
  const script = assets.find((asset) => asset.path.endsWith('.js'));
  const style = assets.find((asset) => asset.path.endsWith('.css'));
  if (!script || !style) throw new Error('the web app bundle lacks its script or stylesheet');
  const html = readFileSync(join(source, 'index.html'), 'utf8')
    .replace('%APP_JS%', script.path)
    .replace('%APP_CSS%', style.path);
  return [
    { path: '/index.html', contentType: CONTENT_TYPES['.html'] ?? '', body: html, immutable: false },
    script,
    style,
  ];
}

/** Writes the bundle into a folder (the CDK asset). */
export function writeWebApp(folder: string, assets = bundleWebApp()): void {
  mkdirSync(folder, { recursive: true });
  for (const asset of assets) writeFileSync(join(folder, asset.path.slice(1)), asset.body);
}

/** Bytes per asset, raw and gzipped, for the bundle-size report. */
export function bundleSizes(
  assets: readonly WebAsset[],
): { path: string; bytes: number; gzipBytes: number }[] {
  return assets.map((asset) => ({
    path: asset.path,
    bytes: Buffer.byteLength(asset.body),
    gzipBytes: gzipSync(asset.body, { level: 9 }).length,
  }));
}
