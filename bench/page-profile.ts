/**
 * Where the page's main thread spends its time: a V8 CPU profile over CDP, summed by the source
 * function it falls in (the renderer build's source maps turn bundle positions back into
 * `src/…` files, lines and names).
 *
 *   const profile = await profilePage(cdp, 10_000);
 *   const rows = summariseProfile(profile, rendererDir);  // self time per source function
 *
 * The profile samples JavaScript only: style, layout, paint and raster show as "(program)" and
 * the garbage collector as "(garbage collector)"; worklets and workers are other threads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CDPSession } from 'playwright-core';
import { SourceMapConsumer, type RawSourceMap } from 'source-map-js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileRow {
  /** Source function (`name (src/…:line)`), or a V8 category such as "(program)". */
  where: string;
  /** Self time, % of the profiled wall time (so % of one core). */
  percent: number;
}

/** Samples the page's main thread for `ms` (sampling every 200 µs). */
export async function profilePage(cdp: CDPSession, ms: number): Promise<CpuProfile> {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await new Promise((resolve) => setTimeout(resolve, ms));
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: CpuProfile };
  await cdp.send('Profiler.disable');
  return profile;
}

/** Self time by source function, largest first, "(idle)" left out. */
export function summariseProfile(profile: CpuProfile, staticDir: string, root: string): ProfileRow[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i: sample i lasts until the next one.
  for (let i = 0; i < samples.length; i++) {
    const next = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + next);
  }
  const wallUs = profile.endTime - profile.startTime;
  const maps = new SourceMaps(staticDir, root);
  const totals = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const where = maps.describe(node.callFrame);
    if (where === '(idle)') continue;
    totals.set(where, (totals.get(where) ?? 0) + us);
  }
  return [...totals]
    .map(([where, us]) => ({ where, percent: (us / wallUs) * 100 }))
    .sort((a, b) => b.percent - a.percent);
}

class SourceMaps {
  private readonly consumers = new Map<string, SourceMapConsumer | null>();

  constructor(
    private readonly staticDir: string,
    private readonly root: string,
  ) {}

  describe(frame: ProfileNode['callFrame']): string {
    const { functionName, url, lineNumber, columnNumber } = frame;
    if (!url)
      return functionName.startsWith('(') ? functionName : `${functionName || '(anonymous)'} (native)`;
    const consumer = this.consumerFor(url);
    const position = consumer?.originalPositionFor({ line: lineNumber + 1, column: columnNumber });
    if (!position?.source)
      return `${functionName || '(anonymous)'} (${url.split('/').pop()}:${lineNumber + 1})`;
    const source = this.shorten(position.source);
    return `${position.name ?? (functionName || '(anonymous)')} (${source}:${position.line})`;
  }

  private consumerFor(url: string): SourceMapConsumer | null {
    if (this.consumers.has(url)) return this.consumers.get(url)!;
    let consumer: SourceMapConsumer | null = null;
    try {
      const file = join(this.staticDir, new URL(url).pathname);
      if (existsSync(`${file}.map`))
        consumer = new SourceMapConsumer(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as RawSourceMap);
    } catch {
      consumer = null;
    }
    this.consumers.set(url, consumer);
    return consumer;
  }

  private shorten(source: string): string {
    const at = source.indexOf('node_modules/');
    if (at >= 0) return source.slice(at);
    const path = source.replace(/^(\.\.\/)+/, '');
    return path.startsWith('src/') ? path : relative(this.root, source);
  }
}
