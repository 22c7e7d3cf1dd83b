/**
 * TTS transport benchmark: which ElevenLabs transport gives the lower time to first audio,
 * measured against the ElevenLabs simulator on the real clock (it runs in real time).
 *
 *   npx tsx bench/tts-transport.ts [--rounds <n>] [--corpus <dir>] [--gap-ms <n>] [--json]
 *
 * Each reply of the corpus (default test/fixtures/cases) is streamed as an LLM would stream it
 * (one token per word at the case's `llm_tokens_per_s`), cut into TTS chunks by the engine's
 * TextChunker with the default reply settings, and spoken through each transport in turn:
 * `http` (ElevenLabsHttpTts: the SDK, one request per chunk), `websocket` (ElevenLabsWebSocketTts,
 * the default: one warm multi-context socket, auto_mode) and, for reference, `websocket-buffered`
 * (the same without auto_mode: ElevenLabs' chunk schedule buffers text until 120 characters or the
 * flush). Per reply it measures:
 *   - time to first audio: first audio chunk received − first text chunk handed to the TTS;
 *   - underrun: silence a player starting at the first audio would hear while waiting for audio.
 * The simulator models the same first-byte latency (`tts_ttfb_ms`) for both transports, so the
 * figures show what the transports and their client code add (request set-up, socket routing,
 * buffering), not the network and TLS set-up of the real service.
 *
 * Prints figures only; nothing is asserted.
 */
import { parseArgs } from 'node:util';
import { startElevenLabsSim } from '../sim/elevenlabs';
import { AsyncQueue } from '../src/main/engine/async-queue';
import { RealClock } from '../src/main/engine/clock';
import type { TtsProvider } from '../src/main/engine/ports';
import { defaultProfile, loadCorpus } from '../src/main/engine/scripted/case';
import { splitTokens, tokenDueMs } from '../src/main/engine/scripted/providers';
import { TextChunker } from '../src/main/engine/text/chunker';
import { ElevenLabsHttpTts, ElevenLabsWebSocketTts } from '../src/main/providers/elevenlabs';
import { defaultSettings } from '../src/shared/settings';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    corpus: { type: 'string', default: 'test/fixtures/cases' },
    'gap-ms': { type: 'string', default: '300' },
    json: { type: 'boolean', default: false },
  },
});
const rounds = Math.max(1, Number(values.rounds));
const gapMs = Math.max(0, Number(values['gap-ms']));

type Transport = 'http' | 'websocket' | 'websocket-buffered';
const TRANSPORTS: Transport[] = ['http', 'websocket', 'websocket-buffered'];

interface Measure {
  transport: Transport;
  reply: string;
  ttfaMs: number;
  underrunMs: number;
  audioMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const cases = await loadCorpus(values.corpus);
  const replies = cases.flatMap((c) => c.turns.map((t) => ({ text: t.reply, profile: c.profile })));
  const profile = cases[0]?.profile ?? defaultProfile();
  const clock = new RealClock();
  const sim = await startElevenLabsSim({ caseData: { turns: [], profile }, clock });
  const settings = defaultSettings();
  const common = { settings: settings.tts, apiKey: 'sim-key', baseUrl: sim.url, clock };
  const providers: Record<Transport, TtsProvider> = {
    http: new ElevenLabsHttpTts(common),
    websocket: new ElevenLabsWebSocketTts(common),
    'websocket-buffered': new ElevenLabsWebSocketTts({ ...common, autoMode: false }),
  };
  await (providers.websocket as ElevenLabsWebSocketTts).connect();
  await (providers['websocket-buffered'] as ElevenLabsWebSocketTts).connect();

  const measures: Measure[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const reply of replies) {
      // Rotate the order so that no transport always goes first.
      const order = TRANSPORTS.map((_, i) => TRANSPORTS[(i + round) % TRANSPORTS.length]!);
      for (const transport of order) {
        measures.push(await speak(transport, providers[transport], reply.text, reply.profile, clock));
        await sleep(gapMs);
      }
    }
  }
  await (providers.websocket as ElevenLabsWebSocketTts).close();
  await (providers['websocket-buffered'] as ElevenLabsWebSocketTts).close();
  await sim.close();
  report(measures, replies.length);
}

async function speak(
  transport: Transport,
  tts: TtsProvider,
  text: string,
  profile: { llm_tokens_per_s: number; llm_ttft_ms: number },
  clock: RealClock,
): Promise<Measure> {
  const queue = new AsyncQueue<string>();
  const chunker = new TextChunker(defaultSettings().reply);
  let firstTextAt: number | null = null;
  const send = (chunk: string) => {
    firstTextAt ??= clock.now();
    queue.push(chunk);
  };
  // The LLM: tokens at llm_tokens_per_s from now (its first-token latency left out: it is not the TTS's).
  const llm = (async () => {
    const start = clock.now();
    const tokens = splitTokens(text);
    for (let i = 0; i < tokens.length; i++) {
      const due = start + tokenDueMs(profile, i) - tokenDueMs(profile, 0);
      const wait = due - clock.now();
      if (wait > 0) await sleep(wait);
      for (const chunk of chunker.push(tokens[i]!)) send(chunk);
    }
    const rest = chunker.flush();
    if (rest) send(rest);
    queue.close();
  })();

  let firstAudioAt: number | null = null;
  /** Where a player starting at the first audio would be, and the silence it waited. */
  let playEnd = 0;
  let underrun = 0;
  let audioMs = 0;
  for await (const audio of tts.synthesize({ text: queue, signal: new AbortController().signal })) {
    const now = clock.now();
    const ms = (audio.samples.length / audio.sampleRate) * 1000;
    if (firstAudioAt === null) {
      firstAudioAt = now;
      playEnd = now;
    }
    if (now > playEnd) underrun += now - playEnd;
    playEnd = Math.max(playEnd, now) + ms;
    audioMs += ms;
  }
  await llm;
  return {
    transport,
    reply: text,
    ttfaMs: (firstAudioAt ?? NaN) - (firstTextAt ?? NaN),
    underrunMs: underrun,
    audioMs,
  };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, mean, p50: at(0.5), p95: at(0.95), min: s[0]!, max: s[s.length - 1]! };
}

function report(measures: Measure[], replies: number): void {
  const summary = TRANSPORTS.map((transport) => {
    const mine = measures.filter((m) => m.transport === transport);
    return {
      transport,
      ttfa: stats(mine.map((m) => m.ttfaMs)),
      underrun: stats(mine.map((m) => m.underrunMs)),
    };
  });
  if (values.json) {
    console.log(JSON.stringify({ rounds, replies, summary, measures }, null, 2));
    return;
  }
  const f = (x: number) => x.toFixed(1).padStart(7);
  console.log(`TTS transport benchmark: ${replies} replies × ${rounds} rounds, simulator on the real clock`);
  console.log('time to first audio (ms, from the first text chunk handed to the TTS)');
  console.log('transport            n     mean      p50      p95      min      max   underrun mean (ms)');
  for (const { transport, ttfa, underrun } of summary) {
    console.log(
      `${transport.padEnd(18)} ${String(ttfa.n).padStart(3)} ${f(ttfa.mean)}  ${f(ttfa.p50)}  ${f(ttfa.p95)}  ${f(ttfa.min)}  ${f(ttfa.max)}   ${f(underrun.mean)}`,
    );
  }
  const [http, ws] = [summary[0]!, summary[1]!];
  const lower = http.ttfa.p50 < ws.ttfa.p50 ? 'http' : 'websocket';
  console.log(
    `lower median time to first audio: ${lower} (http ${http.ttfa.p50.toFixed(1)} ms, websocket ${ws.ttfa.p50.toFixed(1)} ms)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
