/** What a secret value is replaced with in logs and outputs. */
export const SECRET_MASK = '******';

/**
 * Values shorter than this are never masked. A one- or two-character "secret" ("1", "no", "id")
 * occurs in almost every line, so masking it would shred unrelated log text while protecting
 * nothing: a value that short can be guessed anyway. Such values are ignored, not refused.
 */
export const MIN_MASKED_LENGTH = 3;

/**
 * Replaces registered secret values with `******` in log lines and outputs. Besides the value
 * itself it masks each line of a multi-line value (scripts often print keys line by line) and the
 * JSON-escaped spellings of both, with and without \uXXXX escapes for non-ASCII (a secret
 * inside a JSON log payload). All candidates are compiled
 * into one alternation, longest first, rebuilt lazily after `add`, so masking a short line is one
 * regex pass however many secrets there are.
 */
export class SecretMasker {
  private readonly candidates = new Set<string>();
  private pattern: RegExp | undefined;

  /** Registers a secret value; empty and too-short values are ignored (see MIN_MASKED_LENGTH). */
  add(value: string): void {
    if (typeof value !== 'string' || value.length < MIN_MASKED_LENGTH) return;
    const forms = new Set<string>([value]);
    for (const line of value.split(/\r\n|\r|\n/)) {
      forms.add(line);
      forms.add(line.trim());
    }
    for (const form of [...forms]) {
      const escaped = JSON.stringify(form).slice(1, -1);
      forms.add(escaped);
      // Python's json.dumps (ensure_ascii) and Jackson's ESCAPE_NON_ASCII write \uXXXX for non-ASCII.
      forms.add(escaped.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    }
    let changed = false;
    for (const form of forms) {
      if (form.length < MIN_MASKED_LENGTH || this.candidates.has(form)) continue;
      this.candidates.add(form);
      changed = true;
    }
    if (changed) this.pattern = undefined;
  }

  /** How many distinct strings are masked (a value and its variants count separately). */
  get size(): number {
    return this.candidates.size;
  }

  mask(text: string): string {
    if (this.candidates.size === 0 || typeof text !== 'string' || text.length < MIN_MASKED_LENGTH) return text;
    this.pattern ??= new RegExp(
      [...this.candidates].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'),
      'g',
    );
    return text.replace(this.pattern, SECRET_MASK);
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

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
