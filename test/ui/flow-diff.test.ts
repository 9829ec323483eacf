import { describe, expect, it } from 'vitest';
import { fold, revisionDiff } from '../../server/ui/flow-diff.ts';

const lines = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}: ${i + 1}`).join('\n') + '\n';
const text = (html: string) => html.replace(/<[^>]*>/g, '');

describe('revision diff rows', () => {
  it('numbers old and new lines, marks additions and removals', () => {
    const diff = revisionDiff('a: 1\nb: 2\nc: 3\n', 'a: 1\nb: 20\nc: 3\nd: 4\n');
    const rows = diff.unified.flatMap((s) => s.rows).map((r) => [r.kind, r.oldNo ?? null, r.newNo ?? null, text(r.html)]);
    expect(rows).toEqual([
      ['same', 1, 1, 'a: 1'],
      ['del', 2, null, 'b: 2'],
      ['add', null, 2, 'b: 20'],
      ['same', 3, 3, 'c: 3'],
      ['add', null, 4, 'd: 4'],
    ]);
    expect([diff.added, diff.removed, diff.total, diff.truncated]).toEqual([2, 1, 5, false]);
  });

  it('pairs removed and added lines side by side', () => {
    const diff = revisionDiff('a: 1\nb: 2\nc: 3\n', 'a: 1\nB: 2\nc: 3\nd: 4\n');
    const rows = diff.split.flatMap((s) => s.rows).map((r) => [r.left?.kind ?? null, r.left?.no ?? null, r.right?.kind ?? null, r.right?.no ?? null]);
    expect(rows).toEqual([
      ['same', 1, 'same', 1],
      ['del', 2, 'add', 2],
      ['same', 3, 'same', 3],
      [null, null, 'add', 4],
    ]);
  });

  it('folds long unchanged runs, keeping three lines of context around each change', () => {
    const before = lines(40);
    const after = before.replace('k20: 20', 'k20: twenty');
    const diff = revisionDiff(before, after);
    expect(diff.unified.map((s) => [s.folded, s.rows.length])).toEqual([
      [true, 16], // lines 1-16 folded, 17-19 shown
      [false, 3 + 2 + 3],
      [true, 17], // lines 24-40 folded
    ]);
    expect(diff.split.map((s) => [s.folded, s.rows.length])).toEqual([[true, 16], [false, 7], [true, 17]]);
  });

  it('does not fold a single line', () => {
    expect(fold([1, 0, 0, 0, 0, 0, 0, 0, 1], (n) => n === 0, 3).map((s) => s.folded)).toEqual([false]);
    expect(fold([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], (n) => n === 0, 3).map((s) => [s.folded, s.rows.length])).toEqual([[false, 4], [true, 2], [false, 4]]);
  });

  it('cuts diffs longer than the limit and says so', () => {
    const diff = revisionDiff('', lines(30), { maxRows: 10 });
    expect(diff.total).toBe(30);
    expect(diff.truncated).toBe(true);
    expect(diff.unified.flatMap((s) => s.rows)).toHaveLength(10);
    expect(diff.added).toBe(30);
  });

  it('highlights and escapes both sides', () => {
    const diff = revisionDiff('msg: "<b>"\n', 'msg: "{{ x }}"\n');
    const [del, add] = diff.unified.flatMap((s) => s.rows);
    expect(del.html).toBe('<span class="y-key">msg</span><span class="y-punct">:</span> <span class="y-str">&quot;&lt;b&gt;&quot;</span>');
    expect(add.html).toContain('<span class="y-tpl">{{ x }}</span>');
  });
});
