/** "Did you mean …?" hints for misspelt property names and type strings. */

function distance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length];
}

const lastSegment = (s: string) => s.slice(s.lastIndexOf('.') + 1).toLowerCase();

/**
 * The candidate closest to `value`, if close enough to be a likely typo: same last dotted segment
 * (`io.kestra.plugin.core.Log` → `io.kestra.plugin.core.log.Log`), or a small edit distance.
 */
export function didYouMean(value: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = value.toLowerCase();
  // Short words are one or two edits away from too many others for a hint to mean anything.
  if (value.length < 3) return candidates.find((c) => c.toLowerCase() === lower && c !== value);
  let best: { candidate: string; score: number; raw: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === value) continue;
    const raw = distance(lower, candidate.toLowerCase());
    const score = value.includes('.') && lastSegment(candidate) === lastSegment(value) ? Math.min(raw, 1) : raw;
    if (!best || score < best.score || (score === best.score && raw < best.raw)) best = { candidate, score, raw };
  }
  // Dotted type names share long prefixes: only a few edits may differ for a hint to be about the same type.
  const limit = Math.max(1, Math.floor(value.length / (value.includes('.') ? 8 : 3)));
  return best && best.score <= limit ? best.candidate : undefined;
}
