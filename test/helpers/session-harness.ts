/**
 * Session tests without audio models: a case written in code (word timings from a text with
 * `[pause S conf P]` markers), a VAD that follows the case's words exactly, and the real
 * engine with the scripted providers on the virtual clock (through replayCase).
 */
import { parseTurnText } from '../../bench/corpus-gen/spec';
import type { AudioFrame } from '../../src/main/engine/ports';
import { SAMPLE_RATE } from '../../src/main/engine/ports';
import { IDEAL_STT, type SttBehaviour } from '../../src/main/engine/scripted/case-events';
import { replayCase, type ReplayAction, type ReplayResult } from '../../src/main/engine/replay';
import {
  defaultProfile,
  type CaseProfile,
  type CaseTurn,
  type ScriptCase,
} from '../../src/main/engine/scripted/case';
import type { VadEvent, VadStage } from '../../src/main/engine/session';
import { parseSettings, type SettingsInput } from '../../src/shared/settings';
import { mergeSettings } from '../../src/main/app/settings-store';
import type { TimelineEvent, TimelineEventOf, TimelineEventType } from '../../src/shared/timeline';

export interface TurnSpec {
  /** When the first word starts (s). */
  at: number;
  /** Words with optional `[pause SECONDS conf P]` markers. */
  text: string;
  reply: string;
  /** Length of each word (s). */
  wordSeconds?: number;
  endConfidence?: number;
  interims?: { after: number; text: string }[];
}

const WORD_SECONDS = 0.3;
const WORD_GAP = 0.06;

export function buildCase(
  turns: TurnSpec[],
  options: { profile?: Partial<CaseProfile>; seconds?: number; id?: string } = {},
): ScriptCase {
  const caseTurns: CaseTurn[] = turns.map((spec, index) => {
    let t = spec.at;
    const words: CaseTurn['words'] = [];
    const holds: CaseTurn['holds'] = [];
    for (const token of parseTurnText(spec.text, `turn ${index}`)) {
      const length = spec.wordSeconds ?? WORD_SECONDS;
      words.push({ text: token.word, start: round(t), end: round(t + length) });
      t += length + WORD_GAP;
      if (token.pause) {
        holds.push({ after: words.length - 1, eot_confidence: token.pause.confidence });
        t += token.pause.seconds - WORD_GAP;
      }
    }
    return {
      words,
      holds,
      interims: spec.interims ?? [],
      end_eot_confidence: spec.endConfidence ?? 0.9,
      reply: spec.reply,
    };
  });
  const lastEnd = caseTurns.at(-1)!.words.at(-1)!.end;
  const seconds = options.seconds ?? lastEnd + 1;
  return {
    id: options.id ?? 'in-code',
    dir: '(in code)',
    description: 'built in a test',
    profile: { ...defaultProfile(), ...options.profile },
    turns: caseTurns,
    audio: new Int16Array(Math.round(seconds * SAMPLE_RATE)),
    durationMs: seconds * 1000,
  };
}

const round = (v: number) => Math.round(v * 1000) / 1000;

export interface Segment {
  start: number;
  end: number;
}

/**
 * Speech segments (ms) of a case: its words, merged across the short gaps between the words of a
 * phrase (under `minSilenceMs`), so the pauses the script holds stay silent.
 */
export function speechSegments(caseData: ScriptCase, minSilenceMs = 100): Segment[] {
  const words = caseData.turns
    .flatMap((t) => t.words)
    .map((w) => ({ start: w.start * 1000, end: w.end * 1000 }));
  return mergeSegments(words, minSilenceMs);
}

function mergeSegments(segments: Segment[], minSilenceMs: number): Segment[] {
  const sorted = [...segments].sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.start - last.end < minSilenceMs) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/**
 * A VAD that knows where the speech is: each frame's probability is high inside a segment and low
 * outside it; speech starts min_speech after a segment begins and ends min_silence after it ends
 * (segments closer than that are one utterance), like the Silero detector on clean audio, with no model.
 */
export class ScriptedVad implements VadStage {
  private speaking = false;
  private index = 0;
  /** Where the speech is, frame by frame. */
  private readonly speech: Segment[];
  /** Utterances: the segments joined across pauses shorter than min_silence. */
  private readonly segments: Segment[];

  constructor(
    segments: Segment[],
    private readonly minSpeechMs = 50,
    private readonly minSilenceMs = 550,
  ) {
    this.speech = mergeSegments(segments, 0);
    this.segments = mergeSegments(segments, minSilenceMs);
  }

  async process(frame: AudioFrame): Promise<VadEvent[]> {
    const t0 = frame.capturedAt;
    const t1 = t0 + (frame.samples.length * 1000) / SAMPLE_RATE;
    const inSpeech = this.speech.some((s) => s.start < t1 && s.end > t0);
    const events: VadEvent[] = [
      { type: 'probability', at: t0, probability: inSpeech ? 0.95 : 0.02, speaking: this.speaking },
    ];
    const segment = this.segments[this.index];
    if (segment && !this.speaking && t1 >= segment.start + this.minSpeechMs) {
      this.speaking = true;
      events.push({
        type: 'speech_started',
        at: segment.start,
        detectedAt: segment.start + this.minSpeechMs,
      });
    }
    if (segment && this.speaking && t1 >= segment.end + this.minSilenceMs) {
      this.speaking = false;
      this.index++;
      events.push({
        type: 'speech_ended',
        at: segment.end,
        detectedAt: segment.end + this.minSilenceMs,
        durationMs: segment.end - segment.start,
      });
    }
    return events;
  }

  recentAudio(): Int16Array {
    return new Int16Array(0);
  }

  reset(): void {
    this.speaking = false;
  }
}

/** The scripted VAD, keeping the microphone audio so an audio turn detector has something to hear. */
export class ScriptedVadWithAudio extends ScriptedVad {
  private audio = new Int16Array(0);

  override async process(frame: AudioFrame): Promise<VadEvent[]> {
    const next = new Int16Array(this.audio.length + frame.samples.length);
    next.set(this.audio);
    next.set(frame.samples, this.audio.length);
    this.audio = next;
    return super.process(frame);
  }

  override recentAudio(ms = 8000): Int16Array {
    const wanted = Math.round((Math.min(Math.max(ms, 0), 8000) * SAMPLE_RATE) / 1000);
    return this.audio.slice(Math.max(0, this.audio.length - wanted));
  }
}

/**
 * The STT of tests about the engine's own logic: one interim per word, never revised, finals
 * as the bare words (the realistic readings have their own tests).
 */
export const ENGINE_TEST_STT: SttBehaviour = { ...IDEAL_STT, formatsFinals: false };

/**
 * The timings the engine's logic tests were written for: these cases leave 40–80 ms between
 * words (buildCase, the espeak-ng fixtures), so Deepgram's endpointing is above that; the turn
 * is judged when the VAD ends the speech (the decision at a short pause, and the current
 * defaults, have their own tests in session-early-decision.test.ts).
 */
export const ENGINE_TEST_SETTINGS = {
  stt: { nova: { endpointing_ms: 100 } },
  turn_handling: { endpointing: { min_delay: 0.5 }, turn_detector: { decision_silence: 3 } },
} as const;

/** `settings` over ENGINE_TEST_SETTINGS. */
export function engineTestSettings(settings: SettingsInput = {}): SettingsInput {
  return mergeSettings(
    parseSettings(ENGINE_TEST_SETTINGS),
    settings as Record<string, unknown>,
  ) as SettingsInput;
}

export interface RunOptions {
  settings?: SettingsInput;
  /** Extra VAD-only speech (ms), e.g. a cough with no words. */
  noise?: Segment[];
  actions?: ReplayAction[];
  /** Use no VAD speech at all (push-to-talk tests can still rely on STT). */
  vad?: VadStage;
}

export function runCase(caseData: ScriptCase, options: RunOptions = {}): Promise<ReplayResult> {
  const vad = options.vad ?? new ScriptedVad([...speechSegments(caseData), ...(options.noise ?? [])]);
  return replayCase(caseData, {
    vad,
    settings: engineTestSettings(options.settings),
    tailMs: 8000,
    sttBehaviour: ENGINE_TEST_STT,
    ...(options.actions ? { actions: options.actions } : {}),
  });
}

export function eventsOf<K extends TimelineEventType>(
  events: TimelineEvent[],
  type: K,
): TimelineEventOf<K>[] {
  return events.filter((e): e is TimelineEventOf<K> => e.type === type);
}

export function firstOf<K extends TimelineEventType>(events: TimelineEvent[], type: K): TimelineEventOf<K> {
  const found = eventsOf(events, type)[0];
  if (!found) throw new Error(`no ${type} event`);
  return found;
}

/** Spoken texts (agent_speech_ended) in order. */
export function spoken(result: ReplayResult): string[] {
  return eventsOf(result.events, 'agent_speech_ended').map((e) => e.spoken_text);
}
