import { describe, expect, it } from 'vitest';
import { validateFlowSource, walkTasks } from '../../engine/flow/index.ts';
import type { FlowDef } from '../../engine/index.ts';
import { layoutTopology, renderTopologySvg, type Topology, type TopologyNode } from '../../server/ui/topology.ts';

const LOG = 'io.kestra.plugin.core.log.Log';
const FLOW = `
id: shapes
namespace: company.team
tasks:
  - id: first
    type: ${LOG}
    message: hi
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: left
        type: ${LOG}
        message: l
      - id: right
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: r1
            type: ${LOG}
            message: r1
          - id: inner
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: deep_a
                type: ${LOG}
                message: a
              - id: deep_b
                type: ${LOG}
                message: b
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ true }}"
    then:
      - id: yes
        type: ${LOG}
        message: yes
    else:
      - id: no
        type: ${LOG}
        message: no
  - id: route
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.kind }}"
    cases:
      "<b>red</b>":
        - id: red_task
          type: ${LOG}
          message: red
      green:
        - id: green_task
          type: ${LOG}
          message: green
    defaults:
      - id: default_task
        type: ${LOG}
        message: default
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: per_value
        type: ${LOG}
        message: "{{ taskrun.value }}"
      - id: call
        type: io.kestra.plugin.core.flow.Subflow
        namespace: company.other
        flowId: child
    errors:
      - id: loop_failed
        type: ${LOG}
        message: loop failed
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: done
errors:
  - id: on_error
    type: ${LOG}
    message: failed
finally:
  - id: always
    type: ${LOG}
    message: always
`;

function parse(source: string): FlowDef {
  const { flow, problems } = validateFlowSource(source);
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return flow!;
}

const inside = (child: TopologyNode, parent: { x: number; y: number; w: number; h: number }) =>
  child.x >= parent.x && child.y >= parent.y && child.x + child.w <= parent.x + parent.w && child.y + child.h <= parent.y + parent.h;
const overlap = (a: TopologyNode, b: TopologyNode) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('topology layout', () => {
  const flow = parse(FLOW);
  const topology: Topology = layoutTopology(flow);
  const byId = new Map(topology.nodes.map((n) => [n.id, n]));

  it('has one node per task, with the path walkTasks gives it', () => {
    const walked: Record<string, string> = {};
    walkTasks(flow, (task, path) => {
      walked[task.id] = path;
    });
    expect(Object.fromEntries(topology.nodes.map((n) => [n.id, n.path]))).toEqual(walked);
  });

  it('draws flowables as groups, Subflow as its own kind, the rest as tasks', () => {
    const kinds = Object.fromEntries(topology.nodes.map((n) => [n.id, n.kind]));
    expect(kinds).toMatchObject({ fan: 'group', right: 'group', inner: 'group', check: 'group', route: 'group', loop: 'group', call: 'subflow', first: 'task', last: 'task' });
    expect(byId.get('call')!.detail).toBe('→ company.other.child');
  });

  it('chains the main tasks left to right on one middle line, an arrow between each pair', () => {
    const main = ['first', 'fan', 'check', 'route', 'loop', 'last'].map((id) => byId.get(id)!);
    for (let i = 1; i < main.length; i++) expect(main[i].x).toBeGreaterThan(main[i - 1].x + main[i - 1].w);
    const middles = new Set(main.map((n) => n.y + n.h / 2));
    expect(middles.size).toBe(1);
    const [middle] = middles;
    const arrows = topology.edges.filter((e) => e.kind === 'next' && e.points[0][1] === middle);
    expect(arrows).toHaveLength(main.length - 1);
  });

  it('keeps every child inside its group, and siblings apart', () => {
    for (const node of topology.nodes) {
      if (!node.parent) continue;
      const parent = topology.nodes.find((n) => n.path === node.parent)!;
      expect(parent.kind).toBe('group');
      expect(inside(node, parent), `${node.id} inside ${parent.id}`).toBe(true);
    }
    for (const a of topology.nodes) {
      for (const b of topology.nodes) {
        if (a === b || a.parent !== b.parent) continue;
        expect(overlap(a, b), `${a.id} / ${b.id}`).toBe(false);
      }
    }
  });

  it('gives each Parallel child a lane of its own, stacked, nested Parallel included', () => {
    const left = byId.get('left')!;
    const right = byId.get('right')!;
    expect(right.y).toBeGreaterThanOrEqual(left.y + left.h);
    const a = byId.get('deep_a')!;
    const b = byId.get('deep_b')!;
    expect(b.y).toBeGreaterThanOrEqual(a.y + a.h);
    expect(a.parent).toBe(byId.get('inner')!.path);
    expect(topology.lanes.filter((l) => l.owner === byId.get('fan')!.path && l.kind === 'branch')).toHaveLength(2);
    // r1 then the inner Parallel, in sequence inside the Sequential.
    expect(byId.get('inner')!.x).toBeGreaterThan(byId.get('r1')!.x + byId.get('r1')!.w);
  });

  it('labels If, Switch, ForEach and handler lanes', () => {
    const lanesOf = (id: string) => topology.lanes.filter((l) => l.owner === byId.get(id)!.path).map((l) => [l.kind, l.label]);
    expect(lanesOf('check')).toEqual([['branch', 'then'], ['branch', 'else']]);
    expect(lanesOf('route')).toEqual([['branch', 'case <b>red</b>'], ['branch', 'case green'], ['branch', 'defaults']]);
    expect(lanesOf('loop')).toEqual([['loop', 'for each of ["a","b"]'], ['errors', 'errors']]);
    const flowLanes = topology.lanes.filter((l) => l.owner === undefined).map((l) => [l.kind, l.label]);
    expect(flowLanes).toEqual([['tasks', ''], ['errors', 'errors'], ['finally', 'finally']]);
    // Flow-level handlers sit below the main lane.
    expect(byId.get('on_error')!.y).toBeGreaterThan(byId.get('fan')!.y + byId.get('fan')!.h);
    expect(byId.get('always')!.y).toBeGreaterThan(byId.get('on_error')!.y);
  });

  it('fits everything in the canvas', () => {
    for (const node of topology.nodes) {
      expect(node.x + node.w).toBeLessThanOrEqual(topology.width);
      expect(node.y + node.h).toBeLessThanOrEqual(topology.height);
    }
  });
});

describe('topology SVG', () => {
  const flow = parse(FLOW);
  const svg = renderTopologySvg(layoutTopology(flow), 'Topology of company.team.shapes');

  it('draws a box per task, labelled with its id and short type', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<g class="node /g)).toHaveLength(22);
    expect(svg).toContain('data-task-id="first"');
    expect(svg).toMatch(/<text class="task-id"[^>]*>first<\/text>/);
    expect(svg).toMatch(/<text class="task-type"[^>]*>Log<\/text>/);
    expect(svg).toMatch(/<text class="group-label"[^>]*>fan · Parallel<\/text>/);
    expect(svg).toMatch(/<text class="task-type"[^>]*>Subflow<\/text>\n<text class="task-detail"[^>]*>→ company\.other\.child<\/text>/);
  });

  it('escapes what flows control', () => {
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('case &lt;b&gt;red&lt;/b&gt;');
  });

  it('marks disabled tasks and clips long ids, keeping the full id in the title', () => {
    const longId = 'a_very_long_task_identifier_that_does_not_fit';
    const disabled = parse(`id: x\nnamespace: n\ntasks:\n  - id: ${longId}\n    type: ${LOG}\n    message: m\n    disabled: true\n`);
    const out = renderTopologySvg(layoutTopology(disabled), 'x');
    expect(out).toContain('class="node node-task disabled"');
    expect(out).toContain(`<title>${longId} (${LOG}) at tasks[0]\ndisabled</title>`);
    expect(out).toMatch(/<text class="task-id"[^>]*>a_very_long_task_ident…<\/text>/);
  });
});
