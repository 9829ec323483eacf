import { describe, expect, it } from 'vitest';
import { bindNamedParameters, lineAndColumn, MissingParameterError, splitStatements } from './postgresql-statements.ts';

describe('splitStatements', () => {
  it('splits on semicolons and keeps each statement offset', () => {
    const sql = 'DROP TABLE IF EXISTS t;\n\nCREATE TABLE t (a int);\n';
    expect(splitStatements(sql)).toEqual([
      { text: 'DROP TABLE IF EXISTS t', offset: 0 },
      { text: 'CREATE TABLE t (a int)', offset: 25 },
    ]);
  });

  it('ignores semicolons in strings, identifiers, dollar quotes and comments', () => {
    const sql = [
      "SELECT 'a;b', E'c\\';d', \"e;f\" FROM t",
      '-- g;h\n/* i; /* nested; */ j; */ SELECT 1',
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql',
      "SELECT $$x;y$$, a$b FROM t WHERE c = $1",
    ].join(';\n');
    expect(splitStatements(sql).map((s) => s.text)).toEqual([
      "SELECT 'a;b', E'c\\';d', \"e;f\" FROM t",
      '-- g;h\n/* i; /* nested; */ j; */ SELECT 1',
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql',
      'SELECT $$x;y$$, a$b FROM t WHERE c = $1',
    ]);
  });

  it('drops empty statements and comment-only ones', () => {
    expect(splitStatements(';;\n -- nothing\n;  ')).toEqual([]);
    expect(splitStatements('select 1;;select 2;').map((s) => s.text)).toEqual(['select 1', 'select 2']);
  });
});

describe('bindNamedParameters', () => {
  it('turns :name into $n in order of first use, not inside strings, comments or casts', () => {
    const bound = bindNamedParameters("SELECT :a::text, ':b', :b, :a -- :c\nWHERE x = :b", { a: 1, b: 'two', c: 3 });
    expect(bound).toEqual({ text: "SELECT $1::text, ':b', $2, $1 -- :c\nWHERE x = $2", args: [1, 'two'] });
  });

  it('refuses a name parameters does not define', () => {
    expect(() => bindNamedParameters('SELECT :missing', { a: 1 })).toThrow(MissingParameterError);
    expect(() => bindNamedParameters('SELECT :missing', { a: 1 })).toThrow("':missing' has no value (given: a)");
  });
});

describe('lineAndColumn', () => {
  it('is 1-based', () => {
    expect(lineAndColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
