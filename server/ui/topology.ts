/**
 * The topology of a flow as a server-rendered SVG. `layoutTopology` turns the task tree into boxes
 * (left to right: a sequence is a chain of arrows; a flowable is a box of lanes: Parallel branches,
 * If then/else, Switch cases, a ForEach loop, errors/finally handlers); `renderTopologySvg` draws it.
 */
import { findPlugin, type FlowDef, type TaskDef } from '../../engine/index.ts';
import { childTaskLists, formatPath, type PathSegment } from '../../engine/flow/index.ts';
import { escapeHtml } from './yaml-highlight.ts';

export type LaneKind = 'tasks' | 'branch' | 'loop' | 'errors' | 'finally' | 'afterExecution';

export interface TopologyNode {
  kind: 'task' | 'subflow' | 'group';
  id: string;
  type: string;
  /** Last segment of the type (`Log`, `Parallel`). */
  shortType: string;
  /** Where the task sits in the flow: `tasks[1].then[0]`. */
  path: string;
  /** Path of the enclosing group, undefined at flow level. */
  parent?: string;
  /** Second line: the called flow of a Subflow, the values of a ForEach, the condition of an If. */
  detail?: string;
  disabled: boolean;
  depth: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface TopologyLane {
  kind: LaneKind;
  label: string;
  /** Path of the group holding the lane, undefined for the flow's own lists. */
  owner?: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface TopologyEdge {
  kind: 'next' | 'fork' | 'join';
  points: [number, number][];
}

export interface Topology {
  width: number;
  height: number;
  /** Parents before their children (the drawing order). */
  nodes: TopologyNode[];
  lanes: TopologyLane[];
  edges: TopologyEdge[];
}

const NODE_W = 180;
const NODE_H = 46;
const GAP_X = 34;
const GAP_Y = 14;
const PAD = 10;
const HEADER = 26;
const LABEL_H = 16;
const FORK = 18;
const MARGIN = 16;

const SUBFLOW = 'io.kestra.plugin.core.flow.Subflow';
const PARALLEL = 'io.kestra.plugin.core.flow.Parallel';
const IF = 'io.kestra.plugin.core.flow.If';
const SWITCH = 'io.kestra.plugin.core.flow.Switch';
const FOR_EACH = 'io.kestra.plugin.core.flow.ForEach';

type Measured =
  | { kind: 'task' | 'subflow'; task: TaskDef; path: string; w: number; h: number }
  | { kind: 'group'; task: TaskDef; path: string; lanes: MeasuredLane[]; w: number; h: number };

interface MeasuredLane {
  kind: LaneKind;
  label: string;
  items: Measured[];
  /** Size of the chain of items (without the label). */
  w: number;
  h: number;
}

/** Lays the flow's task tree out left to right; coordinates are in SVG pixels. */
export function layoutTopology(flow: Pick<FlowDef, 'tasks'> & Partial<Pick<FlowDef, 'errors' | 'finally' | 'afterExecution'>>): Topology {
  const lanes: MeasuredLane[] = [];
  const sections = [['tasks', 'tasks'], ['errors', 'errors'], ['finally', 'finally'], ['afterExecution', 'afterExecution']] as const;
  for (const [property, kind] of sections) {
    const items = flow[property];
    if (!Array.isArray(items) || items.length === 0) continue;
    lanes.push(measureLane(kind, property === 'tasks' ? '' : property, items, [property]));
  }
  const out: Topology = { width: 0, height: 0, nodes: [], lanes: [], edges: [] };
  let y = MARGIN;
  let width = 0;
  for (const lane of lanes) {
    const labelH = lane.label ? LABEL_H : 0;
    const laneW = Math.max(lane.w, NODE_W) + 2 * PAD;
    out.lanes.push({ kind: lane.kind, label: lane.label, x: MARGIN, y, w: laneW, h: labelH + lane.h + 2 * PAD });
    placeChain(lane.items, MARGIN + PAD, y + labelH + PAD, lane.h, undefined, 0, out);
    y += labelH + lane.h + 2 * PAD + GAP_Y;
    width = Math.max(width, laneW);
  }
  out.width = width + 2 * MARGIN;
  out.height = lanes.length ? y - GAP_Y + MARGIN : 2 * MARGIN;
  return out;
}

function measureLane(kind: LaneKind, label: string, items: unknown[], base: PathSegment[]): MeasuredLane {
  const measured = items.flatMap((item, index) => (isTask(item) ? [measure(item, [...base, index])] : []));
  return {
    kind,
    label,
    items: measured,
    w: measured.reduce((sum, m) => sum + m.w, 0) + GAP_X * Math.max(measured.length - 1, 0),
    h: measured.reduce((max, m) => Math.max(max, m.h), 0),
  };
}

function measure(task: TaskDef, segments: PathSegment[]): Measured {
  const path = formatPath(segments);
  const plugin = findPlugin(task.type);
  if (plugin?.type === SUBFLOW) return { kind: 'subflow', task, path, w: NODE_W, h: NODE_H + 14 };
  const lists = plugin?.kind === 'flowable' ? childTaskLists(task) : [];
  if (lists.length === 0) return { kind: 'task', task, path, w: NODE_W, h: NODE_H };

  const lanes: MeasuredLane[] = [];
  for (const list of lists) {
    const property = String(list.segments[0]);
    const base = [...segments, ...list.segments];
    if (property === 'errors' || property === 'finally') {
      lanes.push(measureLane(property, property, list.items, base));
    } else if (plugin!.type === PARALLEL && property === 'tasks') {
      // Every child of a Parallel is a branch of its own.
      list.items.forEach((item, index) => {
        if (isTask(item)) lanes.push(laneOf(item, [...base, index]));
      });
    } else if (plugin!.type === IF) {
      lanes.push(measureLane('branch', property, list.items, base));
    } else if (plugin!.type === SWITCH) {
      lanes.push(measureLane('branch', property === 'cases' ? `case ${String(list.segments[1])}` : property, list.items, base));
    } else if (plugin!.type === FOR_EACH && property === 'tasks') {
      lanes.push(measureLane('loop', `for each of ${describeValue(task.values)}`, list.items, base));
    } else {
      lanes.push(measureLane('tasks', list.segments.length > 1 || property !== 'tasks' ? formatPath(list.segments) : '', list.items, base));
    }
  }
  const innerW = lanes.reduce((max, lane) => Math.max(max, lane.w), 0);
  const w = Math.max(NODE_W, innerW + 2 * (PAD + FORK));
  const h = HEADER + lanes.reduce((sum, lane) => sum + (lane.label ? LABEL_H : 0) + lane.h + GAP_Y, 0) - (lanes.length ? GAP_Y : 0) + PAD;
  return { kind: 'group', task, path, lanes, w, h };
}

/** A Parallel branch: one task in a lane of its own, keeping its path in the Parallel's `tasks`. */
function laneOf(item: TaskDef, segments: PathSegment[]): MeasuredLane {
  const measured = measure(item, segments);
  return { kind: 'branch', label: '', items: [measured], w: measured.w, h: measured.h };
}

/** Places a chain centred on its middle line, arrows between neighbours. */
function placeChain(items: Measured[], x: number, y: number, height: number, parent: string | undefined, depth: number, out: Topology): void {
  const middle = y + height / 2;
  let cursor = x;
  items.forEach((item, index) => {
    if (index > 0) out.edges.push({ kind: 'next', points: [[cursor - GAP_X, middle], [cursor, middle]] });
    place(item, cursor, middle - item.h / 2, parent, depth, out);
    cursor += item.w + GAP_X;
  });
}

function place(item: Measured, x: number, y: number, parent: string | undefined, depth: number, out: Topology): void {
  const plugin = findPlugin(item.task.type);
  out.nodes.push({
    kind: item.kind,
    id: String(item.task.id),
    type: String(item.task.type),
    shortType: shortType(String(item.task.type)),
    path: item.path,
    parent,
    detail: detailOf(item.task, plugin?.type),
    disabled: item.task.disabled === true,
    depth,
    x,
    y,
    w: item.w,
    h: item.h,
  });
  if (item.kind !== 'group') return;

  let laneY = y + HEADER;
  const forkX = x + PAD + FORK / 2;
  const joinX = x + item.w - PAD - FORK / 2;
  const branchMiddles: number[] = [];
  for (const lane of item.lanes) {
    const labelH = lane.label ? LABEL_H : 0;
    out.lanes.push({ kind: lane.kind, label: lane.label, owner: item.path, x: x + PAD, y: laneY, w: item.w - 2 * PAD, h: labelH + lane.h });
    const chainX = x + PAD + FORK;
    const chainY = laneY + labelH;
    placeChain(lane.items, chainX, chainY, lane.h, item.path, depth + 1, out);
    if (lane.kind === 'branch' && lane.items.length) {
      const middle = chainY + lane.h / 2;
      branchMiddles.push(middle);
      out.edges.push({ kind: 'fork', points: [[forkX, middle], [chainX, middle]] });
      out.edges.push({ kind: 'join', points: [[chainX + lane.w, middle], [joinX, middle]] });
    }
    laneY += labelH + lane.h + GAP_Y;
  }
  if (branchMiddles.length > 1) {
    // The bus lines branches fork from and join into.
    const top = Math.min(...branchMiddles);
    const bottom = Math.max(...branchMiddles);
    out.edges.push({ kind: 'fork', points: [[forkX, top], [forkX, bottom]] });
    out.edges.push({ kind: 'join', points: [[joinX, top], [joinX, bottom]] });
  }
}

function detailOf(task: TaskDef, type: string | undefined): string | undefined {
  if (type === SUBFLOW) return `→ ${String(task.namespace ?? '?')}.${String(task.flowId ?? '?')}`;
  if (type === IF) return `if ${describeValue(task.condition)}`;
  if (type === SWITCH) return `switch on ${describeValue(task.value)}`;
  return undefined;
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? '';
}

function isTask(item: unknown): item is TaskDef {
  return item !== null && typeof item === 'object' && !Array.isArray(item) && typeof (item as TaskDef).id === 'string';
}

/** `io.kestra.plugin.core.log.Log` → `Log`. */
export function shortType(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Characters that fit in `width` pixels of 12px text (an average glyph is about 7px wide). */
function fits(width: number): number {
  return Math.max(4, Math.floor((width - 16) / 7));
}

/** The topology as an inline SVG (all text escaped); full ids, types and paths are in `<title>`s. */
export function renderTopologySvg(topology: Topology, label: string): string {
  const n = (v: number) => String(Math.round(v * 10) / 10);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="topology" viewBox="0 0 ${n(topology.width)} ${n(topology.height)}" width="${n(topology.width)}" height="${n(topology.height)}" role="img" aria-label="${escapeHtml(label)}">`,
    '<defs><marker id="topology-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
  );
  const drawLane = (lane: TopologyLane) => {
    out.push(`<g class="lane lane-${lane.kind}"><rect x="${n(lane.x)}" y="${n(lane.y)}" width="${n(lane.w)}" height="${n(lane.h)}" rx="4"/>`);
    if (lane.label) {
      out.push(`<text class="lane-label" x="${n(lane.x + 6)}" y="${n(lane.y + 12)}">${escapeHtml(clip(lane.label, fits(lane.w)))}<title>${escapeHtml(lane.label)}</title></text>`);
    }
    out.push('</g>');
  };
  for (const lane of topology.lanes) if (lane.owner === undefined) drawLane(lane);
  for (const node of topology.nodes) {
    const title = `${node.id} (${node.type}) at ${node.path}${node.detail ? `\n${node.detail}` : ''}${node.disabled ? '\ndisabled' : ''}`;
    const cls = `node node-${node.kind}${node.disabled ? ' disabled' : ''}`;
    out.push(`<g class="${cls}" data-task-id="${escapeHtml(node.id)}" data-path="${escapeHtml(node.path)}"><title>${escapeHtml(title)}</title>`);
    out.push(`<rect x="${n(node.x)}" y="${n(node.y)}" width="${n(node.w)}" height="${n(node.h)}" rx="6"/>`);
    if (node.kind === 'group') {
      const header = `${node.id} · ${node.shortType}${node.detail ? ` · ${node.detail}` : ''}`;
      out.push(`<text class="group-label" x="${n(node.x + 8)}" y="${n(node.y + 17)}">${escapeHtml(clip(header, fits(node.w)))}</text>`);
    } else {
      out.push(`<text class="task-id" x="${n(node.x + 10)}" y="${n(node.y + 19)}">${escapeHtml(clip(node.id, fits(node.w)))}</text>`);
      out.push(`<text class="task-type" x="${n(node.x + 10)}" y="${n(node.y + 35)}">${escapeHtml(clip(node.shortType, fits(node.w)))}</text>`);
      if (node.kind === 'subflow' && node.detail) {
        out.push(`<text class="task-detail" x="${n(node.x + 10)}" y="${n(node.y + 50)}">${escapeHtml(clip(node.detail, fits(node.w)))}</text>`);
      }
    }
    out.push('</g>');
    if (node.kind === 'group') for (const lane of topology.lanes) if (lane.owner === node.path) drawLane(lane);
  }
  for (const edge of topology.edges) {
    const points = edge.points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ');
    const marker = edge.kind === 'next' ? ' marker-end="url(#topology-arrow)"' : '';
    out.push(`<polyline class="edge edge-${edge.kind}" points="${points}"${marker}/>`);
  }
  out.push('</svg>');
  return out.join('\n');
}
