/**
 * End-to-end harness: the renderer build served by the WebSocket bridge, the real app core and
 * engine behind it with the provider simulators for a corpus case, and Debian's Chromium driven by
 * playwright-core with the case audio as its fake microphone. Screenshots go to
 * test/e2e/artifacts/ (gitignored), kept as CI artifacts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterEach, beforeAll } from 'vitest';
import { createAppCore, type AppCore } from '../../src/main/app/app-core';
import type { SafeStorageLike } from '../../src/main/app/secret-store';
import type { ContractHandler } from '../../src/main/app/types';
import { startWebBridge, type WebBridge } from '../../src/main/bridge/ws-bridge';
import { RealClock } from '../../src/main/engine/clock';
import { loadCase } from '../../src/main/engine/scripted/case';
import { DEFAULT_TURN_MODEL } from '../../src/main/engine/turn-detector/model-catalog';
import { writeStandInModel } from '../../src/main/engine/turn-detector/stand-in-model';
import type { AudioUp, EventName, Events } from '../../src/shared/contract';
import type { TimelineEvent } from '../../src/shared/timeline';
import { SIM_API_KEY } from '../../sim/common';
import { startSimulators, type SimulatorSet } from '../../sim/index';
import { findChromium } from '../../scripts/chromium';

export const ROOT = join(import.meta.dirname, '..', '..');
export const ARTIFACTS = join(ROOT, 'test', 'e2e', 'artifacts');
const CHROMIUM = findChromium() ?? '/usr/bin/chromium';

/** Builds the renderer once into a temp folder; returns the folder with index.html. */
export function buildRenderer(): string {
  const out = mkdtempSync(join(tmpdir(), 'cue-e2e-build-'));
  execFileSync('npx', ['electron-vite', 'build', '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
  return join(out, 'renderer');
}

const memoryOnly: SafeStorageLike = {
  isEncryptionAvailable: () => false,
  encryptString: () => {
    throw new Error('no key store in e2e runs');
  },
  decryptString: () => {
    throw new Error('no key store in e2e runs');
  },
  getSelectedStorageBackend: () => 'none (e2e)',
};

export interface E2eApp {
  core: AppCore;
  bridge: WebBridge;
  sims: SimulatorSet | null;
  browser: Browser;
  page: Page;
  consoleErrors: string[];
  /** Audio messages the page sent to main, by type (mic frames, played and finished reports). */
  audioUp: Record<AudioUp['type'], number>;
  /** The played and finished reports, in order: how long before sending it the page heard each. */
  reports: Extract<AudioUp, { type: 'played' | 'finished' }>[];
  /** Every timeline event main sent to the page, in order. */
  timeline: TimelineEvent[];
  close(): Promise<void>;
}

/**
 * Starts everything for one test. `caseDir` drives the simulators and is the fake microphone
 * (its audio.wav); without it the providers have no keys and the page gets no microphone.
 */
/** What startE2e takes: the built renderer and, optionally, a case for the simulators and the fake microphone. */
export interface E2eOptions {
  staticDir: string;
  caseDir?: string;
  /** Chromium flags replacing the default fake microphone (e.g. none, to test permission errors). */
  mediaFlags?: string[];
  /** Play the case audio once, then silence (default: Chromium loops the file). */
  playOnce?: boolean;
  /** Runs before the page is opened (e.g. page.addInitScript with a probe from page-probes.ts). */
  init?: (page: Page) => Promise<unknown>;
}

export async function startE2e(options: E2eOptions): Promise<E2eApp> {
  const clock = new RealClock();
  let sims: SimulatorSet | null = null;
  if (options.caseDir) {
    const caseData = await loadCase(options.caseDir);
    sims = await startSimulators({ caseData, clock, apiKey: SIM_API_KEY });
  }
  // The real Smart Turn weights cannot be fetched here: the app finds a stand-in with the same
  // signature in its resources, so model mode runs without touching the network.
  const resourcesDir = mkdtempSync(join(tmpdir(), 'cue-e2e-resources-'));
  mkdirSync(join(resourcesDir, 'models'));
  writeStandInModel(join(resourcesDir, 'models', DEFAULT_TURN_MODEL.fileName));
  const core = await createAppCore({
    userDataDir: mkdtempSync(join(tmpdir(), 'cue-e2e-data-')),
    resourcesDir,
    safeStorage: memoryOnly,
    env: {},
    platform: process.platform,
    version: 'e2e',
    clock,
    ...(sims
      ? {
          endpoints: sims.endpoints,
          keys: { deepgram: SIM_API_KEY, openai: SIM_API_KEY, elevenlabs: SIM_API_KEY },
        }
      : {}),
  });
  // The e2e fixtures are spoken word by word (40–80 ms between words): Deepgram's endpointing is
  // set above that, as for the other tests that replay them, so a final comes per phrase.
  const pinned = await core.request('settings:update', { patch: { stt: { nova: { endpointing_ms: 100 } } } });
  if (!pinned.ok) throw new Error(`e2e settings refused: ${JSON.stringify(pinned)}`);
  // The bridge talks to the core through a thin tap that counts the audio the page sends up and
  // keeps the timeline events main sends down (what the page was told, for exact comparisons).
  const audioUp: E2eApp['audioUp'] = { mic: 0, played: 0, finished: 0 };
  const timeline: TimelineEvent[] = [];
  const reports: E2eApp['reports'] = [];
  const tapped: ContractHandler = {
    request: (name, payload) => core.request(name, payload),
    subscribe: (listener) =>
      core.subscribe(<E extends EventName>(name: E, payload: Events[E]) => {
        if (name === 'timeline') timeline.push(payload as TimelineEvent);
        listener(name, payload);
      }),
    audioUp: (message) => {
      audioUp[message.type]++;
      if (message.type !== 'mic') reports.push(message);
      core.audioUp(message);
    },
    onAudioDown: (listener) => core.onAudioDown(listener),
  };
  const bridge = await startWebBridge({
    handler: tapped,
    staticDir: options.staticDir,
    port: 0,
    host: '127.0.0.1',
  });
  const media =
    options.mediaFlags ??
    (options.caseDir
      ? [
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-audio-capture=${join(options.caseDir, 'audio.wav')}${options.playOnce ? '%noloop' : ''}`,
        ]
      : []);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      ...media,
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await options.init?.(page);
  await page.goto(bridge.url);
  return {
    core,
    bridge,
    sims,
    browser,
    page,
    consoleErrors,
    audioUp,
    reports,
    timeline,
    close: async () => {
      await browser.close();
      await core.shutdown();
      await bridge.close();
      await sims?.close();
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * One e2e suite's lifecycle: the renderer is built once before its tests, and the app a test
 * started is closed after it, whatever happened. `start` opens the app on that build.
 */
export function e2eSuite(): { start(options?: Omit<E2eOptions, 'staticDir'>): Promise<E2eApp> } {
  let staticDir: string | undefined;
  let app: E2eApp | undefined;
  beforeAll(() => {
    staticDir = buildRenderer();
  }, 120_000);
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  return {
    start: async (options = {}) => {
      if (!staticDir)
        throw new Error('e2eSuite: the renderer has not been built (call e2eSuite() inside describe)');
      app = await startE2e({ staticDir, ...options });
      return app;
    },
  };
}
