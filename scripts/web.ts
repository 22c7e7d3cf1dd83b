/**
 * npm run web [-- --port 5180] [--sim <case-dir>]
 *
 * Cue in an ordinary browser: the real app core (settings, keys, engine, providers) in this
 * Node process, the built renderer (out/renderer, built by the npm script first) served on
 * 127.0.0.1 with the contract carried over the local WebSocket bridge. Prints the address to
 * open (it holds this run's token).
 *
 * - Settings live in .cue-web/ in the repository, apart from the desktop app's.
 * - API keys are NOT encrypted here (there is no OS key store outside Electron): keys entered in
 *   the page are kept in memory for this run only and never written to disk. Keys from the
 *   environment (DEEPGRAM_API_KEY, OPENAI_API_KEY, ELEVENLABS_API_KEY) are used as in the app.
 * - --sim <case-dir> starts the three provider simulators for that corpus case and points the
 *   providers at them with the simulators' key: no keys, no network.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SimulatorSet } from '../sim/index';
import { parseCommandLine, runCommand } from '../src/main/cli/command-line';
import { createAppCore } from '../src/main/app/app-core';
import type { SafeStorageLike } from '../src/main/app/secret-store';
import { startWebBridge, type WebBridge } from '../src/main/bridge/ws-bridge';
import { RealClock } from '../src/main/engine/clock';
import { AUDIO_FILE, loadCase } from '../src/main/engine/scripted/case';

const REPO = resolve(import.meta.dirname, '..');
const STATIC_DIR = join(REPO, 'out', 'renderer');
const USER_DATA_DIR = join(REPO, '.cue-web');
const DEFAULT_PORT = 5180;
const usage = 'usage: npm run web -- [--port <port, 0 = any free port>] [--sim <case-dir>]';

/** Outside Electron there is no OS key store: report encryption unavailable, so keys stay in memory. */
const noEncryption: SafeStorageLike = {
  isEncryptionAvailable: () => false,
  encryptString: () => {
    throw new Error('no OS key store in the web mode');
  },
  decryptString: () => {
    throw new Error('no OS key store in the web mode');
  },
  getSelectedStorageBackend: () => 'none (web mode)',
};

async function main(): Promise<number> {
  const args = parseCommandLine(
    { port: { type: 'string', default: String(DEFAULT_PORT) }, sim: { type: 'string' } },
    usage,
  );
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`--port must be an integer from 0 to 65535, got "${args.port}"\n${usage}`);
    return 2;
  }
  if (!existsSync(join(STATIC_DIR, 'index.html'))) {
    console.error(
      `No built renderer in ${STATIC_DIR}: run \`npm run web\` (it builds first) or \`npm run build\`.`,
    );
    return 1;
  }
  const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

  let sims: SimulatorSet | null = null;
  let simKey = '';
  let caseAudio: string | null = null;
  if (args.sim) {
    // Simulators only with --sim: a development entry point.
    const [{ startSimulators }, { SIM_API_KEY }] = await Promise.all([
      import('../sim/index'),
      import('../sim/common'),
    ]);
    const caseDir = resolve(args.sim);
    const caseData = await loadCase(caseDir);
    simKey = SIM_API_KEY;
    sims = await startSimulators({ caseData, clock: new RealClock(), apiKey: simKey });
    caseAudio = join(caseDir, AUDIO_FILE);
    console.log(`Simulators for case "${caseData.id}":`);
    console.log(
      `  Deepgram ${sims.endpoints.deepgram}  OpenAI ${sims.endpoints.openai}  ElevenLabs ${sims.endpoints.elevenlabs}`,
    );
  }

  mkdirSync(USER_DATA_DIR, { recursive: true, mode: 0o700 });
  const core = await createAppCore({
    userDataDir: USER_DATA_DIR,
    safeStorage: noEncryption,
    env: process.env,
    platform: process.platform,
    version,
    ...(sims
      ? {
          endpoints: sims.endpoints,
          keys: { deepgram: simKey, openai: simKey, elevenlabs: simKey },
        }
      : {}),
  });

  let bridge: WebBridge;
  try {
    bridge = await startWebBridge({
      handler: core,
      staticDir: STATIC_DIR,
      port,
      host: '127.0.0.1',
      log: (message) => console.error(`bridge: ${message}`),
    });
  } catch (error) {
    await core.shutdown();
    await sims?.close();
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE'
        ? `Port ${port} is in use: pick another with --port <port> (0 = any free port).`
        : `Cannot start the web bridge: ${(error as Error).message}`,
    );
    return 1;
  }

  console.log(`\nCue is running in web mode. Open this address in Chromium (it holds this run's token):\n`);
  console.log(`  ${bridge.url}\n`);
  console.log(`Settings: ${USER_DATA_DIR}`);
  console.log('API keys entered in the page are kept in memory for this run only (no OS key store here).');
  if (caseAudio)
    console.log(
      `To speak the case as the microphone: chromium --use-fake-ui-for-media-stream ` +
        `--use-fake-device-for-media-stream --use-file-for-fake-audio-capture=${caseAudio} '${bridge.url}'`,
    );
  console.log('Ctrl+C to stop.');

  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        console.error(`\n${signal} again: exiting without waiting.`);
        done(130);
        return;
      }
      stopping = true;
      console.log('\nStopping…');
      void (async () => {
        let code = 0;
        for (const [what, close] of [
          ['bridge', () => bridge.close()],
          ['app core', () => core.shutdown()],
          ['simulators', () => sims?.close() ?? Promise.resolve()],
        ] as const) {
          try {
            await close();
          } catch (error) {
            console.error(`Stopping the ${what} failed: ${(error as Error).message}`);
            code = 1;
          }
        }
        done(code);
      })();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

runCommand(main);
