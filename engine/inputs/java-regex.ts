/**
 * Kestra validators are Java regexes applied with `Pattern.matches` (the whole value must match).
 * Most Java syntax is JavaScript syntax; this translates the common differences (leading inline
 * flags, `\A` `\z` `\Z`, `\Q…\E`, `\h`, POSIX classes like `\p{Alpha}`) and refuses the ones that
 * would silently match differently (class intersection `&&`, nested classes, mid-pattern flags).
 * Possessive quantifiers and atomic groups fail to compile and are reported as such.
 */

export class JavaRegexError extends Error {
  override readonly name = 'JavaRegexError';
}

/** Java POSIX and java.lang.Character classes, as the inside of a JS character class. */
const POSIX: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: ' \\t\\n\\x0B\\f\\r',
  javaLowerCase: '\\p{Ll}',
  javaUpperCase: '\\p{Lu}',
  javaWhitespace: '\\s',
  IsAlphabetic: '\\p{Alphabetic}',
  IsDigit: '\\p{Nd}',
  IsLetter: '\\p{L}',
  IsLowercase: '\\p{Lowercase}',
  IsUppercase: '\\p{Uppercase}',
  IsWhite_Space: '\\p{White_Space}',
};

const HORIZONTAL_SPACE = ' \\t\\xA0\\u1680\\u180E\\u2000-\\u200A\\u202F\\u205F\\u3000';

const cache = new Map<string, RegExp>();

/** A RegExp that tests whether a whole string matches the Java `pattern`; JavaRegexError when it cannot be used. */
export function compileJavaRegex(pattern: string): RegExp {
  let compiled = cache.get(pattern);
  if (!compiled) {
    compiled = compile(pattern);
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, compiled);
  }
  return compiled;
}

function compile(pattern: string): RegExp {
  let body = pattern;
  let flags = '';
  const leading = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (leading) {
    for (const flag of leading[1]) {
      if (flag === 'i' || flag === 's' || flag === 'm') flags += flags.includes(flag) ? '' : flag;
      else if (flag !== 'u' && flag !== 'U' && flag !== 'd') {
        throw new JavaRegexError(`unsupported inline flag (?${flag})`);
      }
    }
    body = body.slice(leading[0].length);
  }
  const translated = `(?<![\\s\\S])(?:${translate(body)})(?![\\s\\S])`;
  // Unicode mode is closer to Java ('.' is a code point, \p{…} works) but rejects some identity
  // escapes Java allows (`\#`, `\'`); fall back to legacy mode for those.
  try {
    return new RegExp(translated, `${flags}u`);
  } catch {
    try {
      return new RegExp(translated, flags);
    } catch (error) {
      // "Invalid regular expression: /<translated>/: Nothing to repeat" → "Nothing to repeat"
      const message = (error as Error).message;
      throw new JavaRegexError(message.slice(message.lastIndexOf(': ') + 2) || message);
    }
  }
}

function translate(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) throw new JavaRegexError('trailing backslash');
      if (next === 'Q') {
        const end = source.indexOf('\\E', i + 2);
        const literal = source.slice(i + 2, end === -1 ? undefined : end);
        out += literal.replace(inClass ? /[.*+?^${}()|[\]\\-]/g : /[.*+?^${}()|[\]\\]/g, '\\$&');
        i = end === -1 ? source.length : end + 1;
        continue;
      }
      if (next === 'p' || next === 'P') {
        const m = /^\{([A-Za-z_]+)\}/.exec(source.slice(i + 2));
        const posix = m ? POSIX[m[1]] : undefined;
        if (m && posix !== undefined) {
          const negated = next === 'P';
          if (inClass && negated) throw new JavaRegexError(`\\P{${m[1]}} inside a character class is not supported`);
          out += inClass ? posix : `[${negated ? '^' : ''}${posix}]`;
          i += 1 + m[0].length;
          continue;
        }
      }
      if (!inClass && (next === 'A' || next === 'z' || next === 'Z')) {
        out += next === 'A' ? '(?<![\\s\\S])' : next === 'z' ? '(?![\\s\\S])' : '(?=(?:\\r?\\n)?(?![\\s\\S]))';
        i++;
        continue;
      }
      if (next === 'h') {
        out += inClass ? HORIZONTAL_SPACE : `[${HORIZONTAL_SPACE}]`;
        i++;
        continue;
      }
      out += c + next;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '[') throw new JavaRegexError('nested character classes are not supported');
      else if (c === '&' && source[i + 1] === '&') throw new JavaRegexError('character class intersection (&&) is not supported');
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal in Java.
      if (source[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (source[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && source[i + 1] === '?' && /^[a-zA-Z-]+[):]/.test(source.slice(i + 2))) {
      throw new JavaRegexError('inline flags inside the pattern are not supported (put them at the start)');
    }
    out += c;
  }
  if (inClass) throw new JavaRegexError('unclosed character class');
  return out;
}
