import type { ProgressEvent, ProgressListener } from '../shared/progress.js';

const WIDTH = 24;

/**
 * Renders pipeline progress on stderr: a redrawn bar on a terminal, one line per finished stage
 * otherwise (CI logs, pipes), so output stays readable in both.
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressListener {
  let current: string | undefined;
  return (event: ProgressEvent) => {
    const finished = event.done >= event.total;
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${render(event)}`);
      if (finished) stream.write('\n');
    } else if (finished && current !== `${event.stage}:done`) {
      stream.write(`${render(event)}\n`);
    }
    current = finished ? `${event.stage}:done` : event.stage;
  };
}

function render({ stage, done, total }: ProgressEvent): string {
  if (total === 0) return `${stage.padEnd(14)} none`;
  if (!Number.isFinite(total)) return `${stage.padEnd(14)} ${done}`;
  const filled = Math.round((done / total) * WIDTH);
  return `${stage.padEnd(14)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total}`;
}
