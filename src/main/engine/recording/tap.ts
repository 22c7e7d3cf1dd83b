/**
 * The recorder: a listener on the engine's audio path, its providers and its timeline, not a
 * second pipeline. Whoever wires a session hands the microphone frames to `audio()` just before
 * `session.pushAudio()`, wraps the providers with `wrapStt/Llm/Tts`, and subscribes
 * `onTimeline`. Every record is stamped on the audio axis: the audio received so far plus the
 * clock time since it was received.
 */
import type { SessionReport } from '../../../shared/report';
import type { Settings } from '../../../shared/settings';
import type { TimelineEvent } from '../../../shared/timeline';
import type { Clock } from '../clock';
import {
  SAMPLE_RATE,
  type AudioFrame,
  type LlmChunk,
  type LlmProvider,
  type LlmRequest,
  type SttEvent,
  type SttProvider,
  type SttStream,
  type TtsAudio,
  type TtsProvider,
  type TtsRequest,
} from '../ports';
import { userWordsSinceReply } from '../scripted/providers';
import { encodePcm, RECORDING_FORMAT, RECORDING_VERSION, type BodyRecord, type HeaderRecord } from './format';

export interface RecordSink {
  write(record: HeaderRecord | BodyRecord): void;
}

/** Audio is written in records of at most this much (ms). */
const AUDIO_RECORD_MS = 500;
/** Clock-to-audio mapping points kept (one per audio record is plenty). */
const MAX_MAP_POINTS = 100_000;

export interface RecordingTapOptions {
  clock: Clock;
  sink: RecordSink;
  settings: Settings;
  appVersion: string;
  /** ISO time of the start (default now). */
  createdAt?: string;
}

export class RecordingTap {
  private readonly clock: Clock;
  private readonly sink: RecordSink;
  /** Audio ms received so far, and the clock time the last frame came. */
  private audioMs = 0;
  private lastPushAt: number;
  /** Start (audio ms) of the frame being pushed right now. */
  private frameStartMs = 0;
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  private pendingStartMs = 0;
  /** (clock, audio) points, for mapping report times. */
  private readonly map: { t: number; a: number }[] = [];
  private nextStream = 0;
  private finished = false;

  constructor(options: RecordingTapOptions) {
    this.clock = options.clock;
    this.sink = options.sink;
    this.lastPushAt = options.clock.now();
    this.sink.write({
      kind: 'header',
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      created_at: options.createdAt ?? new Date().toISOString(),
      app_version: options.appVersion,
      sample_rate: SAMPLE_RATE,
      stt_turn_events: options.settings.stt.provider === 'deepgram-flux',
      settings: options.settings as unknown as Record<string, unknown>,
    });
  }

  /** Ms on the audio axis of clock time `t` (now by default). */
  audioMsAt(t = this.clock.now()): number {
    if (this.map.length === 0) return 0;
    let point: { t: number; a: number } | undefined;
    if (t >= this.lastPushAt) point = { t: this.lastPushAt, a: this.audioMs };
    else {
      let lo = 0;
      let hi = this.map.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (this.map[mid]!.t <= t) {
          point = this.map[mid];
          lo = mid + 1;
        } else hi = mid - 1;
      }
    }
    const { t: t0, a } = point ?? this.map[0] ?? { t: this.lastPushAt, a: this.audioMs };
    return round(Math.max(0, a + (t - t0)));
  }

  /** A microphone frame, just before the session gets it. */
  audio(frame: AudioFrame): void {
    if (this.finished) return;
    this.frameStartMs = this.audioMs;
    if (this.pendingSamples === 0) this.pendingStartMs = this.audioMs;
    this.pending.push(frame.samples.slice());
    this.pendingSamples += frame.samples.length;
    this.audioMs += (frame.samples.length * 1000) / SAMPLE_RATE;
    this.lastPushAt = this.clock.now();
    const last = this.map.at(-1);
    if (!last || Math.abs(last.a - last.t - (this.audioMs - this.lastPushAt)) > 1) {
      this.map.push({ t: this.lastPushAt, a: this.audioMs });
      if (this.map.length > MAX_MAP_POINTS) this.map.splice(0, this.map.length - MAX_MAP_POINTS);
    }
    if ((this.pendingSamples * 1000) / SAMPLE_RATE >= AUDIO_RECORD_MS) this.flushAudio();
  }

  /** Push-to-talk and mute, as the user did them. */
  action(action: 'push_to_talk' | 'mute', value: boolean): void {
    this.write({ kind: 'action', a: this.audioMsAt(), action, value });
  }

  /** Every timeline event but the per-frame VAD probabilities, with its times on the audio axis. */
  onTimeline = (event: TimelineEvent): void => {
    if (event.type === 'vad_probability') return;
    const shift = this.audioMsAt(event.t) - event.t;
    const shifted: Record<string, unknown> = { ...event, t: round(event.t + shift) };
    for (const key of ['at', 'until'] as const) {
      const value = shifted[key];
      if (typeof value === 'number') shifted[key] = round(value + shift);
    }
    this.write({ kind: 'timeline', a: shifted.t as number, event: shifted as { type: string } });
  };

  /** Writes the session report (its times on the audio axis) and closes the recording. */
  finish(report: SessionReport | null, reason = 'session stopped'): void {
    if (this.finished) return;
    this.flushAudio();
    if (report) {
      this.write({
        kind: 'report',
        a: this.audioMsAt(),
        report: shiftReport(report, (t) => this.audioMsAt(t), this.audioMs) as unknown as { version: 1 },
      });
    }
    this.write({ kind: 'end', a: this.audioMsAt(), reason });
    this.finished = true;
  }

  wrapStt(provider: SttProvider): SttProvider {
    return {
      turnEvents: provider.turnEvents,
      connect: async (onEvent) => {
        const stream = this.nextStream++;
        let opened = false;
        const inner = await provider.connect((event: SttEvent) => {
          this.write({ kind: 'stt', a: this.audioMsAt(), stream, event: event as { type: string } });
          onEvent(event);
        });
        const wrapped: SttStream = {
          sendAudio: (samples) => {
            if (!opened) {
              opened = true;
              this.write({ kind: 'stt_open', a: round(this.frameStartMs), stream });
            }
            inner.sendAudio(samples);
          },
          finalize: () => {
            this.write({ kind: 'stt_finalize', a: this.audioMsAt(), stream });
            inner.finalize();
          },
          close: () => inner.close(),
        };
        if (inner.retune) wrapped.retune = (settings, eager) => inner.retune!(settings, eager);
        return wrapped;
      },
    };
  }

  wrapLlm(provider: LlmProvider): LlmProvider {
    return { stream: (request) => this.recordLlm(provider, request) };
  }

  wrapTts(provider: TtsProvider): TtsProvider {
    return { synthesize: (request) => this.recordTts(provider, request) };
  }

  private async *recordLlm(provider: LlmProvider, request: LlmRequest): AsyncGenerator<LlmChunk> {
    const startedAt = this.clock.now();
    const a = this.audioMsAt(startedAt);
    const tokens: [number, string][] = [];
    let outcome: 'completed' | 'aborted' | 'failed' = 'aborted';
    try {
      for await (const chunk of provider.stream(request)) {
        if (chunk.type === 'token') tokens.push([round(this.clock.now() - startedAt), chunk.text]);
        yield chunk;
      }
      outcome = request.signal.aborted ? 'aborted' : 'completed';
    } catch (error) {
      outcome = request.signal.aborted ? 'aborted' : 'failed';
      throw error;
    } finally {
      this.write({
        kind: 'llm',
        a,
        user_words: userWordsSinceReply(request.messages),
        tokens,
        reply: tokens.map(([, text]) => text).join(''),
        ttft_ms: tokens[0]?.[0] ?? null,
        outcome,
        duration_ms: round(this.clock.now() - startedAt),
      });
    }
  }

  private async *recordTts(provider: TtsProvider, request: TtsRequest): AsyncGenerator<TtsAudio> {
    const startedAt = this.clock.now();
    const a = this.audioMsAt(startedAt);
    let text = '';
    let firstTextAt: number | null = null;
    let firstAudioAt: number | null = null;
    let lastAudioAt: number | null = null;
    let audioMs = 0;
    const clock = this.clock;
    async function* watched(): AsyncGenerator<string> {
      for await (const piece of request.text) {
        if (piece.length) firstTextAt ??= clock.now();
        text += piece;
        yield piece;
      }
    }
    let outcome: 'completed' | 'aborted' | 'failed' = 'aborted';
    try {
      for await (const audio of provider.synthesize({ text: watched(), signal: request.signal })) {
        firstAudioAt ??= clock.now();
        lastAudioAt = clock.now();
        audioMs += (audio.samples.length * 1000) / audio.sampleRate;
        yield audio;
      }
      outcome = request.signal.aborted ? 'aborted' : 'completed';
    } catch (error) {
      outcome = request.signal.aborted ? 'aborted' : 'failed';
      throw error;
    } finally {
      const first = firstTextAt as number | null;
      this.write({
        kind: 'tts',
        a,
        text,
        first_text_ms: first === null ? null : round(first - startedAt),
        ttfb_ms: first === null || firstAudioAt === null ? null : round(firstAudioAt - first),
        audio_ms: round(audioMs),
        production_ms: firstAudioAt === null || lastAudioAt === null ? 0 : round(lastAudioAt - firstAudioAt),
        outcome,
      });
    }
  }

  private flushAudio(): void {
    if (this.pendingSamples === 0) return;
    const all = new Int16Array(this.pendingSamples);
    let offset = 0;
    for (const piece of this.pending) {
      all.set(piece, offset);
      offset += piece.length;
    }
    this.pending = [];
    this.pendingSamples = 0;
    this.sink.write({ kind: 'audio', a: round(this.pendingStartMs), pcm: encodePcm(all) });
  }

  private write(record: BodyRecord): void {
    if (!this.finished) this.sink.write(record);
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The report with its clock times moved to the audio axis (`toAudio`), its duration the audio recorded. */
export function shiftReport(
  report: SessionReport,
  toAudio: (t: number) => number,
  durationMs: number,
): SessionReport {
  const at = (t: number | null) => (t === null ? null : Math.round(toAudio(t)));
  return {
    ...report,
    duration_ms: Math.round(durationMs),
    turns: report.turns.map((turn) => ({
      ...turn,
      started_ms: at(turn.started_ms)!,
      committed_ms: at(turn.committed_ms),
      first_audio_ms: at(turn.first_audio_ms),
      vad_end_of_speech_ms: at(turn.vad_end_of_speech_ms),
      requests: turn.requests.map((r) => ({ ...r, started_ms: at(r.started_ms)! })),
    })),
    errors: report.errors.map((e) => ({ ...e, t: at(e.t)! })),
  };
}
