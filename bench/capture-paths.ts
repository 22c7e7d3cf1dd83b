/**
 * `npm run bench:capture`: what the microphone's path through the page costs the renderer, for the
 * window's capture worker (with the AudioContext running, as while a reply plays, and suspended,
 * as while none does) and for its fallback, the capture worklet (bench/capture-lab/page.ts).
 * Each path runs in its own page of headless Chromium on the fake microphone, listening only (no
 * reply plays), its frames going over a WebSocket to this process, which checks them (AudioUp `mic`
 * messages of 320 samples at 16 kHz with a finite age) and counts them. The renderer's CPU and its
 * threads' are read from /proc over `--seconds` per page, the paths interleaved for `--rounds`.
 * The pieces are the app's own: its capture worker, capture and playback worklets, mic worker,
 * resampler, level meter and wire format, bundled from the sources here. Prints figures; asserts nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import { WebSocketServer } from 'ws';
import { measureCpu } from './chromium-cpu';
import { CAPTURE_PATHS, type CapturePath } from './capture-lab/paths';
import { median } from './report';
import { CommandLineExit, parseCommandLine, runCommand } from '../src/main/cli/command-line';
import { MIC_FRAME_MS, MIC_RATE } from '../src/renderer/src/audio/audio-engine';
import { decodeAudioUp } from '../src/shared/audio-wire';

const usage = 'usage: npm run bench:capture -- [--rounds <n>] [--seconds <n>] [--json]';
const ROOT = join(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export { CAPTURE_PATHS };
const FRAME_SAMPLES = (MIC_RATE * MIC_FRAME_MS) / 1000;
const WARM_UP_MS = 3000;

const BUNDLES: Record<string, string> = {
  'page.js': 'bench/capture-lab/page.ts',
  'capture-worklet.js': 'src/renderer/src/audio/capture-worklet.ts',
  'playback-worklet.js': 'src/renderer/src/audio/playback-worklet.ts',
  'mic-worker.js': 'src/renderer/src/platform/mic-worker.ts',
  'capture-worker.js': 'src/renderer/src/audio/capture-worker.ts',
};

/** Each script as one self-contained file (pages, workers and worklets load them as classic scripts). */
async function bundle(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [name, entry] of Object.entries(BUNDLES)) {
    const result = await build({
      configFile: false,
      logLevel: 'error',
      root: ROOT,
      build: {
        write: false,
        minify: true,
        lib: { entry: join(ROOT, entry), formats: ['iife'], name: 'captureLab' },
      },
    });
    const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) =>
      'output' in r ? r.output : [],
    );
    const chunk = outputs.find((o) => o.type === 'chunk');
    if (!chunk || chunk.type !== 'chunk') throw new Error(`bundling ${entry} gave no script`);
    out.set(name, chunk.code);
  }
  return out;
}

export interface FrameCount {
  frames: number;
  /** Messages that were not 320-sample `mic` frames with a finite age (should stay 0). */
  malformed: number;
}

/** The lab's server: the page and its scripts, and the socket the frames arrive on, counted per path. */
export async function startCaptureLab(): Promise<{
  url: string;
  counts: Map<string, FrameCount>;
  close(): Promise<void>;
}> {
  const scripts = await bundle();
  const server: Server = createServer((request, response) => {
    const name = (request.url ?? '/').split('?')[0]!.slice(1) || 'index.html';
    if (name === 'index.html') {
      response.setHeader('content-type', 'text/html');
      response.end(
        '<!doctype html><meta charset="utf-8"><title>capture lab</title><script src="/page.js"></script>',
      );
      return;
    }
    const script = scripts.get(name);
    response.statusCode = script === undefined ? 404 : 200;
    response.setHeader('content-type', 'text/javascript');
    response.end(script ?? '');
  });
  const counts = new Map<string, FrameCount>();
  const sockets = new WebSocketServer({ server });
  sockets.on('connection', (socket, request) => {
    const path = new URL(request.url ?? '/', 'http://lab').searchParams.get('path') ?? '?';
    const count = counts.get(path) ?? { frames: 0, malformed: 0 };
    counts.set(path, count);
    socket.on('message', (data: Buffer) => {
      try {
        const message = decodeAudioUp(data);
        if (
          message.type === 'mic' &&
          message.samples.length === FRAME_SAMPLES &&
          Number.isFinite(message.ageMs)
        )
          count.frames++;
        else count.malformed++;
      } catch {
        count.malformed++;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    counts,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-gpu',
    ],
  });
}

export interface Measurement {
  path: CapturePath;
  renderer: number;
  threads: Record<string, number>;
  framesPerSecond: number;
  levelsPerSecond: number;
  malformed: number;
  /** Suspended paths: ms from resume() until the context's clock moved, per try. */
  resumeMs: number[];
}

const RESUME_TRIES = 5;

export async function measurePath(
  browser: Browser,
  lab: Awaited<ReturnType<typeof startCaptureLab>>,
  path: CapturePath,
  seconds: number,
  options: { warmUpMs?: number } = {},
): Promise<Measurement> {
  const page = await browser.newPage();
  try {
    await page.goto(`${lab.url}?path=${path}`);
    await page.evaluate(() => window.captureLab.ready);
    await page.waitForTimeout(options.warmUpMs ?? WARM_UP_MS);
    const count = lab.counts.get(path) ?? { frames: 0, malformed: 0 };
    const frames = count.frames;
    const levels = await page.evaluate(() => window.captureLab.levels);
    const share = await measureCpu(seconds * 1000);
    if (count !== lab.counts.get(path)) throw new Error(`${path}: its socket reconnected while measuring`);
    const levelsAfter = await page.evaluate(() => window.captureLab.levels);
    const resumeMs: number[] = [];
    if (path === 'worker-suspended')
      for (let i = 0; i < RESUME_TRIES; i++)
        resumeMs.push(await page.evaluate(() => window.captureLab.resumeMs()));
    return {
      path,
      renderer: share.percent.renderer,
      threads: share.rendererThreads,
      framesPerSecond: (count.frames - frames) / share.seconds,
      levelsPerSecond: (levelsAfter - levels) / share.seconds,
      malformed: count.malformed,
      resumeMs,
    };
  } finally {
    await page.close();
    lab.counts.delete(path);
  }
}

const f = (n: number, digits = 1) => n.toFixed(digits);

/** Per path over the rounds: the renderer's range and median, and each thread's median share. */
export function summarise(measurements: readonly Measurement[]): string[] {
  const lines: string[] = [];
  for (const path of CAPTURE_PATHS) {
    const runs = measurements.filter((m) => m.path === path);
    if (!runs.length) continue;
    const renderer = runs.map((m) => m.renderer);
    const names = [...new Set(runs.flatMap((m) => Object.keys(m.threads)))].sort();
    const threads = names
      .map((name) => [name, median(runs.map((m) => m.threads[name] ?? 0))] as const)
      .filter(([, share]) => share >= 0.5)
      .sort((a, b) => b[1] - a[1])
      .map(([name, share]) => `${name} ${f(share)}`);
    lines.push(
      `${path.padEnd(17)} renderer ${f(Math.min(...renderer))}–${f(Math.max(...renderer))} % (median ${f(median(renderer))}) | ` +
        `frames ${f(median(runs.map((m) => m.framesPerSecond)))}/s, levels ${f(median(runs.map((m) => m.levelsPerSecond)))}/s` +
        `${runs.some((m) => m.malformed) ? `, MALFORMED ${Math.max(...runs.map((m) => m.malformed))}` : ''} | threads (median %): ${threads.join(', ')}`,
    );
    const resumes = runs.flatMap((m) => m.resumeMs);
    if (resumes.length)
      lines.push(
        `${''.padEnd(17)} resuming its AudioContext until its clock moves: median ${f(median(resumes))} ms, max ${f(Math.max(...resumes))} ms (${resumes.length} tries)`,
      );
  }
  return lines;
}

async function main(): Promise<void> {
  const args = parseCommandLine(
    {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '15' },
      json: { type: 'boolean', default: false },
    },
    usage,
  );
  const rounds = Number(args.rounds);
  const seconds = Number(args.seconds);
  if (!Number.isInteger(rounds) || rounds < 1 || !(seconds >= 1))
    throw new CommandLineExit(2, `--rounds must be a whole number ≥ 1 and --seconds a number ≥ 1\n${usage}`);
  const lab = await startCaptureLab();
  const browser = await launchChromium();
  const measurements: Measurement[] = [];
  try {
    for (let round = 0; round < rounds; round++)
      for (const path of CAPTURE_PATHS) measurements.push(await measurePath(browser, lab, path, seconds));
  } finally {
    await browser.close();
    await lab.close();
  }
  if (args.json) {
    console.log(JSON.stringify({ rounds, seconds, measurements }, null, 2));
    return;
  }
  console.log(
    `capture paths: ${rounds} rounds of ${seconds} s per path, listening, no reply playing (% of one core)`,
  );
  for (const line of summarise(measurements)) console.log(`  ${line}`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) runCommand(main);
