/**
 * Development mode and the CSP: the renderer served by the Vite dev server with the project's
 * renderer config (what `electron-vite dev` serves; Electron itself cannot run here) opens in
 * Chromium under its Content-Security-Policy with nothing blocked: the React Fast Refresh preamble
 * runs, the CSS Vite inserts as <style> elements applies, and the HMR WebSocket connects. The
 * policy differs from the production one only by the dev server's nonce (the production build's
 * strict policy is checked in test/unit/build-output.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type InlineConfig, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config, { devServerPolicy } from '../../electron.vite.config';
import { ROOT, screenshot } from './harness';
import { findChromium } from '../../scripts/chromium';
import { CAPTURE_WORKER } from '../../src/renderer/src/audio/worklet-urls';

const CHROMIUM = findChromium() ?? '/usr/bin/chromium';
const CSP_META = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i;

describe('the renderer on the Vite dev server', () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'cue-dev-server-'));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('adds only a nonce to script-src and style-src', () => {
    const source = CSP_META.exec(readFileSync(join(ROOT, 'src', 'renderer', 'index.html'), 'utf8'))![1]!;
    const dev = devServerPolicy(source, 'abc=');
    expect(dev.replaceAll(" 'nonce-abc='", '')).toBe(source.replace(/\s*;\s*/g, '; ').trim());
    expect(dev).toMatch(/script-src 'self' 'nonce-abc=';/);
    expect(dev).toMatch(/style-src 'self' 'nonce-abc=';/);
    expect(dev).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  it('runs under its CSP with nothing blocked: styles apply and HMR connects', async () => {
    server = await createServer({
      ...(config.renderer as InlineConfig),
      configFile: false,
      cacheDir,
      logLevel: 'silent',
      server: { host: '127.0.0.1', port: 0 },
    });
    await server.listen();
    const url = server.resolvedUrls!.local[0]!;
    const html = await (await fetch(url)).text();
    const policy = CSP_META.exec(html)?.[1] ?? '';
    const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
    expect(nonce).toBeTruthy();
    const source = CSP_META.exec(readFileSync(join(ROOT, 'src', 'renderer', 'index.html'), 'utf8'))![1]!;
    expect(policy).toBe(devServerPolicy(source, nonce!));
    // Every script and style tag the dev server serves carries the nonce.
    for (const [tag] of html.matchAll(/<(?:script|style)\b[^>]*>/gi))
      expect(tag).toContain(`nonce="${nonce}"`);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const messages: string[] = [];
    page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => messages.push(`pageerror: ${String(e)}`));
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __violations: string[] }).__violations = seen;
      document.addEventListener('securitypolicyviolation', (e) =>
        seen.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    await page.goto(url);
    // The app renders (no bridge here, so it says it is not connected) with its styles applied.
    await page.locator('.app').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.locator('.app').evaluate((el) => getComputedStyle(el).display), { timeout: 10_000 })
      .toBe('grid');
    await expect
      .poll(() => messages.some((m) => m.includes('[vite] connected.')), { timeout: 10_000 })
      .toBe(true);
    // The capture worker starts as the app starts it (CAPTURE_WORKER's options), reads the stream
    // it is given and says when it ends.
    // What use-audio-engine.ts imports: the dev server's module gives the worker's URL.
    const urlModule = await (await fetch(new URL('src/audio/capture-worker.ts?worker&url', url))).text();
    const workerUrl = /export default "([^"]+)"/.exec(urlModule)?.[1];
    expect(workerUrl).toMatch(/capture-worker\.ts\?worker_file&type=module/);
    const heard = await page.evaluate(
      ({ workerUrl, options }) =>
        new Promise<string>((resolve) => {
          const worker = new Worker(workerUrl, options);
          worker.onerror = (event) => resolve(`error: ${event.message}`);
          worker.onmessage = (event: MessageEvent<{ type: string }>) => resolve(event.data.type);
          const readable = new ReadableStream({ start: (controller) => controller.close() });
          worker.postMessage({ type: 'start', readable, options: {} }, [readable]);
        }),
      { workerUrl: workerUrl!, options: CAPTURE_WORKER.options },
    );
    expect(heard).toBe('ended');
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual(
      [],
    );
    expect(messages.filter((m) => /Content Security Policy|^pageerror/.test(m))).toEqual([]);
    await screenshot(page, 'dev-server');
  }, 60_000);
});
