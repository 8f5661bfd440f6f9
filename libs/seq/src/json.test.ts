import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonExact } from './json-parser.js';
import { parseJsonLossless, stringifyJsonLossless } from './json.js';

/** Rebuilds a parsed JSON value with `f` applied to every leaf (own "__proto__" keys kept). */
function mapLeaves(v: unknown, f: (leaf: unknown) => unknown): unknown {
  if (Array.isArray(v)) return v.map((item) => mapLeaves(item, f));
  if (v === null || typeof v !== 'object') return f(v);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v)) {
    const mapped = mapLeaves(value, f);
    Object.defineProperty(out, key, { value: mapped, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

function bigintsToNumbers(v: unknown): unknown {
  return mapLeaves(v, (leaf) => (typeof leaf === 'bigint' ? Number(leaf) : leaf));
}

function hasUnsafeInteger(v: unknown): boolean {
  let found = false;
  mapLeaves(v, (leaf) => {
    if (typeof leaf === 'number' && Number.isInteger(leaf) && !Number.isSafeInteger(leaf)) found = true;
  });
  return found;
}

/** The outcome of parsing: the value (big integers as numbers) or the error class name. */
function outcome(parse: (text: string) => unknown, text: string): unknown {
  try {
    return { value: bigintsToNumbers(parse(text)) };
  } catch (e) {
    return { error: (e as Error).name };
  }
}

describe('parseJsonLossless', () => {
  it('keeps integers above 2^53 exact', () => {
    expect(parseJsonLossless('{"from":331234567890123456}')).toEqual({ from: 331234567890123456n });
    expect(parseJsonLossless('[9007199254740993, 9223372036854775807, -9223372036854775808]')).toEqual([
      9007199254740993n,
      9223372036854775807n,
      -9223372036854775808n,
    ]);
    const huge = `1${'0'.repeat(99)}`;
    expect(parseJsonLossless(`[${huge}]`)).toEqual([10n ** 99n]);
  });

  it('keeps safe integers, fractions, exponents and strings as JSON.parse does', () => {
    expect(parseJsonLossless('[1, 2.5, -3e2, "9007199254740993"]')).toEqual([1, 2.5, -300, '9007199254740993']);
    expect(parseJsonLossless('[9007199254740991,-9007199254740991,9007199254740992,-9007199254740992]')).toEqual([
      9007199254740991,
      -9007199254740991,
      9007199254740992n,
      -9007199254740992n,
    ]);
    const fractions = '[12345678901234567890.0, 12345678901234567890e0, 1E400, -0, 0.1e-5]';
    expect(parseJsonLossless(fractions)).toEqual(JSON.parse(fractions));
    expect(Object.is((parseJsonLossless('[-0, 1234567890123456789]') as unknown[])[0], -0)).toBe(true);
  });

  it('reads nesting, escapes and unicode like JSON.parse', () => {
    const text =
      '{"a":{"b":[{"c":[]},{},[[9223372036854775807]]]},' +
      '"s":"q\\"\\\\\\/\\b\\f\\n\\r\\t \\u00e9\\u00E9 \\ud83d\\ude00 \\ud800 é 😀"}';
    type Expected = { a: { b: [unknown, unknown, [[unknown]]] } };
    const expected = JSON.parse(text.replace('9223372036854775807', '0')) as Expected;
    expected.a.b[2][0][0] = 9223372036854775807n;
    expect(parseJsonLossless(text)).toStrictEqual(expected);
  });

  it('keeps the last of duplicate keys at the first position', () => {
    const text = '{"a":1,"b":2,"a":12345678901234567890}';
    const parsed = parseJsonLossless(text) as Record<string, unknown>;
    expect(parsed).toEqual({ a: 12345678901234567890n, b: 2 });
    expect(Object.keys(parsed)).toEqual(Object.keys(JSON.parse(text) as object));
  });

  it('makes "__proto__" an own property without touching prototypes', () => {
    const text = '{"__proto__":{"polluted":1234567890123456789},"x":{"__proto__":[]}}';
    const parsed = parseJsonLossless(text) as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'x']);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ polluted: 1234567890123456789n });
    expect((parsed as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(parsed.x)).toBe(Object.prototype);
  });

  it('parses a million levels of nesting without overflowing the stack', () => {
    const depth = 1_000_000;
    let value = parseJsonExact(`${'['.repeat(depth)}1234567890123456789${']'.repeat(depth)}`);
    for (let level = 0; level < depth; level++) {
      if (!Array.isArray(value) || value.length !== 1) throw new Error(`not a 1-item array at level ${level}`);
      value = value[0];
    }
    expect(value).toBe(1234567890123456789n);
    expect(() => parseJsonExact('['.repeat(depth))).toThrow(SyntaxError);
  });

  const invalid = [
    '', ' ', '[1,]', '{"a":1,}', '[,1]', '{a:1}', "{'a':1}", '01', '-01', '00', '-', '+1', '1.', '.5', '1.e5',
    '1e', '1e+', '0x10', 'NaN', 'Infinity', '-Infinity', 'undefined', 'nul', 'truex', 'True', '[', ']', '{',
    '}', '[1 2]', '{"a" 1}', '{"a":}', '{"a"}', '{,}', '{"a":1 "b":2}', '1 2', '"abc', '"\t"', '"\n"',
    '"\\x41"', '"\\u12"', '"\\u12G4"', '"\\u\u0010000"', '"\\"', "'x'", '\uFEFF1', '1\u00a0', '\u20281',
    '// c\n1', '[1]]', '{"a":1}}', '[1]x', '12345678901234567890x', '[12345678901234567890,]',
    '-12345678901234567890.',
  ];

  it.each(invalid.map((text) => [text]))('throws SyntaxError like JSON.parse for %j', (text) => {
    expect(() => {
      JSON.parse(text);
    }).toThrow(SyntaxError);
    expect(() => parseJsonLossless(text)).toThrow(SyntaxError);
    expect(() => parseJsonExact(text)).toThrow(SyntaxError);
    expect(() => parseJsonLossless(`[9223372036854775807, ${text}]`)).toThrow(SyntaxError);
  });

  it('says where the error is', () => {
    expect(() => parseJsonExact('{"a": 01}')).toThrow(/Unexpected token "1" at position 7/);
    expect(() => parseJsonExact('[1,')).toThrow(/Unexpected end of JSON input/);
  });

  const jsonText = fc.oneof(
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v, null, 2)),
  );

  it('equals JSON.parse for JSON without big integers, on both paths', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        fc.pre(!hasUnsafeInteger(JSON.parse(text)));
        const expected: unknown = JSON.parse(text);
        expect(parseJsonLossless(text)).toStrictEqual(expected);
        expect(parseJsonExact(text)).toStrictEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('equals JSON.parse (big integers aside) on any JSON text', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        expect(bigintsToNumbers(parseJsonExact(text))).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts and rejects exactly what JSON.parse does on mangled JSON', () => {
    const alphabet = [...'{}[],:"\\ \t\n\r0123456789-+.eEtrufalsn/ux\u0000\u00e9\ud83d'];
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('insert', 'delete', 'replace'),
      char: fc.constantFrom(...alphabet),
    });
    fc.assert(
      fc.property(jsonText, fc.array(edit, { minLength: 1, maxLength: 3 }), (text, edits) => {
        let mangled = text;
        for (const e of edits) {
          const at = e.at % (mangled.length + 1);
          const rest = mangled.slice(e.kind === 'insert' ? at : at + 1);
          mangled = mangled.slice(0, at) + (e.kind === 'delete' ? '' : e.char) + rest;
        }
        expect(outcome(parseJsonExact, mangled)).toEqual(outcome((t) => JSON.parse(t) as unknown, mangled));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('stringifyJsonLossless', () => {
  it('writes bigints as bare integers with exact digits', () => {
    expect(stringifyJsonLossless({ from: 331234567890123456n })).toBe('{"from":331234567890123456}');
    expect(stringifyJsonLossless([9007199254740993n, 9223372036854775807n, -9223372036854775808n, 0n, -5n])).toBe(
      '[9007199254740993,9223372036854775807,-9223372036854775808,0,-5]',
    );
    expect(stringifyJsonLossless(12n)).toBe('12');
    expect(stringifyJsonLossless({ boxed: Object(7n) as unknown })).toBe('{"boxed":7}');
    expect(stringifyJsonLossless({ s: '123', n: 123n, t: '"__seqline_bigint_9_1"' })).toBe(
      '{"s":"123","n":123,"t":"\\"__seqline_bigint_9_1\\""}',
    );
  });

  it('keeps the data when it contains the marker text', () => {
    const value = { '__seqline_bigint_0_5': '__seqline_bigint_0_6', list: ['__seqline_bigint_1_', 7n, -8n] };
    const text = stringifyJsonLossless(value);
    expect(text).toBe('{"__seqline_bigint_0_5":"__seqline_bigint_0_6","list":["__seqline_bigint_1_",7,-8]}');
    expect(parseJsonLossless(text)).toEqual({ ...value, list: ['__seqline_bigint_1_', 7, -8] });
  });

  it('follows JSON.stringify otherwise: toJSON, undefined, space, errors', () => {
    const date = new Date(Date.UTC(2025, 0, 2));
    const value = { d: date, u: undefined, f: () => 1, a: [undefined, Number.NaN], n: null };
    expect(stringifyJsonLossless(value)).toBe(JSON.stringify(value));
    expect(stringifyJsonLossless({ a: [1, { b: 2n }] }, 2)).toBe(
      '{\n  "a": [\n    1,\n    {\n      "b": 2\n    }\n  ]\n}',
    );
    expect(stringifyJsonLossless({ a: [1] }, '\t')).toBe(JSON.stringify({ a: [1] }, null, '\t'));
    expect(() => stringifyJsonLossless(undefined)).toThrow(TypeError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => stringifyJsonLossless(cycle)).toThrow(TypeError);
  });

  const bigish = fc.oneof(
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
    fc.bigInt({ min: 2n ** 53n - 3n, max: 2n ** 53n + 3n }),
    fc.bigInt({ min: -(2n ** 53n) - 3n, max: -(2n ** 53n) + 3n }),
  );
  const { value: jsonWithBigints } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(null, true, false),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      bigish,
      fc.string(),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(fc.string(), tie('value'), { maxKeys: 5 }),
  }));

  it('round-trips: stringify → parse → stringify is stable, bigints exact', () => {
    fc.assert(
      fc.property(jsonWithBigints, (value) => {
        const text = stringifyJsonLossless(value);
        expect(stringifyJsonLossless(parseJsonLossless(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('parses back every bigint as itself (or as a number when it is a safe integer)', () => {
    fc.assert(
      fc.property(bigish, (n) => {
        const parsed = parseJsonLossless(stringifyJsonLossless({ n, list: [n] }));
        const expected = n >= -(2n ** 53n - 1n) && n <= 2n ** 53n - 1n ? Number(n) : n;
        expect(parsed).toStrictEqual({ n: expected, list: [expected] });
      }),
    );
  });
});
