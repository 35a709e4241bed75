import type { FidelityRow } from './twin-fidelity.js';

const ROW_HEIGHT = 22;
const LABEL_WIDTH = 300;
const PLOT_WIDTH = 360;
const MARGIN = 16;

const escapeXml = (text: string) =>
  text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;').replace(/"/gu, '&quot;');

const COLOURS: Record<FidelityRow['kind'], string> = {
  ceiling: '#2e7d32',
  control: '#9e9e9e',
  system: '#1565c0',
};

/**
 * The table as a chart: per author, each row's style cosine with its 90% interval as a whisker, on a
 * shared axis from 0 to the largest upper bound, and its share attributed to the author in the label.
 * Plain SVG, so a browser, the web app and a README show it without a library.
 */
export function fidelityChartSvg(rows: readonly FidelityRow[], title: string): string {
  const authors = [...new Set(rows.map((row) => row.author))];
  const top = Math.max(0.05, ...rows.map((row) => row.styleCosine.interval[1]));
  const x = (value: number) => LABEL_WIDTH + (Math.max(0, value) / top) * PLOT_WIDTH;
  const parts: string[] = [];
  let y = MARGIN + 20;
  parts.push(
    `<text x="${String(MARGIN)}" y="${String(y)}" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  );
  y += 10;
  for (const author of authors) {
    y += 24;
    parts.push(
      `<text x="${String(MARGIN)}" y="${String(y)}" font-size="13" font-weight="bold">${escapeXml(author)}: style cosine with the author's profile (90% interval); attribution</text>`,
    );
    for (const row of rows.filter((entry) => entry.author === author)) {
      y += ROW_HEIGHT;
      const { mean, interval } = row.styleCosine;
      const label = `${row.system} · ${(row.attribution.mean * 100).toFixed(0)}%`;
      parts.push(
        `<text x="${String(MARGIN)}" y="${String(y)}" font-size="12">${escapeXml(label)}</text>`,
        `<rect x="${String(LABEL_WIDTH)}" y="${String(y - 12)}" width="${(x(mean) - LABEL_WIDTH).toFixed(1)}" height="14" fill="${COLOURS[row.kind]}"><title>${escapeXml(`${row.system}: ${mean.toFixed(3)} [${interval[0].toFixed(3)}, ${interval[1].toFixed(3)}]`)}</title></rect>`,
        `<line x1="${x(interval[0]).toFixed(1)}" x2="${x(interval[1]).toFixed(1)}" y1="${String(y - 5)}" y2="${String(y - 5)}" stroke="#000" stroke-width="1.5"/>`,
        `<text x="${(x(interval[1]) + 6).toFixed(1)}" y="${String(y)}" font-size="11">${mean.toFixed(3)}</text>`,
      );
    }
    y += 8;
  }
  const height = y + MARGIN;
  const width = LABEL_WIDTH + PLOT_WIDTH + 80;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}" viewBox="0 0 ${String(width)} ${String(height)}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
