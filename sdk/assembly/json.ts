// A small JSON reader and writer for guests (AssemblyScript has no JSON in its
// standard library). Data between host and guest is JSON (docs/PLUGINS.md).

export enum Kind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

export class Value {
  kind: Kind = Kind.Null;
  b: bool = false;
  n: f64 = 0;
  s: string = "";
  items: Array<Value> = new Array<Value>();
  keys: Array<string> = new Array<string>();
  values: Array<Value> = new Array<Value>();

  static nul(): Value {
    return new Value();
  }

  isNull(): bool {
    return this.kind == Kind.Null;
  }

  /** Member of an object, or null when absent or when this is not an object. */
  get(key: string): Value | null {
    if (this.kind != Kind.Object) return null;
    for (let i = 0; i < this.keys.length; i++) {
      if (unchecked(this.keys[i]) == key) return unchecked(this.values[i]);
    }
    return null;
  }

  getString(key: string, fallback: string = ""): string {
    const v = this.get(key);
    if (v === null || v.kind != Kind.String) return fallback;
    return v.s;
  }

  getNumber(key: string, fallback: f64 = 0): f64 {
    const v = this.get(key);
    if (v === null || v.kind != Kind.Number) return fallback;
    return v.n;
  }

  getBool(key: string, fallback: bool = false): bool {
    const v = this.get(key);
    if (v === null || v.kind != Kind.Bool) return fallback;
    return v.b;
  }
}

/** Thrown-free parser: returns null on malformed input. */
export class Parser {
  private i: i32 = 0;
  private failed: bool = false;
  constructor(private src: string) {}

  static parse(src: string): Value | null {
    const p = new Parser(src);
    const v = p.value();
    p.ws();
    if (p.failed || p.i != src.length) return null;
    return v;
  }

  private ws(): void {
    const s = this.src;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) this.i++;
      else break;
    }
  }

  private fail(): Value {
    this.failed = true;
    return Value.nul();
  }

  private value(): Value {
    this.ws();
    if (this.failed || this.i >= this.src.length) return this.fail();
    const c = this.src.charCodeAt(this.i);
    if (c == 0x7b) return this.object();
    if (c == 0x5b) return this.array();
    if (c == 0x22) {
      const v = new Value();
      v.kind = Kind.String;
      v.s = this.string();
      return v;
    }
    if (c == 0x74) return this.literal("true", Kind.Bool, true);
    if (c == 0x66) return this.literal("false", Kind.Bool, false);
    if (c == 0x6e) return this.literal("null", Kind.Null, false);
    return this.number();
  }

  private literal(word: string, kind: Kind, b: bool): Value {
    if (this.src.substr(this.i, word.length) != word) return this.fail();
    this.i += word.length;
    const v = new Value();
    v.kind = kind;
    v.b = b;
    return v;
  }

  private number(): Value {
    const s = this.src;
    const start = this.i;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      // digits, sign, decimal point, exponent
      if ((c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45) this.i++;
      else break;
    }
    if (this.i == start) return this.fail();
    const n = parseFloat(s.substring(start, this.i));
    if (isNaN(n)) return this.fail();
    const v = new Value();
    v.kind = Kind.Number;
    v.n = n;
    return v;
  }

  private hex(c: i32): i32 {
    if (c >= 0x30 && c <= 0x39) return c - 0x30;
    if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
    if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
    this.failed = true;
    return 0;
  }

  private string(): string {
    const s = this.src;
    this.i++; // opening quote
    let out = "";
    let runStart = this.i;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c == 0x22) {
        out += s.substring(runStart, this.i);
        this.i++;
        return out;
      }
      if (c == 0x5c) {
        out += s.substring(runStart, this.i);
        this.i++;
        if (this.i >= s.length) break;
        const e = s.charCodeAt(this.i);
        if (e == 0x6e) out += "\n";
        else if (e == 0x74) out += "\t";
        else if (e == 0x72) out += "\r";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x75) {
          if (this.i + 4 >= s.length) break;
          const code =
            (this.hex(s.charCodeAt(this.i + 1)) << 12) |
            (this.hex(s.charCodeAt(this.i + 2)) << 8) |
            (this.hex(s.charCodeAt(this.i + 3)) << 4) |
            this.hex(s.charCodeAt(this.i + 4));
          out += String.fromCharCode(code);
          this.i += 4;
        } else out += String.fromCharCode(e); // \" \\ \/
        this.i++;
        runStart = this.i;
        continue;
      }
      this.i++;
    }
    this.failed = true;
    return "";
  }

  private array(): Value {
    const v = new Value();
    v.kind = Kind.Array;
    this.i++;
    this.ws();
    if (this.i < this.src.length && this.src.charCodeAt(this.i) == 0x5d) {
      this.i++;
      return v;
    }
    while (!this.failed) {
      v.items.push(this.value());
      this.ws();
      if (this.i >= this.src.length) return this.fail();
      const c = this.src.charCodeAt(this.i++);
      if (c == 0x5d) return v;
      if (c != 0x2c) return this.fail();
    }
    return v;
  }

  private object(): Value {
    const v = new Value();
    v.kind = Kind.Object;
    this.i++;
    this.ws();
    if (this.i < this.src.length && this.src.charCodeAt(this.i) == 0x7d) {
      this.i++;
      return v;
    }
    while (!this.failed) {
      this.ws();
      if (this.i >= this.src.length || this.src.charCodeAt(this.i) != 0x22) return this.fail();
      const key = this.string();
      this.ws();
      if (this.i >= this.src.length || this.src.charCodeAt(this.i) != 0x3a) return this.fail();
      this.i++;
      const val = this.value();
      v.keys.push(key);
      v.values.push(val);
      this.ws();
      if (this.i >= this.src.length) return this.fail();
      const c = this.src.charCodeAt(this.i++);
      if (c == 0x7d) return v;
      if (c != 0x2c) return this.fail();
    }
    return v;
  }
}

/** Quotes and escapes a string as a JSON string literal. */
export function quote(s: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c || c < 0x20) {
      out += s.substring(runStart, i);
      if (c == 0x22) out += '\\"';
      else if (c == 0x5c) out += "\\\\";
      else if (c == 0x0a) out += "\\n";
      else if (c == 0x0d) out += "\\r";
      else if (c == 0x09) out += "\\t";
      else {
        const h = "0123456789abcdef";
        out += "\\u00" + h.charAt(c >> 4) + h.charAt(c & 15);
      }
      runStart = i + 1;
    }
  }
  out += s.substring(runStart);
  return out + '"';
}

/** Builds one JSON object: new ObjectWriter().str("a", "x").num("b", 1).done() */
export class ObjectWriter {
  private out: string = "{";
  private count: i32 = 0;

  private key(k: string): void {
    if (this.count++ > 0) this.out += ",";
    this.out += quote(k) + ":";
  }
  str(k: string, v: string): ObjectWriter {
    this.key(k);
    this.out += quote(v);
    return this;
  }
  num(k: string, v: f64): ObjectWriter {
    this.key(k);
    this.out += formatNumber(v);
    return this;
  }
  bool(k: string, v: bool): ObjectWriter {
    this.key(k);
    this.out += v ? "true" : "false";
    return this;
  }
  /** Inserts already-encoded JSON (an object, array or literal) as the value. */
  raw(k: string, json: string): ObjectWriter {
    this.key(k);
    this.out += json;
    return this;
  }
  done(): string {
    return this.out + "}";
  }
}

/** JSON has no NaN or Infinity: they are written as 0. Integers print without ".0". */
export function formatNumber(v: f64): string {
  if (!isFinite(v)) return "0";
  if (v == Math.floor(v) && Math.abs(v) < 9007199254740992) return (<i64>v).toString();
  return v.toString();
}
