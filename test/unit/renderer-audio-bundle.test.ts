/**
 * How the worklets are built: Vite bundles each one (`?worker&url` in worklet-urls.ts) into a
 * self-contained classic script under assets/, which the renderer loads from its own origin
 * (CSP `script-src 'self'`: no data: or blob: URL, no inline code). The built files are then run
 * in a bare VM context with only the AudioWorkletGlobalScope's names, as a worklet would run them.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURE_PROCESSOR, PLAYBACK_PROCESSOR } from '../../src/renderer/src/audio/worklet-protocol';

const rendererRoot = fileURLToPath(new URL('../../src/renderer', import.meta.url));
let out: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'cue-worklets-'));
  await build({
    configFile: false,
    root: rendererRoot,
    logLevel: 'silent',
    // As electron-vite builds the renderer: relative asset URLs (the page is loaded from a file).
    base: './',
    build: {
      outDir: out,
      emptyOutDir: true,
      // Minified, so comments cannot hide or fake what the checks look for.
      minify: true,
      rolldownOptions: {
        // The module is the entry here (in the app, the page imports it): keep its export.
        preserveEntrySignatures: 'strict',
        input: { urls: join(rendererRoot, 'src/audio/worklet-urls.ts') },
      },
    },
  });
}, 60_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

const assets = () => readdirSync(join(out, 'assets'));
const worklet = (name: string) => {
  const file = assets().find((f) => f.startsWith(`${name}-`) && f.endsWith('.js'));
  if (!file) throw new Error(`${name} not emitted: ${assets().join(', ')}`);
  return { file, code: readFileSync(join(out, 'assets', file), 'utf8') };
};

describe('worklet bundles', () => {
  it('emits each worklet and the capture worker as its own .js file, referenced by URL from the page bundle', () => {
    const entry = readFileSync(
      join(
        out,
        'assets',
        assets().find((f) => f.startsWith('urls-'))!,
      ),
      'utf8',
    );
    for (const name of ['capture-worklet', 'playback-worklet', 'capture-worker']) {
      const { file } = worklet(name);
      const quoted = `["'\`]${file.replace(/[.$]/g, '\\$&')}["'\`]`;
      expect(entry).toMatch(new RegExp(`new URL\\(${quoted},\\s*import\\.meta\\.url\\)`));
    }
    expect(entry).not.toMatch(/data:|blob:|createObjectURL/);
  });

  it('makes self-contained classic scripts: no imports, no exports, nothing but the worklet scope', () => {
    // The capture worker too: self-contained, so it runs as the module worker it is started as.
    for (const name of ['capture-worklet', 'playback-worklet', 'capture-worker']) {
      const { code } = worklet(name);
      expect(code).not.toMatch(/^\s*(?:import|export)\b/m);
      expect(code).not.toMatch(/\bimport\s*\(|import\.meta|\bimportScripts\b|\bdocument\b|\bwindow\./);
      expect(() => new vm.Script(code)).not.toThrow();
    }
  });

  it('registers its processor when run in a bare worklet-like scope', () => {
    for (const [name, processor] of [
      ['capture-worklet', CAPTURE_PROCESSOR],
      ['playback-worklet', PLAYBACK_PROCESSOR],
    ] as const) {
      const registered: string[] = [];
      class AudioWorkletProcessor {
        port = { postMessage() {}, onmessage: null };
      }
      const scope = vm.createContext({
        AudioWorkletProcessor,
        registerProcessor: (n: string, ctor: unknown) => {
          expect(typeof ctor).toBe('function');
          registered.push(n);
        },
        sampleRate: 48_000,
        currentTime: 0,
      });
      vm.runInContext(worklet(name).code, scope);
      expect(registered).toEqual([processor]);
    }
  });
});
