import { renderTemplate } from '../engine/template/index.ts';
import { printBench } from './report.ts';

/** Rendering a cached template is on every task's path: it must cost microseconds. */
export async function run(): Promise<void> {
  const template = '{{ inputs.taxi }}_tripdata_{{ inputs.year }}-{{ inputs.month }}.csv';
  const variables = { inputs: { taxi: 'yellow', year: 2019, month: 1 } };
  for (let i = 0; i < 2000; i++) await renderTemplate(template, variables);
  const runs = 20_000;
  const started = performance.now();
  for (let i = 0; i < runs; i++) await renderTemplate(template, variables);
  const us = ((performance.now() - started) / runs) * 1000;
  // Baseline: the same string built with a JS template literal (the floor of any renderer).
  const t0 = performance.now();
  let sink = '';
  for (let i = 0; i < runs; i++) sink = `${variables.inputs.taxi}_tripdata_${variables.inputs.year}-${variables.inputs.month}.csv`;
  const floor = Math.max(((performance.now() - t0) / runs) * 1000, 0.001);
  if (!sink) throw new Error('unreachable');
  printBench({ name: 'template_render_us', ours: us, baseline: floor, unit: 'us/render', goal: '<=20', goalMet: us <= 20 });
}
