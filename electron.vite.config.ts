import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

const path = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const { version } = JSON.parse(readFileSync(path('./package.json'), 'utf8')) as { version: string };

/**
 * Three builds, into out/main, out/preload and out/renderer (`--outDir` moves all three):
 * - main: src/main/index.ts as ESM (package.json has "type": "module"). npm dependencies stay
 *   external and load from node_modules at run time; onnxruntime-node above all (native binaries).
 * - preload: src/preload/index.ts as one self-contained CommonJS file, out/preload/index.cjs.
 *   A sandboxed renderer cannot load an ESM preload, and a sandboxed preload can only require
 *   'electron' and a few built-ins, so everything else it imports is bundled in.
 * - renderer: src/renderer/index.html with React.
 */
export default defineConfig({
  main: {
    build: {
      externalizeDeps: { include: ['onnxruntime-node'] },
      rolldownOptions: {
        input: { index: path('./src/main/index.ts') },
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
    plugins: [react()],
    build: {
      rolldownOptions: {
        input: { index: path('./src/renderer/index.html') },
      },
    },
  },
});
