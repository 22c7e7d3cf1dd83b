/**
 * The CPU of the Chromium processes a benchmark started, read from /proc: per process role
 * (browser, renderer, GPU, utility) and per renderer thread, as % of one core over a plain wait.
 * Linux only (the benchmarks that use it run headless Chromium on these machines).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export type ChromiumRole = 'browser' | 'renderer' | 'gpu' | 'utility' | 'other';

/** Chromium's processes started by this benchmark (descendants of this Node process), by role. */
export function chromiumProcesses(): Map<number, ChromiumRole> {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      parents.set(pid, Number(statFields(pid)[1]));
      commands.set(pid, readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch {
      // Gone meanwhile.
    }
  }
  const isOurs = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p))
      if (p === process.pid) return true;
    return false;
  };
  const out = new Map<number, ChromiumRole>();
  for (const [pid, command] of commands) {
    if (!isOurs(pid) || !/chrom/i.test(command)) continue;
    const type = /--type=([\w-]+)/.exec(command)?.[1];
    out.set(
      pid,
      type === undefined
        ? 'browser'
        : type === 'renderer'
          ? 'renderer'
          : type === 'gpu-process'
            ? 'gpu'
            : type === 'utility'
              ? 'utility'
              : 'other',
    );
  }
  return out;
}

/** /proc/<pid>/stat after the command name: [state, ppid, …]; utime and stime are [11] and [12]. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function cpuTicks(pid: number): number {
  try {
    const fields = statFields(pid);
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

export interface CpuShare {
  seconds: number;
  /** % of one core over the interval, per role (summed over the processes of that role). */
  percent: Record<ChromiumRole, number>;
  /** The renderer's threads by name (CrRendererMain, Compositor, AudioWorklet…), % of one core. */
  rendererThreads: Record<string, number>;
}

/** CPU ticks of each thread of `pid`, by thread name (threads of one name summed). */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** CPU of Chromium's processes over `ms` (a plain wait: nothing in the page is driven meanwhile). */
export async function measureCpu(ms: number): Promise<CpuShare> {
  const processes = chromiumProcesses();
  const before = new Map([...processes.keys()].map((pid) => [pid, cpuTicks(pid)]));
  const renderers = [...processes].filter(([, role]) => role === 'renderer').map(([pid]) => pid);
  const threadsBefore = renderers.map((pid) => threadTicks(pid));
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const seconds = (performance.now() - start) / 1000;
  const rendererThreads: Record<string, number> = {};
  renderers.forEach((pid, i) => {
    for (const [name, ticks] of threadTicks(pid)) {
      const share = ((ticks - (threadsBefore[i]!.get(name) ?? 0)) / CLOCK_TICKS_PER_S / seconds) * 100;
      if (share >= 0.5) rendererThreads[name] = (rendererThreads[name] ?? 0) + share;
    }
  });
  const percent: Record<ChromiumRole, number> = { browser: 0, renderer: 0, gpu: 0, utility: 0, other: 0 };
  for (const [pid, role] of processes) {
    const ticks = cpuTicks(pid) - (before.get(pid) ?? 0);
    percent[role] += (ticks / CLOCK_TICKS_PER_S / seconds) * 100;
  }
  return { seconds, percent, rendererThreads };
}
