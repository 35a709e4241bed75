/**
 * Content keys can be file paths (`src/main.py`), but MongoDB-wire servers refuse or mishandle field
 * names containing "." or starting with "$". Content keys are therefore stored percent-escaped for
 * those characters (and "%" itself, so decoding is exact) and restored on read.
 */
export function escapeFieldName(name: string): string {
  return name.replace(/%/g, '%25').replace(/\./g, '%2E').replace(/^\$/, '%24');
}

export function unescapeFieldName(name: string): string {
  return name.replace(/%(25|2E|24)/g, (_, code: string) => String.fromCharCode(parseInt(code, 16)));
}

export function mapContentKeys<T extends { content: Record<string, unknown> }>(
  record: T,
  rename: (key: string) => string,
): T {
  const content = Object.fromEntries(
    Object.entries(record.content).map(([key, value]) => [rename(key), value]),
  );
  return { ...record, content };
}
