/**
 * @module Reads a V8 .cpuprofile (from `node --cpu-prof`) and says where the time went: self
 * time by category (grpc-js, zeromq, protobuf, arbor's own modules, node core, GC...) and the
 * functions with the most self time.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  /** Percent of the busy (non-idle) time. */
  percent: number;
}

export interface ProfileSummary {
  /** Sampled wall time, ms. */
  totalMs: number;
  /** Of which not idle (nor the profiler's own work), ms. */
  busyMs: number;
  categories: Share[];
  functions: Share[];
  /** arbor's own functions by inclusive time (themselves and everything they call). */
  arborInclusive: Share[];
}

/** Which part of the stack a script belongs to. */
export function category(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : 'native (builtins, C++)';
  if (url.includes('node_modules/@grpc/grpc-js')) return 'grpc-js';
  if (url.includes('node_modules/zeromq')) return 'zeromq.js';
  if (url.includes('node_modules/@bufbuild') || url.includes('/proto/gen/')) return 'protobuf (generated + runtime)';
  if (url.includes('node_modules/')) return `npm: ${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? '?'}`;
  for (const part of ['gateway', 'control', 'computing', 'proto', 'bench']) if (url.includes(`/dist/${part}/`)) return `arbor ${part}/`;
  if (url.startsWith('node:internal/http2') || url.startsWith('node:http2')) return 'node http2';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream') || url.startsWith('node:net')) return 'node streams/net';
  if (url.startsWith('node:internal/timers') || url.startsWith('node:timers')) return 'node timers';
  if (url.startsWith('node:')) return 'node core (other)';
  return 'other';
}

function shortUrl(url: string): string {
  const inModules = /node_modules\/(.*)$/.exec(url);
  if (inModules) return inModules[1] as string;
  const inDist = /\/dist\/(.*)$/.exec(url);
  if (inDist) return inDist[1] as string;
  return url;
}

function shares(map: Map<string, number>, busyMs: number, top: number): Share[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: busyMs > 0 ? (us / 1000 / busyMs) * 100 : 0 }));
}

/** The profiler's own work (stopping it serialises the profile): node:inspector and below. */
function profilerFrames(nodes: readonly ProfileNode[], byId: Map<number, ProfileNode>): Set<number> {
  const out = new Set<number>();
  const mark = (id: number): void => {
    if (out.has(id)) return;
    out.add(id);
    for (const child of byId.get(id)?.children ?? []) mark(child);
  };
  for (const node of nodes) if (node.callFrame.url === 'node:inspector' || node.callFrame.url.endsWith('cpu-profile-preload.js')) mark(node.id);
  return out;
}

const isArbor = (url: string): boolean => /\/dist\/(gateway|control|computing)\//.test(url);

/** Inclusive time of arbor's functions: each sample counts once for every distinct arbor function on its stack. */
function arborInclusive(profile: CpuProfile, byId: Map<number, ProfileNode>, excluded: Set<number>): Map<string, number> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const out = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const leaf = profile.samples[i] as number;
    if (excluded.has(leaf)) continue;
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const frame = (byId.get(id) as ProfileNode).callFrame;
      if (!isArbor(frame.url)) continue;
      const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
      if (seen.has(name)) continue;
      seen.add(name);
      out.set(name, (out.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
  }
  return out;
}

export function summarizeProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const excluded = profilerFrames(profile.nodes, byId);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)' || excluded.has(id)) {
      idleUs += us;
      continue;
    }
    const cat = category(frame.url, frame.functionName);
    categories.set(cat, (categories.get(cat) ?? 0) + us);
    const name = frame.url === '' ? frame.functionName : `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  return {
    totalMs: totalUs / 1000,
    busyMs,
    categories: shares(categories, busyMs, 100),
    functions: shares(functions, busyMs, top),
    arborInclusive: shares(arborInclusive(profile, byId, excluded), busyMs, top),
  };
}

export function renderSummary(title: string, s: ProfileSummary): string {
  const line = (x: Share): string => `  ${x.percent.toFixed(1).padStart(5)} %  ${x.ms.toFixed(0).padStart(6)} ms  ${x.name}`;
  return [
    `${title}: ${s.busyMs.toFixed(0)} ms busy of ${s.totalMs.toFixed(0)} ms sampled`,
    '  by part of the stack (self time, % of busy):',
    ...s.categories.map(line),
    '  top functions (self time, % of busy):',
    ...s.functions.map(line),
    "  arbor's functions (inclusive time, % of busy):",
    ...s.arborInclusive.map(line),
  ].join('\n');
}
