/**
 * JSON text too long to parse whole (over 1 MiB: a failed Response with a megabyte of output, an error
 * whose message quotes the whole prompt): a bounded view of it, so it is still read as JSON, not as
 * text. Objects and arrays are read to {@link MAX_DEPTH} levels and {@link MAX_ITEMS} entries, strings
 * are cut to {@link MAX_STRING} characters, and at most {@link MAX_SCAN} characters are read; text cut
 * short (a truncated body) yields what was read up to the cut. Total: never throws, no recursion past
 * MAX_DEPTH (deeper values are skipped by an iterative scan).
 */

const MAX_DEPTH = 8;
const MAX_ITEMS = 64;
const MAX_STRING = 64 * 1024;
const MAX_SCAN = 64 * 1024 * 1024;

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Thrown inside the reader when the text ends or breaks; caught at the top. */
const END = Symbol('end');

class Reader {
  i = 0;
  readonly text: string;
  readonly end: number;
  constructor(text: string) {
    this.text = text;
    this.end = Math.min(text.length, MAX_SCAN);
  }

  space(): void {
    while (this.i < this.end) {
      const c = this.text.charCodeAt(this.i);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return;
      this.i++;
    }
  }

  peek(): string {
    this.space();
    if (this.i >= this.end) throw END;
    return this.text[this.i]!;
  }

  value(depth: number, out: { v: unknown }): void {
    const c = this.peek();
    if (depth >= MAX_DEPTH && (c === '{' || c === '[')) {
      this.skip();
      out.v = c === '{' ? {} : [];
    } else if (c === '{') this.object(depth, out);
    else if (c === '[') this.array(depth, out);
    else if (c === '"') out.v = this.string(true);
    else {
      const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.i, this.i + 64));
      if (m === null) throw END;
      this.i += m[0].length;
      out.v = m[0] === 'true' ? true : m[0] === 'false' ? false : m[0] === 'null' ? null : Number(m[0]);
    }
  }

  /** Fills `out.v` as it goes, so a cut keeps what was read. */
  object(depth: number, out: { v: unknown }): void {
    const o: Record<string, unknown> = {};
    out.v = o;
    this.i++;
    let n = 0;
    if (this.peek() === '}') {
      this.i++;
      return;
    }
    for (;;) {
      if (this.peek() !== '"') throw END;
      const key = this.string(true);
      if (this.peek() !== ':') throw END;
      this.i++;
      if (n++ < MAX_ITEMS) {
        const slot = { v: undefined as unknown };
        try {
          this.value(depth + 1, slot);
        } finally {
          if (slot.v !== undefined) o[key] = slot.v;
        }
      } else this.skip();
      const c = this.peek();
      this.i++;
      if (c === '}') return;
      if (c !== ',') throw END;
    }
  }

  array(depth: number, out: { v: unknown }): void {
    const a: unknown[] = [];
    out.v = a;
    this.i++;
    if (this.peek() === ']') {
      this.i++;
      return;
    }
    for (;;) {
      if (a.length < MAX_ITEMS) {
        const slot = { v: undefined as unknown };
        try {
          this.value(depth + 1, slot);
        } finally {
          if (slot.v !== undefined) a.push(slot.v);
        }
      } else this.skip();
      const c = this.peek();
      this.i++;
      if (c === ']') return;
      if (c !== ',') throw END;
    }
  }

  /** A string at the cursor (on its opening quote); kept up to MAX_STRING characters when `keep`. */
  string(keep: boolean): string {
    let out = '';
    for (this.i++; this.i < this.end; this.i++) {
      const c = this.text[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      let ch = c;
      if (c === '\\') {
        const e = this.text[++this.i];
        if (e === undefined) throw END;
        if (e === 'u') {
          ch = String.fromCharCode(parseInt(this.text.slice(this.i + 1, this.i + 5), 16) || 0xfffd);
          this.i += 4;
        } else ch = ESCAPES[e] ?? e;
      }
      if (keep && out.length < MAX_STRING) out += ch;
    }
    throw END;
  }

  /** Skips one value, of any depth, without building it. */
  skip(): void {
    let depth = 0;
    do {
      const c = this.peek();
      if (c === '"') {
        this.string(false);
        continue;
      }
      this.i++;
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
      else if (depth === 0) {
        // a scalar at the top of the skip: read to its end
        while (this.i < this.end && !/[,}\]\s]/.test(this.text[this.i]!)) this.i++;
      }
    } while (depth > 0);
  }
}

/** A bounded view of JSON text (see the file comment); `undefined` when it does not start as JSON. */
export function parseBoundedJson(text: string): unknown {
  const r = new Reader(text);
  const out = { v: undefined as unknown };
  try {
    r.value(0, out);
  } catch {
    // cut short or broken: what was read so far
  }
  return out.v;
}
