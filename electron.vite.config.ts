import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

const path = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const { version } = JSON.parse(readFileSync(path('./package.json'), 'utf8')) as { version: string };

/**
 * The renderer's Content-Security-Policy (the meta tag of src/renderer/index.html) as the Vite dev
 * server (`electron-vite dev`) must serve it: the same policy with a nonce added to script-src and
 * style-src. The dev server injects the React Fast Refresh preamble as an inline script and loads
 * CSS by inserting <style> elements, which 'self' alone blocks; with `html.cspNonce` Vite puts the
 * nonce on those tags and on the styles its client inserts. Its HMR WebSocket is on the page's own
 * host and port, which connect-src 'self' already allows. Builds never see this (apply: 'serve'):
 * the packaged app keeps the strict policy, checked by test/unit/build-output.test.ts.
 */
export function devServerPolicy(policy: string, nonce: string): string {
  return policy
    .split(';')
    .map((directive) => directive.trim())
    .filter(Boolean)
    .map((directive) =>
      /^(script|style)-src\s/.test(directive) ? `${directive} 'nonce-${nonce}'` : directive,
    )
    .join('; ');
}

function devServerCsp(): Plugin {
  // One per dev server start: base64 of 16 random bytes.
  const nonce = randomBytes(16).toString('base64');
  return {
    name: 'cue:dev-server-csp',
    apply: 'serve',
    config: () => ({ html: { cspNonce: nonce } }),
    transformIndexHtml: {
      order: 'pre',
      handler: (html) =>
        html.replace(
          /(<meta\s+http-equiv="Content-Security-Policy"\s+content=")([^"]*)(")/i,
          (_match, head: string, policy: string, tail: string) =>
            `${head}${devServerPolicy(policy, nonce)}${tail}`,
        ),
    },
  };
}

/**
 * Three builds, into out/main, out/preload and out/renderer (`--outDir` moves all three):
 * - main: src/main/index.ts as ESM (package.json has "type": "module"). npm dependencies stay
 *   external and load from node_modules at run time; onnxruntime-node above all (native binaries).
 *   A second entry, out/main/smart-turn-worker.js, is the Smart Turn worker thread: it shares
 *   chunks (out/main/chunks/) with index.js and resolves onnxruntime-node the same way; the main
 *   thread finds it beside index.js (smart-turn-worker-client.ts).
 * - preload: src/preload/index.ts as one self-contained CommonJS file, out/preload/index.cjs.
 *   A sandboxed renderer cannot load an ESM preload, and a sandboxed preload can only require
 *   'electron' and a few built-ins, so everything else it imports is bundled in.
 * - renderer: src/renderer/index.html with React (and, on the dev server only, the nonce above).
 */
export default defineConfig({
  main: {
    build: {
      externalizeDeps: { include: ['onnxruntime-node'] },
      rolldownOptions: {
        input: {
          index: path('./src/main/index.ts'),
          'smart-turn-worker': path('./src/main/engine/turn-detector/smart-turn-worker.ts'),
        },
        external: ['onnxruntime-node', /^onnxruntime-node\//],
      },
    },
  },
  preload: {
    define: { __CUE_VERSION__: JSON.stringify(version) },
    build: {
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: path('./src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: path('./src/renderer'),
    plugins: [react(), devServerCsp()],
    build: {
      rolldownOptions: {
        input: { index: path('./src/renderer/index.html') },
      },
    },
  },
});
