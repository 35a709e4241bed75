import { ArchiveRefusedError } from './archive.js';

/** A data row by column name, with the line it starts on (1-based, the header is line 1). */
export interface CsvRow {
  line: number;
  values: Record<string, string>;
}

export interface CsvProblem {
  line: number;
  reason: string;
}

export interface CsvTable {
  columns: string[];
  rows: CsvRow[];
  /** Rows that could not be read, by line; the rows around them still are. */
  problems: CsvProblem[];
}

/**
 * Export files are UTF-8 (with or without a byte-order mark); one re-saved by a spreadsheet may be
 * UTF-16 with its mark. Anything else is refused with what to do, rather than read as mojibake.
 */
export function decodeText(bytes: Buffer, path: string): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ArchiveRefusedError(
      `${path} is not UTF-8 text; the platforms export UTF-8, so use the file as downloaded (or re-save it as UTF-8)`,
    );
  }
}

/**
 * RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks. A row with a stray
 * quote or the wrong number of fields is reported by its line and left out; an unterminated quote
 * loses the rest of the file, which is reported too.
 */
export function parseCsv(text: string): CsvTable {
  const records = splitRecords(text);
  const header = records.shift();
  if (!header || header.fields.every((field) => field.trim() === ''))
    return { columns: [], rows: [], problems: [{ line: 1, reason: 'the file has no header row' }] };
  const columns = header.fields.map((field) => field.trim());
  const rows: CsvRow[] = [];
  const problems: CsvProblem[] = header.problem ? [{ line: 1, reason: header.problem }] : [];
  for (const record of records) {
    if (record.fields.length === 1 && record.fields[0] === '') continue; // a blank line
    if (record.problem) {
      problems.push({ line: record.line, reason: record.problem });
      continue;
    }
    if (record.fields.length !== columns.length) {
      problems.push({
        line: record.line,
        reason: `${String(record.fields.length)} fields where the header has ${String(columns.length)}`,
      });
      continue;
    }
    rows.push({
      line: record.line,
      values: Object.fromEntries(columns.map((column, index) => [column, record.fields[index] ?? ''])),
    });
  }
  return { columns, rows, problems };
}

interface RawRecord {
  line: number;
  fields: string[];
  problem?: string;
}

function splitRecords(text: string): RawRecord[] {
  const records: RawRecord[] = [];
  let line = 1;
  let index = 0;
  while (index < text.length) {
    const start = line;
    const fields: string[] = [];
    let problem: string | undefined;
    let field = '';
    let quoted = false;
    let atFieldStart = true;
    let ended = false;
    while (index < text.length && !ended) {
      const char = text[index] ?? '';
      if (quoted) {
        if (char === '"' && text[index + 1] === '"') {
          field += '"';
          index += 2;
          continue;
        }
        if (char === '"') {
          quoted = false;
          index += 1;
          const next = text[index];
          if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r')
            problem ??= 'text after a closing quote';
          continue;
        }
        if (char === '\n') line += 1;
        field += char;
        index += 1;
        continue;
      }
      if (char === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
        index += 1;
        continue;
      }
      if (char === '"') problem ??= 'a quote inside an unquoted field';
      if (char === ',') {
        fields.push(field);
        field = '';
        atFieldStart = true;
        index += 1;
        continue;
      }
      if (char === '\r' || char === '\n') {
        index += char === '\r' && text[index + 1] === '\n' ? 2 : 1;
        line += 1;
        ended = true;
        continue;
      }
      field += char;
      atFieldStart = false;
      index += 1;
    }
    fields.push(field);
    if (quoted) problem = 'a quoted field is never closed; the rest of the file could not be read';
    records.push({ line: start, fields, ...(problem ? { problem } : {}) });
  }
  return records;
}
