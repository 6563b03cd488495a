/**
 * A reader for the Python literals the official Python SDK prints in its messages
 * (`Error code: 401 - {'error': {'message': '…', 'code': None}}`): dicts, lists, tuples, strings in either
 * quote, numbers, `None`, `True`, `False`. Returns the value as JSON would have it, or `undefined` for
 * anything else. Total and bounded: it never throws and never recurses deeper than {@link MAX_DEPTH}.
 */

const MAX_DEPTH = 32;
const MAX_TEXT = 1 << 20;

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };

class Reader {
  i = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  skipSpace(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i]!)) this.i++;
  }

  /** A value at the cursor, or `undefined` (the value `null` is `None`). */
  value(depth: number): unknown {
    if (depth > MAX_DEPTH) return undefined;
    this.skipSpace();
    const c = this.text[this.i];
    if (c === '{') return this.dict(depth);
    if (c === '[' || c === '(') return this.list(depth, c === '[' ? ']' : ')');
    if (c === "'" || c === '"') return this.string(c);
    const word = /^(?:None|True|False|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)/.exec(this.text.slice(this.i, this.i + 40))?.[0];
    if (word === undefined) return undefined;
    this.i += word.length;
    return word === 'None' ? null : word === 'True' ? true : word === 'False' ? false : Number(word);
  }

  string(quote: string): string | undefined {
    let out = '';
    for (this.i++; this.i < this.text.length; this.i++) {
      const c = this.text[this.i]!;
      if (c === quote) {
        this.i++;
        return out;
      }
      if (c === '\\') {
        const next = this.text[++this.i];
        if (next === undefined) return undefined;
        out += ESCAPES[next] ?? `\\${next}`;
      } else out += c;
    }
    return undefined;
  }

  dict(depth: number): Record<string, unknown> | undefined {
    const out: Record<string, unknown> = {};
    this.i++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] === '}') {
        this.i++;
        return out;
      }
      const key = this.value(depth + 1);
      if (typeof key !== 'string' && typeof key !== 'number') return undefined;
      this.skipSpace();
      if (this.text[this.i] !== ':') return undefined;
      this.i++;
      const v = this.value(depth + 1);
      if (v === undefined) return undefined;
      out[String(key)] = v;
      if (!this.separator('}')) return undefined;
    }
  }

  list(depth: number, close: string): unknown[] | undefined {
    const out: unknown[] = [];
    this.i++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] === close) {
        this.i++;
        return out;
      }
      const v = this.value(depth + 1);
      if (v === undefined) return undefined;
      out.push(v);
      if (!this.separator(close)) return undefined;
    }
  }

  /** After an item: a comma (consumed) or the closing bracket (left for the caller). */
  separator(close: string): boolean {
    this.skipSpace();
    const c = this.text[this.i];
    if (c === ',') {
      this.i++;
      return true;
    }
    return c === close;
  }
}

/** The Python literal at the start of `text` (trailing text is ignored), or `undefined`. */
export function parsePythonLiteral(text: string): unknown {
  if (text.length > MAX_TEXT) return undefined;
  try {
    return new Reader(text).value(0);
  } catch {
    return undefined; // unreachable by design; a last line of defence
  }
}
