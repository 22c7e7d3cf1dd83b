/**
 * The packaged app as electron-builder lays it out (test/helpers/packaged-app.ts: the real
 * electron-builder CLI and the project's electron-builder.yml, with a placeholder in place of
 * Electron's binary): the default turn detector's worker starts from app.asar.unpacked and answers
 * with the stand-in model, what must be real files is unpacked, the rest is inside app.asar, and
 * electron-builder flipped the fuses of electron-builder.yml in the binary it shipped.
 * Linux only: electron-builder packages for the OS it runs on.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { listPackage, statFile } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmartTurnModel } from '../../src/main/engine/turn-detector/smart-turn';
import type {
  SmartTurnWorkerData,
  SmartTurnWorkerReply,
} from '../../src/main/engine/turn-detector/smart-turn-worker';
import { smartTurnWorkerEntry } from '../../src/main/engine/turn-detector/smart-turn-worker-client';
import { writeStandInModel } from '../../src/main/engine/turn-detector/stand-in-model';
import { assemblePackagedApp, ELECTRON_DEFAULT_FUSES, type PackagedApp } from '../helpers/packaged-app';
import { finished, midWord, turnFixture } from '../helpers/turn-audio';

let work: string;
let app: PackagedApp;

describe.runIf(process.platform === 'linux')('packaged app (electron-builder --linux dir)', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'cue-packaged-'));
    app = assemblePackagedApp(work);
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const asar = () => join(app.resources, 'app.asar');
  const unpacked = (...parts: string[]) => join(app.resources, 'app.asar.unpacked', ...parts);
  const inAsar = () => new Set(listPackage(asar(), { isPack: false }).map((p) => p.replace(/^[\\/]/, '')));

  describe('the Smart Turn worker from app.asar.unpacked', () => {
    /** Starts the worker where the app's main bundle (inside app.asar) finds it. */
    function startPackagedWorker(modelPath: string) {
      const mainBundle = pathToFileURL(join(app.resources, 'app.asar', 'out', 'main', 'index.js')).href;
      const entry = smartTurnWorkerEntry(mainBundle);
      expect(entry.url.href).toBe(pathToFileURL(unpacked('out', 'main', 'smart-turn-worker.js')).href);
      const workerData: SmartTurnWorkerData = { kind: 'cue-smart-turn', modelPath };
      const worker = new Worker(entry.url, { workerData });
      const first = new Promise<SmartTurnWorkerReply>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      return { worker, first };
    }

    it('loads the stand-in model with onnxruntime from the unpacked folder and answers as in-thread', async () => {
      const modelPath = join(work, 'stand-in.onnx');
      writeStandInModel(modelPath);
      const { worker, first } = startPackagedWorker(modelPath);
      try {
        expect(await first).toEqual({ type: 'ready' });
        const local = await SmartTurnModel.load(modelPath);
        const weather = turnFixture('weather-question');
        let id = 0;
        for (const audio of [finished(weather), midWord(weather)]) {
          const expected = await local.predict(audio);
          const reply = new Promise<SmartTurnWorkerReply>((resolve) => worker.once('message', resolve));
          const copy = audio.slice();
          worker.postMessage({ type: 'predict', id: ++id, audio: copy }, [copy.buffer]);
          const result = await reply;
          expect(result).toMatchObject({ type: 'result', id });
          if (result.type !== 'result') throw new Error('no result');
          expect(Math.abs(result.probability - expected)).toBeLessThanOrEqual(1e-6);
        }
        await local.dispose();
      } finally {
        await worker.terminate();
      }
    });
  });

  describe('what is unpacked', () => {
    it('onnxruntime-node with this OS and architecture only, and onnxruntime-common beside it', () => {
      const bin = unpacked('node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
      expect(readdirSync(bin)).toEqual([process.platform]);
      expect(readdirSync(join(bin, process.platform))).toEqual([process.arch]);
      expect(existsSync(join(bin, process.platform, process.arch, 'onnxruntime_binding.node'))).toBe(true);
      expect(existsSync(unpacked('node_modules', 'onnxruntime-common', 'package.json'))).toBe(true);
      expect(existsSync(unpacked('node_modules', 'onnxruntime-common', 'dist', 'cjs', 'index.js'))).toBe(
        true,
      );
    });

    it('the worker, the chunk it shares with main, and the Silero weights', () => {
      const chunks = readdirSync(unpacked('out', 'main', 'chunks'));
      expect(chunks.some((name) => /^smart-turn-.*\.js$/.test(name))).toBe(true);
      const weights = readdirSync(unpacked('node_modules', '@ricky0123', 'vad-web', 'dist'));
      expect(weights).toEqual(expect.arrayContaining(['silero_vad_v5.onnx', 'silero_vad_legacy.onnx']));
      // Main's own code and the renderer stay inside the archive.
      expect(existsSync(unpacked('out', 'main', 'index.js'))).toBe(false);
      expect(existsSync(unpacked('out', 'renderer'))).toBe(false);
    });
  });

  describe('app.asar', () => {
    it('holds main, the preload, the renderer and the production dependencies', () => {
      const entries = inAsar();
      for (const path of [
        'package.json',
        'out/main/index.js',
        'out/preload/index.cjs',
        'out/renderer/index.html',
        'node_modules/onnxruntime-common/package.json',
        'node_modules/zod/package.json',
        'node_modules/openai/package.json',
      ]) {
        expect(entries, path).toContain(path);
      }
      // Bundled into the renderer, and never needed in main.
      expect([...entries].some((path) => path.startsWith('node_modules/react-dom/'))).toBe(false);
      // Development tools are not shipped.
      expect([...entries].some((path) => path.startsWith('node_modules/vitest/'))).toBe(false);
      expect([...entries].some((path) => path.startsWith('node_modules/electron/'))).toBe(false);
    });

    it('marks the unpacked files as such, so Electron reads them from app.asar.unpacked', () => {
      expect(statFile(asar(), 'out/main/smart-turn-worker.js')).toMatchObject({ unpacked: true });
      expect(statFile(asar(), 'node_modules/onnxruntime-common/package.json')).toMatchObject({
        unpacked: true,
      });
      expect(statFile(asar(), 'out/main/index.js')).not.toMatchObject({ unpacked: true });
    });
  });

  describe('fuses', () => {
    /** @electron/fuses' FuseState: the ASCII digits '1' (enabled) and '0' (disabled). */
    const ENABLED = 0x31;
    const DISABLED = 0x30;

    it('were flipped in the shipped binary as electron-builder.yml sets them', async () => {
      const wire = await getCurrentFuseWire(app.executable);
      expect(wire).toEqual({
        version: '1',
        [FuseV1Options.RunAsNode]: DISABLED,
        [FuseV1Options.EnableCookieEncryption]: ENABLED,
        [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: DISABLED,
        [FuseV1Options.EnableNodeCliInspectArguments]: DISABLED,
        [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: ENABLED,
        [FuseV1Options.OnlyLoadAppFromAsar]: ENABLED,
        [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: DISABLED,
        [FuseV1Options.GrantFileProtocolExtraPrivileges]: DISABLED,
      });
      // The placeholder started with Electron's own defaults, so each of these was a real flip.
      expect(ELECTRON_DEFAULT_FUSES[FuseV1Options.RunAsNode]).toBe(ENABLED);
      expect(ELECTRON_DEFAULT_FUSES[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(ENABLED);
      expect(ELECTRON_DEFAULT_FUSES[FuseV1Options.OnlyLoadAppFromAsar]).toBe(DISABLED);
    });
  });
});
