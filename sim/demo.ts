/**
 * npm run demo [-- --case <case-dir>] [--out <file.wav>] [--set path.to.option=value ...] [--record <dir>]
 *
 * The offline demo: the real engine with the real provider SDKs (Deepgram, OpenAI, ElevenLabs)
 * talking to the local protocol simulators, the case audio streamed in real time as the
 * microphone, a live timeline with per-turn latency, and the conversation written to a stereo
 * WAV (left: the microphone, right: the agent). No keys, no network. With `--record <dir>` the
 * session is recorded into that folder as the app records one (engine/recording/), for
 * `npm run replay -- --session <dir>`.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CommandLineExit,
  parseCommandLine,
  runCommand,
  settingsFromAssignments,
} from '../src/main/cli/command-line';
import { formatEventLine, formatTurnMetrics } from '../src/main/cli/format-timeline';
import { ClockedAudioOutput } from '../src/main/engine/audio/clocked-output';
import { encodeWav, resample } from '../src/main/engine/audio/wav';
import { RealClock } from '../src/main/engine/clock';
import { SAMPLE_RATE, type TtsAudio } from '../src/main/engine/ports';
import { RecordingFileSink } from '../src/main/engine/recording/file-sink';
import { RecordingTap } from '../src/main/engine/recording/tap';
import { judgeOutcomes } from '../src/main/engine/replay';
import { loadCase, type ScriptCase } from '../src/main/engine/scripted/case';
import { VoiceSession } from '../src/main/engine/session';
import { loadSileroModel } from '../src/main/engine/vad/silero';
import { VoiceActivityDetector } from '../src/main/engine/vad/voice-activity-detector';
import { createProviders } from '../src/main/providers';
import type { Settings } from '../src/shared/settings';
import type { TimelineEvent } from '../src/shared/timeline';
import { SIM_API_KEY } from './common';
import { startSimulators } from './index';

const usage =
  'usage: npm run demo -- [--case <case-dir>] [--out <file.wav>] [--set path.to.option=value ...] [--record <dir>]';
/** Four turns of natural speech from the public corpus. */
const DEFAULT_CASE = join(
  import.meta.dirname,
  '..',
  'bench',
  'corpus',
  'tune',
  'multi-turn-calendar-four-turns',
);
const FRAME_MS = 20;
const WAV_RATE = 24_000;
/** Silence streamed after the case audio at most, waiting for the last reply to finish. */
const MAX_TAIL_MS = 15_000;

/** A growing stereo track: left the microphone, right the agent, at WAV_RATE. */
class ConversationTrack {
  private data = new Int16Array(WAV_RATE * 2 * 60);

  add(channel: 0 | 1, samples: Int16Array, sampleRate: number, atMs: number): void {
    const pcm = resample(samples, sampleRate, WAV_RATE);
    const start = Math.max(0, Math.round((atMs / 1000) * WAV_RATE));
    const needed = (start + pcm.length) * 2;
    if (needed > this.data.length) {
      const grown = new Int16Array(Math.max(needed, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    for (let i = 0; i < pcm.length; i++) this.data[(start + i) * 2 + channel] = pcm[i]!;
  }

  wav(durationMs: number): Uint8Array {
    const frames = Math.min(this.data.length / 2, Math.ceil((durationMs / 1000) * WAV_RATE));
    return encodeWav({ sampleRate: WAV_RATE, channels: 2, samples: this.data.subarray(0, frames * 2) });
  }
}

async function main(): Promise<number> {
  const args = parseCommandLine(
    {
      case: { type: 'string', default: DEFAULT_CASE },
      out: { type: 'string', default: 'demo-output.wav' },
      set: { type: 'string', multiple: true, default: [] },
      record: { type: 'string' },
    },
    usage,
  );
  const settings = settingsFromAssignments(args.set);
  const caseData = await loadCase(args.case);
  const clock = new RealClock();
  const sims = await startSimulators({ caseData, clock, apiKey: SIM_API_KEY });
  const providers = createProviders({
    settings,
    keys: { deepgram: SIM_API_KEY, openai: SIM_API_KEY, elevenlabs: SIM_API_KEY },
    endpoints: sims.endpoints,
    clock,
  });
  const model = await loadSileroModel(settings.vad.model);
  const recording = args.record ? startRecording(args.record, clock, settings) : null;
  const tap = recording?.tap;
  const track = new ConversationTrack();
  /** Clock time of the first microphone sample; everything printed and recorded is relative to it. */
  let audioStart = clock.now();
  const output = new ClockedAudioOutput(clock, {
    onPlay: (audio: TtsAudio, at: number) => track.add(1, audio.samples, audio.sampleRate, at - audioStart),
  });
  const session = new VoiceSession(
    {
      clock,
      vad: new VoiceActivityDetector(model, settings.vad),
      stt: tap ? tap.wrapStt(providers.stt) : providers.stt,
      llm: tap ? tap.wrapLlm(providers.llm) : providers.llm,
      tts: tap ? tap.wrapTts(providers.tts) : providers.tts,
      output,
    },
    settings,
  );
  if (tap) session.subscribe(tap.onTimeline);
  const events: TimelineEvent[] = [];
  let repliesHeard = 0;
  session.subscribe((event) => {
    if (event.type === 'vad_probability') return;
    // Times relative to the first microphone sample, like the case script.
    const shifted = shiftTimes(event, audioStart);
    events.push(shifted);
    if (event.type === 'turn_event' && event.event === 'StartOfTurn')
      console.log(`\nUser turn ${event.turn}`);
    const line = formatEventLine(shifted);
    if (line) console.log(line);
    if (event.type === 'agent_speech_started' && event.turn >= 0) {
      const turn = session.report().turns.find((t) => t.index === event.turn);
      if (turn) console.log(`           turn ${turn.index} latency: ${formatTurnMetrics(turn)}`);
    }
    if (event.type === 'agent_speech_ended' && event.turn >= 0) repliesHeard++;
  });

  console.log(
    `Cue demo: case "${caseData.id}" (${(caseData.durationMs / 1000).toFixed(1)} s), providers simulated at`,
  );
  console.log(
    `  Deepgram ${sims.endpoints.deepgram}  OpenAI ${sims.endpoints.openai}  ElevenLabs ${sims.endpoints.elevenlabs}`,
  );
  await session.start();
  audioStart = clock.now();
  await streamMicrophone(
    caseData,
    clock,
    audioStart,
    session,
    track,
    () => repliesHeard >= caseData.turns.length,
    tap,
  );
  const durationMs = clock.now() - audioStart;
  const finalReport = session.report();
  await session.stop();
  if (recording) {
    recording.tap.finish(finalReport);
    recording.sink.close();
    console.log(
      `session recorded in ${recording.sink.dir}${recording.sink.stoppedReason ? ` (${recording.sink.stoppedReason})` : ''}`,
    );
  }
  await providers.close();
  await sims.close();
  await model.dispose();

  writeFileSync(args.out, track.wav(durationMs));
  printSummary(caseData, events, session, args.out);
  return 0;
}

/** The event with its clock times (t, and at / until where present) made relative to `origin`. */
function shiftTimes(event: TimelineEvent, origin: number): TimelineEvent {
  const shifted: Record<string, unknown> = { ...event, t: event.t - origin };
  for (const key of ['at', 'until'] as const) {
    if (typeof shifted[key] === 'number') shifted[key] = (shifted[key] as number) - origin;
  }
  return shifted as unknown as TimelineEvent;
}

/** Streams the case audio in real time (20 ms frames, drift-corrected), then silence until done. */
function streamMicrophone(
  caseData: ScriptCase,
  clock: RealClock,
  start: number,
  session: VoiceSession,
  track: ConversationTrack,
  done: () => boolean,
  tap?: RecordingTap,
): Promise<void> {
  const frame = (FRAME_MS * SAMPLE_RATE) / 1000;
  const silence = new Int16Array(frame);
  const limit = caseData.audio.length + (MAX_TAIL_MS * SAMPLE_RATE) / 1000;
  return new Promise((resolve, reject) => {
    let offset = 0;
    let quietSince: number | null = null;
    const tick = async () => {
      try {
        const samples =
          offset < caseData.audio.length ? caseData.audio.subarray(offset, offset + frame) : silence;
        track.add(0, samples, SAMPLE_RATE, (offset * 1000) / SAMPLE_RATE);
        const mic = { samples, capturedAt: start + (offset * 1000) / SAMPLE_RATE };
        tap?.audio(mic);
        await session.pushAudio(mic);
        offset += frame;
        if (offset >= caseData.audio.length && done()) quietSince ??= clock.now();
        if (offset >= limit || (quietSince !== null && clock.now() - quietSince > 1000)) {
          resolve();
          return;
        }
        const next = start + ((offset + frame) * 1000) / SAMPLE_RATE;
        clock.setTimeout(() => void tick(), next - clock.now());
      } catch (error) {
        reject(error);
      }
    };
    clock.setTimeout(() => void tick(), FRAME_MS);
  });
}

/** A recording of this demo session into `dir` (the folder of one session). */
function startRecording(dir: string, clock: RealClock, settings: Settings) {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new CommandLineExit(2, `--record: ${dir} is not empty; give a new or empty folder for the session`);
  }
  const sink = new RecordingFileSink(dir, { maxBytes: Number.MAX_SAFE_INTEGER });
  const tap = new RecordingTap({ clock, sink, settings, appVersion: appVersion() });
  return { sink, tap };
}

function appVersion(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function printSummary(
  caseData: ScriptCase,
  events: TimelineEvent[],
  session: VoiceSession,
  out: string,
): void {
  const report = session.report();
  console.log('\n=== per turn, against the case script ===');
  for (const o of judgeOutcomes(caseData, events)) {
    const flags = [o.false_cutin && 'FALSE CUT-IN', o.wrong_reply && 'WRONG REPLY', o.missed && 'MISSED']
      .filter(Boolean)
      .join(' ');
    console.log(
      `turn ${o.index}: ${JSON.stringify(o.transcript)} -> ${JSON.stringify(o.spoken_reply)}\n` +
        `  e2e from the end of speech ${o.e2e_from_t_end_ms ?? '-'} ms ${flags || 'ok'}`,
    );
  }
  const t = report.totals;
  console.log(
    `\ntotals: ${t.turns} turns, e2e p50 ${t.e2e_p50_ms ?? '-'} ms, p95 ${t.e2e_p95_ms ?? '-'} ms, ` +
      `LLM requests ${t.llm_requests} (${t.llm_requests_wasted} wasted), errors ${t.errors}`,
  );
  for (const e of report.errors)
    console.log(`  error at ${(e.t / 1000).toFixed(3)}s ${e.source}: ${e.message}`);
  console.log(`conversation written to ${out} (left: microphone, right: agent)`);
}

runCommand(main);
