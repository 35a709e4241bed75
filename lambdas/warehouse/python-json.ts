/**
 * Serialises JSON exactly as Python's `json.dumps(value)` does with its defaults (ASCII-only output
 * with lowercase \u escapes, ", " and ": " separators, no trailing newline). The book's export tool
 * writes that format, so our exports can be compared with its files byte for byte.
 */
export function toPythonJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return pythonString(value);
  if (typeof value === 'number') {
    // Warehouse records hold no numbers today; finite numbers print as JavaScript prints them.
    if (!Number.isFinite(value)) throw new TypeError(`cannot serialise ${value} as JSON`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(toPythonJson).join(', ')}]`;
  if (typeof value === 'object') {
    const fields = Object.entries(value).filter(([, field]) => field !== undefined);
    return `{${fields.map(([key, field]) => `${pythonString(key)}: ${toPythonJson(field)}`).join(', ')}}`;
  }
  throw new TypeError(`cannot serialise a ${typeof value} as JSON`);
}

function pythonString(text: string): string {
  // JSON.stringify already escapes quotes, backslashes and control characters the way Python does;
  // Python additionally escapes every non-ASCII UTF-16 unit.
  return JSON.stringify(text).replace(
    /[\u0080-\uffff]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
