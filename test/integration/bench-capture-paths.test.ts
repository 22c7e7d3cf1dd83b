/**
 * `npm run bench:capture` measures real capture paths: in Debian's Chromium on the fake
 * microphone, each path's page sends the app's 20 ms mic frames over its socket (checked by the
 * lab's server) and levels to its main thread; the suspended path's AudioContext resumes. The
 * summary reports each path's range, frames, threads and resume time. No timing is asserted.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAPTURE_PATHS,
  launchChromium,
  measurePath,
  startCaptureLab,
  summarise,
  type Measurement,
} from '../../bench/capture-paths';

describe('the capture-path benchmark', () => {
  let lab: Awaited<ReturnType<typeof startCaptureLab>>;
  let browser: Browser;
  beforeAll(async () => {
    lab = await startCaptureLab();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lab?.close();
  });

  it('runs each path on the fake microphone: well-formed frames reach the socket, levels reach the page', async () => {
    const measurements: Measurement[] = [];
    for (const path of CAPTURE_PATHS) {
      const m = await measurePath(browser, lab, path, 1, { warmUpMs: 500 });
      expect(m.path).toBe(path);
      expect(m.malformed, path).toBe(0);
      expect(m.framesPerSecond, path).toBeGreaterThan(0);
      expect(m.levelsPerSecond, path).toBeGreaterThan(0);
      expect(m.renderer, path).toBeGreaterThan(0);
      if (path === 'worker-suspended') {
        expect(m.resumeMs.length).toBeGreaterThan(0);
        for (const ms of m.resumeMs) expect(ms).toBeGreaterThan(0);
      } else expect(m.resumeMs).toEqual([]);
      measurements.push(m);
    }
    const lines = summarise(measurements);
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['worklet', 'worker', 'worker-suspended', '']);
    expect(lines[3]).toMatch(/resuming its AudioContext until its clock moves: median [\d.]+ ms/);
  }, 120_000);

  it('summarises rounds per path: the renderer range and median, busy threads, malformed frames', () => {
    const run = (path: Measurement['path'], renderer: number, malformed = 0): Measurement => ({
      path,
      renderer,
      threads: { Worker: renderer / 2, Idle: 0.2 },
      framesPerSecond: 50,
      levelsPerSecond: 9,
      malformed,
      resumeMs: [],
    });
    const lines = summarise([run('worklet', 8), run('worklet', 6), run('worklet', 7, 3), run('worker', 5)]);
    expect(lines).toEqual([
      'worklet           renderer 6.0–8.0 % (median 7.0) | frames 50.0/s, levels 9.0/s, MALFORMED 3 | threads (median %): Worker 3.5',
      'worker            renderer 5.0–5.0 % (median 5.0) | frames 50.0/s, levels 9.0/s | threads (median %): Worker 2.5',
    ]);
  });
});
