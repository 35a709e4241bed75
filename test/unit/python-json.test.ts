import { describe, expect, it } from 'vitest';
import { toPythonJson } from '../../lambdas/warehouse/python-json.js';

// Expected strings are what CPython's json.dumps() prints for the same values.
describe("JSON in the format of Python's json.dumps", () => {
  it('separates items with ", " and keys with ": ", keeping key order', () => {
    expect(toPythonJson({ b: 1, a: [true, null, 'x'] })).toBe('{"b": 1, "a": [true, null, "x"]}');
    expect(toPythonJson([])).toBe('[]');
    expect(toPythonJson({})).toBe('{}');
  });

  it('escapes every non-ASCII character with lowercase \\u escapes, emoji as surrogate pairs', () => {
    expect(toPythonJson('caf\u00e9 \u2019 \u{1F527}')).toBe('"caf\\u00e9 \\u2019 \\ud83d\\udd27"');
  });

  it('escapes quotes, backslashes and control characters like Python', () => {
    expect(toPythonJson('a"b\\c\n\t\u0001\u007f')).toBe('"a\\"b\\\\c\\n\\t\\u0001\u007f"');
  });

  it('refuses values JSON cannot hold', () => {
    expect(() => toPythonJson(Number.NaN)).toThrow(TypeError);
    expect(() => toPythonJson(() => 1)).toThrow(TypeError);
  });
});
