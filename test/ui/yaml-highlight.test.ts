import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { highlightYaml, highlightYamlLines } from '../../server/ui/yaml-highlight.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'flows');

/** The text a browser shows: tags removed, entities decoded. */
function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The classes wrapped around each exact piece of text, e.g. `['y-key', 'id']`. */
function tokens(html: string): [string, string][] {
  return [...html.matchAll(/<span class="(y-[a-z]+)">((?:(?!<\/?span)[\s\S])*)<\/span>/g)].map((m) => [m[1], visibleText(m[2])]);
}

const TRICKY = [
  'id: a # comment with "quotes" and {{ braces }}',
  "msg: 'it''s {{ inputs.x }}' # trailing",
  'url: http://example.com:8080/path#fragment',
  'list: [a, "b, c", {k: v}]',
  'script: |\n  echo "{{ x }}"\n  # not a comment\nnext: 1',
  '- - nested\n  - id: x\n    value: >-\n      folded\n      text\n    after: true',
  'long: "first\n  second {{ y }}\n  third" # done',
  'anchor: &a 1\nalias: *a\ntagged: !!str 2',
  'message: {{ outputs.t.value }} plain',
  'weird: "unterminated\n',
  '"quoted key": 1\n\'single key\': 2',
  '---\nid: x\n...',
  '<script>alert(1)</script>: "</pre><script>"',
];

describe('YAML highlighter', () => {
  it('gives every fixture flow back unchanged once tags are stripped', async () => {
    const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const source = await readFile(join(FIXTURES, file), 'utf8');
      expect(visibleText(highlightYaml(source)), file).toBe(source);
    }
  });

  it.each(TRICKY)('round-trips %j', (source) => {
    expect(visibleText(highlightYaml(source))).toBe(source);
    expect(highlightYamlLines(source)).toHaveLength(source.split('\n').length);
  });

  it('marks keys, strings, literals, comments and templates', () => {
    const html = highlightYaml('id: hello # the id\nretries: 3\nenabled: true\nmessage: "Hi {{ inputs.name }}"\ntasks:\n  - id: t1\n');
    const found = tokens(html);
    expect(found).toContainEqual(['y-key', 'id']);
    expect(found).toContainEqual(['y-val', 'hello']);
    expect(found).toContainEqual(['y-com', '# the id']);
    expect(found).toContainEqual(['y-lit', '3']);
    expect(found).toContainEqual(['y-lit', 'true']);
    expect(found).toContainEqual(['y-tpl', '{{ inputs.name }}']);
    expect(html).toContain('<span class="y-str">&quot;Hi <span class="y-tpl">{{ inputs.name }}</span>&quot;</span>');
    expect(found).toContainEqual(['y-key', 'tasks']);
    expect(found).toContainEqual(['y-punct', '-']);
    expect(found).toContainEqual(['y-key', 'id']);
    expect(found).toContainEqual(['y-val', 't1']);
  });

  it('keeps a # inside quotes or URLs out of comments', () => {
    const found = tokens(highlightYaml('a: "x # y"\nb: http://h/p#frag\n'));
    expect(found).toContainEqual(['y-str', '"x # y"']);
    expect(found).toContainEqual(['y-val', 'http://h/p#frag']);
    expect(found.filter(([cls]) => cls === 'y-com')).toEqual([]);
  });

  it('reads block scalars as strings until the indentation drops back', () => {
    const lines = highlightYamlLines('tasks:\n  - id: s\n    script: |\n      echo {{ x }}\n      # shell comment\n    next: 1\n');
    expect(lines[3]).toBe('<span class="y-str">      echo <span class="y-tpl">{{ x }}</span></span>');
    expect(tokens(lines[4])).toEqual([['y-str', '      # shell comment']]);
    expect(tokens(lines[5])).toContainEqual(['y-key', 'next']);
  });

  it('continues a quoted string over lines', () => {
    const lines = highlightYamlLines('a: "one\n  two"\nb: 2');
    expect(tokens(lines[1])).toEqual([['y-str', '  two"']]);
    expect(tokens(lines[2])).toContainEqual(['y-key', 'b']);
  });

  it('escapes markup wherever it appears', () => {
    const html = highlightYaml('<b>: "<script>alert(1)</script>" # <img src=x onerror=alert(1)>\n');
    expect(html).not.toMatch(/<(?!\/?span)/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
