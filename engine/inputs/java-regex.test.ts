import { describe, expect, test } from 'vitest';
import { compileJavaRegex, JavaRegexError } from './java-regex.ts';

describe('compileJavaRegex (Pattern.matches semantics)', () => {
  test.each([
    ['[a-z]+', 'abc', true],
    ['[a-z]+', 'abc1', false],
    ['a|b', 'a', true],
    ['a|b', 'ab', false],
    ['\\Aabc\\z', 'abc', true],
    ['abc\\Z', 'abc', true],
    ['(?i)[a-z]+', 'ABC', true],
    ['(?m)^a$', 'a', true],
    ['(?m)a$', 'a\nb', false],
    ['\\p{Alpha}+\\p{Digit}', 'abc1', true],
    ['\\P{Digit}+', 'abc', true],
    ['\\P{Digit}+', 'ab1', false],
    ['[\\p{Upper}_]+', 'A_B', true],
    ['\\p{L}+', 'éàü', true],
    ['\\p{IsAlphabetic}+', 'Straße', true],
    ['a\\hb', 'a\tb', true],
    ['a\\hb', 'a\nb', false],
    ['\\Q(1+1)\\E=2', '(1+1)=2', true],
    ['[\\Q-]\\E]+', '-]-', true],
    ['[]a]+', ']a]', true],
    ['[^]a]+', 'bc', true],
    ['\\#\\d+', '#12', true],
    ['(?<year>\\d{4})-\\d{2}', '2024-01', true],
  ])('%j matches %j: %s', (pattern, input, expected) => {
    expect(compileJavaRegex(pattern).test(input)).toBe(expected);
  });

  test.each([
    ['[a-z&&[^e]]', 'intersection'],
    ['[a[b]]', 'nested character classes'],
    ['a(?i)b', 'inline flags inside the pattern'],
    ['(?x)a b', 'unsupported inline flag'],
    ['a*+', 'Nothing to repeat'],
    ['(?>a)', 'Invalid group'],
    ['[abc', 'unclosed character class'],
    ['abc\\', 'trailing backslash'],
  ])('%j is refused', (pattern, part) => {
    expect(() => compileJavaRegex(pattern)).toThrow(JavaRegexError);
    expect(() => compileJavaRegex(pattern)).toThrow(part);
  });

  test('compiled patterns are reused', () => {
    expect(compileJavaRegex('x+')).toBe(compileJavaRegex('x+'));
  });
});
