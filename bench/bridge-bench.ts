/**
 * npm run bench:bridge [-- --frames 3000]
 *
 * Latency and throughput of the audio channel over the WebSocket bridge (the carrier for
 * browser runs and e2e tests): 20 ms microphone frames go up as binary frames, the main side
 * answers each with 20 ms of 24 kHz agent audio, and the client measures the round trip.
 * Electron's MessagePort carrier cannot run on these machines, so it is not measured here.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { parseCommandLine, runCommand } from '../src/main/cli/command-line';
import { startWebBridge } from '../src/main/bridge/ws-bridge';
import type { ContractHandler } from '../src/main/app/types';
import type { AudioDown } from '../src/shared/contract';
import { decodeAudioDown, encodeAudioUp } from '../src/shared/audio-wire';
import { percentile } from '../src/main/engine/session-recorder';

const usage = 'usage: npm run bench:bridge -- [--frames <n>]';

async function main(): Promise<void> {
  const args = parseCommandLine({ frames: { type: 'string', default: '3000' } }, usage);
  const frames = Number(args.frames);
  const listeners = new Set<(m: AudioDown) => void>();
  let utterance = 0;
  const handler: ContractHandler = {
    request: () => Promise.reject(new Error('not used')),
    subscribe: () => () => undefined,
    audioUp: (message) => {
      if (message.type !== 'mic') return;
      const reply: AudioDown = {
        type: 'audio',
        utterance: ++utterance,
        samples: new Int16Array(480),
        sampleRate: 24_000,
      };
      for (const listener of listeners) listener(reply);
    },
    onAudioDown: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const staticDir = mkdtempSync(join(tmpdir(), 'cue-bridge-bench-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>bench</title>');
  const bridge = await startWebBridge({ handler, staticDir, port: 0, host: '127.0.0.1' });
  const socket = new WebSocket(`ws://127.0.0.1:${bridge.port}/bridge?token=${bridge.token}`, {
    headers: { origin: bridge.origin },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const mic = encodeAudioUp({ type: 'mic', samples: new Int16Array(320), ageMs: 0 });
  const rtt: number[] = [];
  let sentAt = 0;
  let pending: (() => void) | null = null;
  socket.on('message', (data, isBinary) => {
    if (!isBinary) return;
    const down = decodeAudioDown(data as Buffer);
    if (down.type === 'audio') {
      rtt.push(performance.now() - sentAt);
      pending?.();
    }
  });
  // Round trips one frame at a time.
  for (let i = 0; i < frames; i++) {
    await new Promise<void>((resolve) => {
      pending = resolve;
      sentAt = performance.now();
      socket.send(mic);
    });
  }
  // Throughput: all frames at once.
  const before = rtt.length;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    pending = () => {
      if (rtt.length - before >= frames) resolve();
    };
    for (let i = 0; i < frames; i++) socket.send(mic);
  });
  const seconds = (performance.now() - start) / 1000;
  socket.close();
  await bridge.close();
  const sorted = rtt.slice(0, frames).sort((a, b) => a - b);
  const ms = (v: number | null) => (v === null ? '-' : v.toFixed(3));
  console.log(
    `WebSocket bridge audio channel, ${frames} frames of 20 ms mic audio, each answered with 20 ms of agent audio`,
  );
  console.log(
    `  round trip: p50 ${ms(percentile(sorted, 0.5))} ms, p95 ${ms(percentile(sorted, 0.95))} ms, max ${ms(sorted.at(-1) ?? null)} ms`,
  );
  console.log(
    `  throughput: ${(frames / seconds).toFixed(0)} frame pairs/s (${((frames * 0.02) / seconds).toFixed(0)}x real time)`,
  );
}

runCommand(main);
