/** One benchmark figure, printed as the single line CI and the README table read. */
export interface BenchFigure {
  name: string;
  ours: number;
  baseline: number;
  unit: string;
  /** e.g. "<=2" or ">=100" or "ratio<=1.5"; `met` is computed from `goalMet`. */
  goal: string;
  goalMet: boolean;
  /** ratio = ours / baseline unless given. */
  ratio?: number;
}

export function printBench(f: BenchFigure): void {
  const ratio = f.ratio ?? f.ours / f.baseline;
  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(3));
  console.log(
    `BENCH name=${f.name} ours=${fmt(f.ours)} baseline=${fmt(f.baseline)} ratio=${ratio.toFixed(3)} unit=${f.unit} goal=${f.goal} met=${f.goalMet ? 'yes' : 'no'}`,
  );
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
