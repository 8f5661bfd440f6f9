// A strict JSON parser (RFC 8259, the grammar JSON.parse accepts) that keeps big integers
// exact: an integer literal (no fraction, no exponent) outside the safe-integer range becomes
// a bigint with the same digits; every other value is what JSON.parse would return.
//
// Design:
// - Iterative, not recursive: containers being filled live on an explicit stack, so deeply
//   nested input cannot overflow the call stack (JSON.parse in V8 is iterative too).
// - Objects are plain `{}` like JSON.parse's. A "__proto__" key is defined as an own data
//   property (Object.defineProperty), as JSON.parse does, so input cannot change a prototype.
//   Duplicate keys: the last value wins and the key keeps its first position.
// - Strings are sliced from the input when they have no escapes (the common case); numbers
//   are converted with Number(), which rounds exactly as JSON.parse does.
// - Any deviation from the grammar throws SyntaxError with the position of the offending
//   character, like JSON.parse.
//
// json.ts only calls this when the text contains a run of 16 or more digits; otherwise no
// integer literal can be unsafe and the native JSON.parse gives the same result faster.

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const UPPER_A = 0x41;
const UPPER_E = 0x45;
const UPPER_F = 0x46;
const LOWER_A = 0x61;
const LOWER_E = 0x65;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_T = 0x74;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Integer literals with fewer digits than this are always safe integers. */
const SAFE_DIGITS = 15;

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

type Frame =
  | { readonly kind: 'array'; readonly items: unknown[] }
  | { readonly kind: 'object'; readonly target: Record<string, unknown>; key: string };

/** Returned by `openOrScalar` when it pushed a non-empty container instead of reading a value. */
const OPENED: unique symbol = Symbol('opened');

/** Parses `text` as JSON, keeping integer literals outside the safe range as exact bigints. */
export function parseJsonExact(text: string): unknown {
  return new Parser(text).document();
}

class Parser {
  private pos = 0;
  private readonly stack: Frame[] = [];

  constructor(private readonly text: string) {}

  document(): unknown {
    for (;;) {
      let value = this.openOrScalar();
      if (value === OPENED) continue;
      // A value is complete: add it to its container, closing containers as they end.
      for (;;) {
        const top = this.stack[this.stack.length - 1];
        if (top === undefined) return this.end(value);
        if (!this.addAndCloses(top, value)) break;
        this.stack.pop();
        value = top.kind === 'array' ? top.items : top.target;
      }
    }
  }

  /** Reads a scalar or an empty container, or opens a non-empty one (returns OPENED). */
  private openOrScalar(): unknown {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.pos);
    if (c === OPEN_BRACKET) {
      this.pos++;
      if (this.skipWhitespace() === CLOSE_BRACKET) {
        this.pos++;
        return [];
      }
      this.stack.push({ kind: 'array', items: [] });
      return OPENED;
    }
    if (c === OPEN_BRACE) {
      this.pos++;
      if (this.skipWhitespace() === CLOSE_BRACE) {
        this.pos++;
        return {};
      }
      this.stack.push({ kind: 'object', target: {}, key: this.key() });
      return OPENED;
    }
    if (c === QUOTE) return this.string();
    if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return this.number();
    if (c === LOWER_T) return this.literal('true', true);
    if (c === LOWER_F) return this.literal('false', false);
    if (c === LOWER_N) return this.literal('null', null);
    throw this.unexpected();
  }

  /** Adds `value` to `frame`, then reads `,` (false: more to come) or the closing bracket (true). */
  private addAndCloses(frame: Frame, value: unknown): boolean {
    if (frame.kind === 'array') frame.items.push(value);
    else if (frame.key === '__proto__') {
      Object.defineProperty(frame.target, frame.key, { value, writable: true, enumerable: true, configurable: true });
    } else frame.target[frame.key] = value;
    const c = this.skipWhitespace();
    if (c === COMMA) {
      this.pos++;
      if (frame.kind === 'object') frame.key = this.key();
      return false;
    }
    if (c === (frame.kind === 'array' ? CLOSE_BRACKET : CLOSE_BRACE)) {
      this.pos++;
      return true;
    }
    throw this.unexpected();
  }

  /** Reads `"key" :` and returns the key. */
  private key(): string {
    if (this.skipWhitespace() !== QUOTE) throw this.unexpected();
    const key = this.string();
    if (this.skipWhitespace() !== COLON) throw this.unexpected();
    this.pos++;
    return key;
  }

  private end(value: unknown): unknown {
    this.skipWhitespace();
    if (this.pos !== this.text.length) throw this.unexpected();
    return value;
  }

  /** Skips JSON whitespace; returns the code of the next character (NaN at the end). */
  private skipWhitespace(): number {
    const text = this.text;
    let i = this.pos;
    let c = text.charCodeAt(i);
    while (c === SPACE || c === LF || c === CR || c === TAB) c = text.charCodeAt(++i);
    this.pos = i;
    return c;
  }

  private literal<T>(word: string, value: T): T {
    for (let k = 0; k < word.length; k++, this.pos++) {
      if (this.text.charCodeAt(this.pos) !== word.charCodeAt(k)) throw this.unexpected();
    }
    return value;
  }

  /** Reads a string starting at its opening quote. */
  private string(): string {
    const text = this.text;
    const start = this.pos + 1;
    for (let i = start; ; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.pos = i + 1;
        return text.slice(start, i);
      }
      if (c === BACKSLASH) return this.escapedString(start, i);
      if (!(c >= SPACE)) throw this.unexpectedAt(i); // a control character, or NaN at the end
    }
  }

  /** The rest of a string from its first backslash at `i`; `start` is after the opening quote. */
  private escapedString(start: number, i: number): string {
    const text = this.text;
    let out = text.slice(start, i);
    let chunk = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.pos = i + 1;
        return out + text.slice(chunk, i);
      }
      if (c === BACKSLASH) {
        out += text.slice(chunk, i);
        const escape = text.charAt(i + 1);
        const simple = SIMPLE_ESCAPES[escape];
        if (simple !== undefined) {
          out += simple;
          i += 2;
        } else if (escape === 'u') {
          out += String.fromCharCode(this.hex4(i + 2));
          i += 6;
        } else throw this.unexpectedAt(i + 1);
        chunk = i;
      } else if (!(c >= SPACE)) throw this.unexpectedAt(i);
      else i++;
    }
  }

  private hex4(at: number): number {
    let code = 0;
    for (let k = at; k < at + 4; k++) {
      const digit = hexDigit(this.text.charCodeAt(k));
      if (digit < 0) throw this.unexpectedAt(k);
      code = code * 16 + digit;
    }
    return code;
  }

  /** Reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; big integers become bigints. */
  private number(): number | bigint {
    const text = this.text;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === MINUS) i++;
    if (text.charCodeAt(i) === DIGIT_0) i++;
    else i = this.digits(i);
    const integerDigits = i - start;
    let integer = true;
    if (text.charCodeAt(i) === DOT) {
      integer = false;
      i = this.digits(i + 1);
    }
    const c = text.charCodeAt(i);
    if (c === LOWER_E || c === UPPER_E) {
      integer = false;
      const sign = text.charCodeAt(i + 1);
      i = this.digits(sign === PLUS || sign === MINUS ? i + 2 : i + 1);
    }
    this.pos = i;
    const literal = text.slice(start, i);
    const value = Number(literal);
    if (integer && integerDigits > SAFE_DIGITS && !Number.isSafeInteger(value)) return BigInt(literal);
    return value;
  }

  /** Reads one or more digits from `i`; returns the index after them. */
  private digits(i: number): number {
    const text = this.text;
    let c = text.charCodeAt(i);
    if (!(c >= DIGIT_0 && c <= DIGIT_9)) throw this.unexpectedAt(i);
    do c = text.charCodeAt(++i);
    while (c >= DIGIT_0 && c <= DIGIT_9);
    return i;
  }

  private unexpected(): SyntaxError {
    return this.unexpectedAt(this.pos);
  }

  private unexpectedAt(at: number): SyntaxError {
    if (at >= this.text.length) return new SyntaxError('Unexpected end of JSON input');
    const token = JSON.stringify(this.text.charAt(at));
    return new SyntaxError(`Unexpected token ${token} at position ${at}: not valid JSON`);
  }
}

/** The value of a hexadecimal digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  if (c >= LOWER_A && c <= LOWER_F) return c - LOWER_A + 10;
  if (c >= UPPER_A && c <= UPPER_F) return c - UPPER_A + 10;
  return -1;
}
