/** What a secret value is replaced with in logs and outputs. */
export const SECRET_MASK = '******';

/**
 * Values shorter than this are never masked. A one- or two-character "secret" ("1", "no", "id")
 * occurs in almost every line, so masking it would shred unrelated log text while protecting
 * nothing: a value that short can be guessed anyway. Such values are ignored, not refused.
 */
export const MIN_MASKED_LENGTH = 3;

/**
 * Encoded spellings shorter than this are not masked: a 3-character base64 or hex fragment occurs by
 * chance in any hash or id and would shred unrelated output.
 */
const MIN_ENCODED_LENGTH = 6;

/**
 * Replaces registered secret values with `******` in log lines and outputs. Besides the value
 * itself it masks each line of a multi-line value (scripts often print keys line by line), the
 * JSON-escaped spellings of both, with and without \uXXXX escapes for non-ASCII (a secret
 * inside a JSON log payload), and the spellings a script prints with one command: base64 (standard
 * and URL-safe, with and without padding, and wherever the secret starts inside a longer base64
 * text), hex (lower and upper case) and URL encoding. All candidates are compiled into one
 * alternation, longest first, rebuilt lazily after `add`, so masking a short line is one regex pass
 * however many secrets there are. A secret printed across two consecutive lines is caught by a
 * `LineMasker` (one per task run's output), which needs to see the lines in order.
 */
export class SecretMasker {
  private readonly candidates = new Set<string>();
  private pattern: RegExp | undefined;
  private starts: StartIndex | undefined;
  private pieces: PieceIndex | undefined;

  /** Registers a secret value; empty and too-short values are ignored (see MIN_MASKED_LENGTH). */
  add(value: string): void {
    if (typeof value !== 'string' || value.length < MIN_MASKED_LENGTH) return;
    const plain = new Set<string>([value]);
    for (const line of value.split(/\r\n|\r|\n/)) {
      plain.add(line);
      plain.add(line.trim());
    }
    const forms = new Set<string>(plain);
    for (const form of plain) {
      const escaped = JSON.stringify(form).slice(1, -1);
      forms.add(escaped);
      // Python's json.dumps (ensure_ascii) and Jackson's ESCAPE_NON_ASCII write \uXXXX for non-ASCII.
      forms.add(escaped.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
      if (form.length >= MIN_MASKED_LENGTH) for (const encoded of encodedForms(form)) forms.add(encoded);
    }
    let changed = false;
    for (const form of forms) {
      if (form.length < MIN_MASKED_LENGTH || this.candidates.has(form)) continue;
      this.candidates.add(form);
      changed = true;
    }
    if (changed) {
      this.pattern = undefined;
      this.starts = undefined;
      this.pieces = undefined;
    }
  }

  /** How many distinct strings are masked (a value and its variants count separately). */
  get size(): number {
    return this.candidates.size;
  }

  mask(text: string): string {
    if (this.candidates.size === 0 || typeof text !== 'string' || text.length < MIN_MASKED_LENGTH) return text;
    // A few literals: V8's regex searches them faster than any scan written here.
    if (this.candidates.size <= REGEX_MAX_CANDIDATES) {
      this.pattern ??= new RegExp([...this.candidates].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
      return text.replace(this.pattern, SECRET_MASK);
    }
    const starts = this.startIndex();
    let masked = '';
    let copied = 0;
    for (let at = 0; at <= text.length - MIN_MASKED_LENGTH;) {
      const length = starts.matchAt(text, at);
      if (length === 0) {
        at++;
        continue;
      }
      masked += text.slice(copied, at) + SECRET_MASK;
      at += length;
      copied = at;
    }
    return copied === 0 ? text : masked + text.slice(copied);
  }

  /**
   * A masker for one sequence of lines (a task run's output), which also masks a secret split across
   * two consecutive lines. A line ending with the start of a secret is held back until the next line
   * shows whether the secret goes on there (or until `end()`); any other line passes at once.
   */
  lines<T>(emit: (item: T, masked: string) => void): LineMasker<T> {
    return new LineMasker(this, emit);
  }

  /** @internal The candidates by their first characters, for the scan. */
  startIndex(): StartIndex {
    return (this.starts ??= new StartIndex(this.candidates));
  }

  /** @internal Where each 3-character piece occurs in the candidates, for LineMasker. */
  pieceIndex(): PieceIndex {
    return (this.pieces ??= new PieceIndex([...this.candidates].filter((c) => !/[\r\n]/.test(c))));
  }

  /** A copy of `value` with every string inside it (arrays and plain objects, at any depth) masked; keys are kept. */
  maskDeep<T>(value: T): T {
    if (this.candidates.size === 0) return value;
    return this.maskValue(value, new WeakMap()) as T;
  }

  private maskValue(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.mask(value);
    if (value === null || typeof value !== 'object') return value;
    const done = seen.get(value);
    if (done !== undefined) return done;
    if (Array.isArray(value)) {
      const copy: unknown[] = [];
      seen.set(value, copy);
      for (const item of value) copy.push(this.maskValue(item, seen));
      return copy;
    }
    if (!isPlainObject(value)) return value; // Buffers, Dates and class instances are not text
    const copy: Record<string, unknown> = {};
    seen.set(value, copy);
    for (const [key, item] of Object.entries(value)) copy[key] = this.maskValue(item, seen);
    return copy;
  }
}

/**
 * How a script prints a secret with one command: base64 and base64url (`| base64`, `btoa`), padded
 * or not; the part of a longer base64 text that depends only on the secret, for each of the three
 * byte offsets the secret can start at (`base64 <<< "user:$TOKEN"`); hex (`xxd -p`, `hexdump`,
 * `.hex()`), lower and upper case; URL encoding (`urlencode`, `quote`, `quote_plus`).
 */
function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms: string[] = [];
  const base64 = bytes.toString('base64');
  forms.push(base64, base64.replace(/=+$/, ''));
  for (let offset = 0; offset < 3; offset++) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Characters whose 6 bits all come from the secret's bytes.
    const first = Math.ceil((offset * 8) / 6);
    const last = Math.floor(((offset + bytes.length) * 8) / 6);
    const core = shifted.slice(first, last);
    if (core.length >= MIN_ENCODED_LENGTH) forms.push(core);
  }
  for (const form of forms.slice()) forms.push(form.replace(/\+/g, '-').replace(/\//g, '_'));
  const hex = bytes.toString('hex');
  forms.push(hex, hex.toUpperCase());
  const uri = encodeURIComponent(value);
  forms.push(uri, uri.replace(/%20/g, '+'), uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
  forms.push(uri.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
  return forms.filter((form) => form.length >= MIN_ENCODED_LENGTH && form !== value);
}

/**
 * The candidates by their first 3 characters, longest first, behind a bitmap of those prefixes' hashes:
 * the scan of a line asks the bitmap at each position (no allocation) and looks candidates up only
 * where it says yes. This is what a regex alternation of the candidates does, leftmost match and
 * longest candidate first, but in time that does not grow with the number of secrets (each secret
 * has ~15 spellings, and a regex of thousands of alternatives took ~50 µs a line).
 */
class StartIndex {
  private readonly bitmap = new Uint32Array(PREFIX_HASH_SIZE / 32);
  private readonly byPrefix = new Map<string, string[]>();

  constructor(candidates: Iterable<string>) {
    for (const candidate of candidates) {
      const prefix = candidate.slice(0, MIN_MASKED_LENGTH);
      let list = this.byPrefix.get(prefix);
      if (!list) this.byPrefix.set(prefix, (list = []));
      list.push(candidate);
      const hash = prefixHash(candidate, 0);
      this.bitmap[hash >>> 5] |= 1 << (hash & 31);
    }
    for (const list of this.byPrefix.values()) list.sort((a, b) => b.length - a.length);
  }

  /** The length of the longest candidate at `at` in `text`, 0 when none. */
  matchAt(text: string, at: number): number {
    const hash = prefixHash(text, at);
    if ((this.bitmap[hash >>> 5] & (1 << (hash & 31))) === 0) return 0;
    const list = this.byPrefix.get(text.slice(at, at + MIN_MASKED_LENGTH));
    if (!list) return 0;
    for (const candidate of list) if (text.startsWith(candidate, at)) return candidate.length;
    return 0;
  }
}

const PREFIX_HASH_SIZE = 1 << 16;

/**
 * Up to this many candidates (a handful of secrets), one regex alternation masks a line (~0.05 µs for
 * one secret); beyond, the regex slows with every alternative (~50 µs a line at 3,500) and the
 * StartIndex scan (~1–5 µs whatever the number) takes over.
 */
const REGEX_MAX_CANDIDATES = 64;

/** A 16-bit hash of the 3 characters at `at`. */
function prefixHash(text: string, at: number): number {
  return Math.imul(text.charCodeAt(at) * 961 + text.charCodeAt(at + 1) * 31 + text.charCodeAt(at + 2), 0x9e3779b1) >>> 16;
}

/** Where each 3-character piece occurs in the candidates: `[candidate, offset, candidate, offset, …]`. */
class PieceIndex {
  private readonly at = new Map<string, number[]>();

  constructor(readonly candidates: readonly string[]) {
    candidates.forEach((candidate, index) => {
      for (let offset = 0; offset + PIECE <= candidate.length; offset++) {
        const key = candidate.slice(offset, offset + PIECE);
        let list = this.at.get(key);
        if (!list) this.at.set(key, (list = []));
        list.push(index, offset);
      }
    });
  }

  /** True when `line` ends with the start (3 characters or more, not all) of a candidate. */
  endsWithStart(line: string): boolean {
    if (line.length < PIECE) return false;
    const list = this.at.get(line.slice(-PIECE));
    if (!list) return false;
    for (let i = 0; i < list.length; i += 2) {
      const candidate = this.candidates[list[i]];
      const length = list[i + 1] + PIECE;
      if (length < candidate.length && line.endsWith(candidate.slice(0, length))) return true;
    }
    return false;
  }

  /** True when `line` starts with the end (3 characters or more, not all) of a candidate. */
  startsWithEnd(line: string): boolean {
    if (line.length < PIECE) return false;
    const list = this.at.get(line.slice(0, PIECE));
    if (!list) return false;
    for (let i = 0; i < list.length; i += 2) {
      const candidate = this.candidates[list[i]];
      const offset = list[i + 1];
      if (offset > 0 && line.startsWith(candidate.slice(offset))) return true;
    }
    return false;
  }
}

/** Length of the pieces the split-line check indexes: MIN_MASKED_LENGTH, the shortest secret. */
const PIECE = MIN_MASKED_LENGTH;

/**
 * Masks one task run's output lines in order, catching a secret split across two consecutive lines
 * (`echo ${T:0:9}; echo ${T:9}`). A line whose end could start a secret is held until the next line
 * arrives (then both are masked together: the secret becomes `******` at the end of the first) or
 * until `end()`. Any other line is emitted at once, so ordinary output is never delayed. A split that
 * leaves fewer than 3 characters on one side shows those characters, as a secret shorter than 3 would.
 */
export class LineMasker<T> {
  /** The previous line: its text not yet masked (what a split secret would continue), and whether it is held. */
  private previous: { item: T; text: string; held: boolean } | undefined;

  constructor(
    private readonly masker: SecretMasker,
    private readonly emit: (item: T, masked: string) => void,
  ) {}

  push(item: T, line: string): void {
    const previous = this.previous;
    this.previous = undefined;
    let text = line;
    if (previous) {
      const across = previous.held || this.masker.pieceIndex().startsWithEnd(text)
        ? this.maskAcross(previous.text, text)
        : undefined;
      if (previous.held) this.emit(previous.item, across?.first ?? this.masker.mask(previous.text));
      // The part of the secret on this line was masked with the previous one.
      if (across) text = text.slice(across.consumed);
    }
    const held = this.masker.size > 0 && this.masker.pieceIndex().endsWithStart(text);
    this.previous = { item, text, held };
    if (!held) this.emit(item, this.masker.mask(text));
  }

  /** Emits a held line; call when the output has ended. */
  end(): void {
    if (this.previous?.held) this.emit(this.previous.item, this.masker.mask(this.previous.text));
    this.previous = undefined;
  }

  /**
   * Masks `first` as if `second` followed it on the same line: a secret running from the end of the
   * first into the second becomes `******` at the end of the first, and its `consumed` characters at
   * the start of the second are dropped by the caller.
   */
  private maskAcross(first: string, second: string): { first: string; consumed: number } {
    const joined = first + second;
    const boundary = first.length;
    const starts = this.masker.startIndex();
    for (let at = 0; at < boundary && at <= joined.length - MIN_MASKED_LENGTH;) {
      const length = starts.matchAt(joined, at);
      if (length === 0) {
        at++;
        continue;
      }
      if (at + length > boundary) {
        return { first: this.masker.mask(first.slice(0, at)) + SECRET_MASK, consumed: at + length - boundary };
      }
      at += length;
    }
    return { first: this.masker.mask(first), consumed: 0 };
  }
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
