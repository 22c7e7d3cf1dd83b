/**
 * The live turn timeline's data: a pure model (no DOM, no React) fed with the engine's
 * TimelineEvents (`api.on('timeline')`, and each event of `api.on('timeline:batch')`) and
 * TurnReports (`api.on('turn')`).
 *
 * It keeps, per user turn, the items the timeline draws, each in its lane:
 * - speech: VAD speech spans (audio `at` of user_speech_started → `at` of user_speech_ended);
 *   the per-frame VAD probability goes to a downsampled sparkline (two bounded rings);
 * - transcript: interim and final marks with their text;
 * - turn: Flux turn events (StartOfTurn, EagerEndOfTurn, TurnResumed, EndOfTurn) and the commit;
 * - endpointing: endpointing waits (until − delay → until, or → the cancellation) and the turn
 *   detector's decisions;
 * - preemptive: one span per speculation (started → cancelled / reused / discarded), with its
 *   trigger and transcript; skipped speculations as marks;
 * - llm: LLM requests (request → first token → done / aborted);
 * - tts: TTS requests (request → first audio → done / aborted);
 * - agent: agent speech (audible → ended / interrupted), with its pauses as gaps;
 * - interruption: detected / true / false / resumed / ignored marks;
 * - error: errors.
 *
 * Each turn also carries its latency breakdown: from its TurnReport once it arrives, from the
 * events until then (the same definitions as the engine's SessionRecorder).
 *
 * Bounded memory: at most `maxTurns` turns (the oldest are dropped), at most `maxItemsPerTurn`
 * items per turn (interim transcripts and errors have their own smaller caps), at most
 * `maxPausesPerSpan` pauses per agent span and fixed-size probability rings. Nothing else grows
 * with the session's length. Every event costs O(1) amortised (per-turn caps are constants).
 *
 * Times are ms on the timeline's clock: the session clock, shifted when a later session's clock
 * starts again below the previous session's end (replays start every session at 0), so several
 * sessions sit one after the other.
 */
import type { TurnReport } from '../../../shared/report';
import type {
  ProviderKind,
  SettingChange,
  SpeculationTrigger,
  TimelineEvent,
  TurnEventName,
} from '../../../shared/timeline';

// ---------------------------------------------------------------- lanes

export type LaneId =
  | 'speech'
  | 'transcript'
  | 'turn'
  | 'endpointing'
  | 'preemptive'
  | 'llm'
  | 'tts'
  | 'agent'
  | 'interruption'
  | 'error';

export interface LaneInfo {
  id: LaneId;
  /** Short label drawn beside the lane. */
  label: string;
  /** What the lane shows, for screen readers and tooltips. */
  description: string;
}

export const LANES: readonly LaneInfo[] = [
  { id: 'speech', label: 'User speech', description: 'VAD speech spans and speech probability' },
  { id: 'transcript', label: 'Transcript', description: 'Interim and final transcripts' },
  { id: 'turn', label: 'Turn', description: 'Flux turn events and the turn commit' },
  { id: 'endpointing', label: 'Endpointing', description: 'Endpointing waits and turn detector decisions' },
  {
    id: 'preemptive',
    label: 'Preemptive',
    description: 'Speculative replies: started, cancelled, reused, discarded',
  },
  { id: 'llm', label: 'LLM', description: 'LLM requests with time to first token' },
  { id: 'tts', label: 'TTS', description: 'TTS requests with time to first audio' },
  { id: 'agent', label: 'Agent speech', description: 'What the user heard of the agent, with pauses' },
  {
    id: 'interruption',
    label: 'Interruptions',
    description: 'Interruptions: detected, true, false, resumed, ignored',
  },
  { id: 'error', label: 'Errors', description: 'Provider and engine errors' },
];

export const LANE_IDS: readonly LaneId[] = LANES.map((lane) => lane.id);

// ---------------------------------------------------------------- items

interface ItemBase {
  /** Unique for the model's lifetime. */
  id: number;
  lane: LaneId;
  /** Key of the TurnTrack that owns the item. */
  turn: number;
  /** Timeline ms. Marks have `start === end`. */
  start: number;
  /** null while a span is still open (draw it to the live edge). */
  end: number | null;
  /** 0, or 1 for a span that overlaps an earlier open one in its lane (drawn in the lower half). */
  row: 0 | 1;
}

export interface SpeechSpan extends ItemBase {
  kind: 'speech';
  /** When the VAD decided that speech began / ended (t of the events); `start`/`end` are the audio times. */
  detectedAt: number;
  endDetectedAt: number | null;
  duration: number | null;
}

export interface TranscriptMark extends ItemBase {
  kind: 'transcript';
  final: boolean;
  speechFinal: boolean;
  text: string;
}

export interface TurnEventMark extends ItemBase {
  kind: 'turn_event';
  event: Exclude<TurnEventName, 'Update'>;
  transcript: string;
  confidence: number | null;
}

export interface CommitMark extends ItemBase {
  kind: 'commit';
  transcript: string;
  speculationReused: boolean;
}

export interface WaitSpan extends ItemBase {
  kind: 'wait';
  /** When the wait was decided (t of endpointing_wait_started); `start` is `until − delay`. */
  decidedAt: number;
  delay: number;
  until: number;
  reason: string;
  cancelledAt: number | null;
  cancelReason: string | null;
}

export interface DetectorMark extends ItemBase {
  kind: 'detector';
  probability: number;
  threshold: number;
  likelyEnd: boolean;
  source: string;
  /**
   * Start of the silence judged (timeline ms): the pause's `at` when judged at a short pause
   * (user_paused, before the VAD ended the speech), else the VAD's end of speech; null if unknown.
   */
  silenceStart: number | null;
  /** Judged at a short pause (user_paused) rather than after the VAD's end of speech. */
  early: boolean;
  /** The endpointing wait this decision set (delay of the next endpointing_wait_started), ms. */
  wait: number | null;
}

/** Settings changed mid-session: the turns after this mark run under the new values. */
export interface SettingsMark extends ItemBase {
  kind: 'settings';
  /** 1 for the first change of the model's sessions, then 2, … */
  number: number;
  changes: readonly SettingChange[];
}

export type SpeculationOutcome = 'pending' | 'cancelled' | 'reused' | 'discarded' | 'stopped';

export interface SpeculationSpan extends ItemBase {
  kind: 'speculation';
  request: number;
  trigger: SpeculationTrigger;
  transcript: string;
  outcome: SpeculationOutcome;
  reason: string | null;
  /** preemptive_reused: how long before the commit the speculation started. */
  lead: number | null;
}

export interface SkipMark extends ItemBase {
  kind: 'skipped';
  reason: string;
}

export type StreamOutcome = 'streaming' | 'done' | 'aborted' | 'stopped';

export interface LlmSpan extends ItemBase {
  kind: 'llm';
  request: number;
  preemptive: boolean;
  transcript: string;
  firstTokenAt: number | null;
  ttft: number | null;
  outcome: StreamOutcome;
  reason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** The reply text (capped at maxTextLength). */
  text: string;
}

export interface TtsSpan extends ItemBase {
  kind: 'tts';
  request: number;
  firstAudioAt: number | null;
  ttfb: number | null;
  outcome: StreamOutcome;
  reason: string | null;
  characters: number | null;
  audioMs: number | null;
}

export interface AgentSpan extends ItemBase {
  kind: 'agent';
  request: number;
  /** Paused stretches (false-interruption pauses), at most maxPausesPerSpan. */
  pauses: { start: number; end: number | null }[];
  outcome: 'speaking' | 'finished' | 'interrupted' | 'stopped';
  playedMs: number | null;
  /** spoken_text when it ended, else text_so_far (capped). */
  text: string;
}

export type InterruptionKind = 'detected' | 'true' | 'false' | 'resumed' | 'ignored';

export interface InterruptionMark extends ItemBase {
  kind: 'interruption';
  interruption: InterruptionKind;
  reason: string;
}

export interface ErrorMark extends ItemBase {
  kind: 'error';
  source: ProviderKind | 'engine';
  message: string;
  recoverable: boolean;
}

export type TimelineSpan = SpeechSpan | WaitSpan | SpeculationSpan | LlmSpan | TtsSpan | AgentSpan;
export type TimelineMark =
  | TranscriptMark
  | TurnEventMark
  | CommitMark
  | DetectorMark
  | SkipMark
  | InterruptionMark
  | ErrorMark
  | SettingsMark;
export type TimelineItem = TimelineSpan | TimelineMark;
export type TimelineItemKind = TimelineItem['kind'];

const SPAN_KINDS = new Set<TimelineItemKind>(['speech', 'wait', 'speculation', 'llm', 'tts', 'agent']);

export function isSpan(item: TimelineItem): item is TimelineSpan {
  return SPAN_KINDS.has(item.kind);
}

// ---------------------------------------------------------------- turns and latency

/** Latency breakdown of a turn (ms). Times are timeline ms; null where the step did not happen. */
export interface TurnLatency {
  /** 'report' once the turn's TurnReport arrived (authoritative), 'events' before. */
  source: 'report' | 'events';
  /** First audible sample of the reply − end of the user's speech. */
  e2e: number | null;
  /** Commit (EndOfTurn) − end of speech. */
  endOfTurnDelay: number | null;
  /** Final transcript − end of speech. */
  transcriptLag: number | null;
  /** Commit − start of the reused speculation. */
  preemptiveLead: number | null;
  ttft: number | null;
  ttfb: number | null;
  /**
   * How much sooner the reply was heard thanks to preemption, ≈ min(preemptive lead, LLM TTFT):
   * without the speculation the LLM would have been asked at the commit and its first token
   * would have come TTFT later; asked `lead` earlier, it came min(lead, TTFT) sooner (a lead
   * beyond the TTFT only leaves the first token waiting for the commit, since nothing is spoken
   * before it). Assumes the same TTFT either way. 0 when speculations were made but none was
   * reused; null when none was made.
   */
  saved: number | null;
  speechEnd: number | null;
  committedAt: number | null;
  firstAudioAt: number | null;
  requests: number;
  wasted: number;
}

/** Preemption saved ≈ preemptive lead capped by the LLM's time to first token (see TurnLatency.saved). */
export function preemptionSaved(
  lead: number | null,
  ttft: number | null,
  speculationReused: boolean,
  speculated: boolean,
): number | null {
  if (speculationReused && lead !== null) return Math.max(0, ttft === null ? lead : Math.min(lead, ttft));
  return speculated ? 0 : null;
}

interface LiveMetrics {
  speechEnd: number | null;
  finalAt: number | null;
  reply: number | null;
  lead: number | null;
  ttft: number | null;
  ttfb: number | null;
  firstAudioAt: number | null;
  requests: number;
  wasted: number;
  speculations: number;
}

export interface TurnTrack {
  /** Unique key (a sequence number); items refer to their turn by it. */
  readonly key: number;
  /** Session number in this model (0 for the first). */
  readonly session: number;
  /** The engine's turn index (-1: the greeting, before the first user turn). */
  readonly index: number;
  /** Shift from the session clock to timeline ms. */
  readonly offset: number;
  /** Earliest item time (timeline ms). */
  start: number;
  /** Latest closed item end or event time (open spans extend to the live edge). */
  end: number;
  readonly items: TimelineItem[];
  /** Open spans in this turn. */
  open: number;
  /** Latest transcript (final, else interim; the committed one once committed). */
  transcript: string;
  committedAt: number | null;
  speculationReused: boolean;
  interrupted: boolean;
  report: TurnReport | null;
  /** Items not kept because of the per-turn caps. */
  dropped: number;
  /** Bumped whenever the turn's summary (transcript, latency, flags) changes. */
  rev: number;
  /** The settings change the turn ran under (its SettingsMark number; 0: as the session started). */
  settingsNumber: number;
  /** The turn detector's last decision before the commit, with the wait it set. */
  decision: DetectorMark | null;
  /** @internal the current silence: start (timeline ms) and whether it began as a short pause */
  silence: { start: number; early: boolean } | null;
  /** @internal */
  readonly live: LiveMetrics;
  /** @internal */
  interims: number;
  /** @internal */
  errors: number;
  /** @internal request ids this turn owns */
  readonly requests: number[];
}

export interface SessionSpan {
  index: number;
  start: number;
  end: number | null;
  /** Shift from this session's clock to timeline ms. */
  offset: number;
}

// ---------------------------------------------------------------- sparkline

/** A fixed-size ring of (bucket start, max probability) pairs: the VAD probability downsampled. */
export class ProbabilityRing {
  private readonly times: Float64Array;
  private readonly values: Float32Array;
  private head = 0;
  private count = 0;

  constructor(
    readonly bucketMs: number,
    readonly capacity: number,
  ) {
    this.times = new Float64Array(capacity);
    this.values = new Float32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Start of the oldest bucket kept, or null. */
  get oldest(): number | null {
    return this.count ? this.times[this.physical(0)]! : null;
  }

  get newest(): number | null {
    return this.count ? this.times[this.physical(this.count - 1)]! : null;
  }

  push(t: number, probability: number): void {
    const bucket = Math.floor(t / this.bucketMs) * this.bucketMs;
    if (this.count) {
      const last = this.physical(this.count - 1);
      const lastTime = this.times[last]!;
      if (bucket <= lastTime) {
        // Same bucket (or a late frame): keep the peak so short bursts stay visible.
        if (probability > this.values[last]!) this.values[last] = probability;
        return;
      }
    }
    if (this.count < this.capacity) {
      const index = this.physical(this.count);
      this.times[index] = bucket;
      this.values[index] = probability;
      this.count++;
    } else {
      this.times[this.head] = bucket;
      this.values[this.head] = probability;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** Calls `visit` for every bucket overlapping [from, to], oldest first (one bucket either side). */
  forEachInRange(from: number, to: number, visit: (t: number, probability: number) => void): void {
    if (!this.count) return;
    // Binary search for the first bucket ending after `from`.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[this.physical(mid)]! + this.bucketMs < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = Math.max(0, lo - 1); i < this.count; i++) {
      const p = this.physical(i);
      const t = this.times[p]!;
      visit(t, this.values[p]!);
      if (t > to) break;
    }
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  private physical(i: number): number {
    return (this.head + i) % this.capacity;
  }
}

// ---------------------------------------------------------------- the model

export interface TimelineModelOptions {
  /** Turns kept (the oldest are dropped). Default 300. */
  maxTurns?: number;
  /** Items kept per turn. Default 256. */
  maxItemsPerTurn?: number;
  /** Interim transcript marks kept per turn (the oldest go first). Default 48. */
  maxInterimsPerTurn?: number;
  /** Error marks kept per turn. Default 24. */
  maxErrorsPerTurn?: number;
  /** Pauses kept per agent speech span. Default 16. */
  maxPausesPerSpan?: number;
  /** Characters kept of transcripts and replies. Default 240. */
  maxTextLength?: number;
  /** Fine sparkline: bucket size (ms) and buckets kept. Default 64 ms × 8192 (about 8.7 minutes). */
  fineBucketMs?: number;
  fineCapacity?: number;
  /** Coarse sparkline: default 1 s × 7200 (two hours). */
  coarseBucketMs?: number;
  coarseCapacity?: number;
  /** Sessions (start/stop spans) kept. Default 64. */
  maxSessions?: number;
  /** Gap (ms) put between sessions whose clocks restart. Default 1000. */
  sessionGapMs?: number;
  /** Wall clock (ms) used to extrapolate the live edge between events. Default performance.now(). */
  now?: () => number;
}

type Listener = () => void;

interface RequestEntry {
  turn: TurnTrack;
  speculation: SpeculationSpan | null;
  llm: LlmSpan | null;
  tts: TtsSpan | null;
  agent: AgentSpan | null;
}

const DEFAULTS = {
  maxTurns: 300,
  maxItemsPerTurn: 256,
  maxInterimsPerTurn: 48,
  maxErrorsPerTurn: 24,
  maxPausesPerSpan: 16,
  maxTextLength: 240,
  fineBucketMs: 64,
  fineCapacity: 8192,
  coarseBucketMs: 1000,
  coarseCapacity: 7200,
  maxSessions: 64,
  sessionGapMs: 1000,
};

const defaultNow = (): number =>
  typeof performance !== 'undefined' && typeof performance.now === 'function'
    ? performance.now()
    : Date.now();

export class TimelineModel {
  readonly options: Readonly<typeof DEFAULTS>;
  /** Retained turns, oldest first. Read-only for views. */
  readonly turns: TurnTrack[] = [];
  /** Sessions seen (start/stop), oldest first, capped. */
  readonly sessions: SessionSpan[] = [];
  /** VAD probability, 64 ms buckets (recent minutes). */
  readonly sparkline: ProbabilityRing;
  /** VAD probability, 1 s buckets (about two hours). */
  readonly sparklineCoarse: ProbabilityRing;
  /** Bumped on every change. */
  version = 0;
  /**
   * Bumped on every change but a VAD probability frame: what is drawn away from the live edge
   * can only have changed when this did.
   */
  itemsVersion = 0;
  /** Bumped when turns are added or dropped or a turn's summary changes (not on VAD frames). */
  summaryVersion = 0;
  /** Turns dropped to keep memory bounded. */
  turnsDropped = 0;
  /** Events counted, by any type. */
  eventCount = 0;

  private readonly now: () => number;
  private readonly listeners = new Set<Listener>();
  private readonly byIndex = new Map<number, TurnTrack>();
  private readonly requests = new Map<number, RequestEntry>();
  private readonly openSpans = new Set<TimelineSpan>();
  private readonly laneRows = new Map<LaneId, TimelineSpan | null>();
  private nextKey = 0;
  private nextItem = 1;
  private offset = 0;
  private sessionIndex = -1;
  /** Highest turn index dropped in the current session (late events for it are ignored). */
  private droppedIndex = Number.NEGATIVE_INFINITY;
  private lastT = Number.NEGATIVE_INFINITY;
  private lastWall = 0;
  private running = false;
  /** Settings changes seen (numbers the SettingsMarks). */
  private settingsChanges = 0;

  constructor(options: TimelineModelOptions = {}) {
    const { now, ...rest } = options;
    const merged = { ...DEFAULTS };
    for (const [key, value] of Object.entries(rest)) {
      if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
        (merged as Record<string, number>)[key] = value;
      }
    }
    this.options = merged;
    this.now = now ?? defaultNow;
    this.sparkline = new ProbabilityRing(merged.fineBucketMs, merged.fineCapacity);
    this.sparklineCoarse = new ProbabilityRing(merged.coarseBucketMs, merged.coarseCapacity);
  }

  // ------------------------------------------------------------ reading

  /** Listeners are called synchronously after every change; keep them cheap (schedule work). */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Whether a session is running (time advances between events). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Latest event time seen (timeline ms), or 0 before any event. */
  get lastEventTime(): number {
    return Number.isFinite(this.lastT) ? this.lastT : 0;
  }

  /** Earliest time still held (timeline ms), or 0. */
  get earliestTime(): number {
    const first = this.turns[0]?.start;
    const candidates = [first, this.sparkline.oldest, this.sparklineCoarse.oldest, this.sessions[0]?.start];
    let min = Number.POSITIVE_INFINITY;
    for (const c of candidates) if (c !== undefined && c !== null && c < min) min = c;
    return Number.isFinite(min) ? min : 0;
  }

  /**
   * The live edge: the latest event time, extrapolated by the wall time since it arrived while a
   * session runs (the engine's clock keeps going between events).
   */
  liveTime(wallNow: number = this.now()): number {
    const last = this.lastEventTime;
    if (!this.running) return last;
    return last + Math.max(0, wallNow - this.lastWall);
  }

  /** The turn with this key, if still retained. */
  turnByKey(key: number): TurnTrack | undefined {
    // Keys are increasing and turns are kept in key order: binary search.
    let lo = 0;
    let hi = this.turns.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const k = this.turns[mid]!.key;
      if (k === key) return this.turns[mid];
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Turns overlapping [from, to] (open spans reach `liveT`). */
  turnsInRange(from: number, to: number, liveT = this.liveTime()): TurnTrack[] {
    const out: TurnTrack[] = [];
    for (const turn of this.turns) {
      const end = turn.open > 0 ? Math.max(turn.end, liveT) : turn.end;
      if (turn.start <= to && end >= from) out.push(turn);
    }
    return out;
  }

  /** Visits every item overlapping [from, to]; open spans reach `liveT`. */
  forEachItemInRange(
    from: number,
    to: number,
    visit: (item: TimelineItem, turn: TurnTrack) => void,
    liveT = this.liveTime(),
  ): void {
    for (const turn of this.turns) {
      const turnEnd = turn.open > 0 ? Math.max(turn.end, liveT) : turn.end;
      if (turn.start > to || turnEnd < from) continue;
      for (const item of turn.items) {
        const end = item.end ?? Math.max(item.start, liveT);
        if (item.start <= to && end >= from) visit(item, turn);
      }
    }
  }

  /** All retained items of a lane in time order (for keyboard navigation; not per frame). */
  itemsInLane(lane: LaneId): TimelineItem[] {
    const out: TimelineItem[] = [];
    for (const turn of this.turns) for (const item of turn.items) if (item.lane === lane) out.push(item);
    return out.sort((a, b) => a.start - b.start || a.id - b.id);
  }

  /** Latency breakdown of a turn: from its TurnReport once it came, from the events before. */
  latency(turn: TurnTrack): TurnLatency {
    const report = turn.report;
    const speculated = turn.live.speculations > 0;
    if (report) {
      const at = (t: number | null) => (t === null ? null : t + turn.offset);
      const speculatedReport = speculated || report.requests.some((r) => r.preemptive);
      return {
        source: 'report',
        e2e: report.e2e_latency_ms,
        endOfTurnDelay: report.end_of_turn_delay_ms,
        transcriptLag: report.transcript_lag_ms,
        preemptiveLead: report.preemptive_lead_ms,
        ttft: report.llm_ttft_ms,
        ttfb: report.tts_ttfb_ms,
        saved: preemptionSaved(
          report.preemptive_lead_ms,
          report.llm_ttft_ms,
          report.speculation_reused,
          speculatedReport,
        ),
        speechEnd: at(report.vad_end_of_speech_ms),
        committedAt: at(report.committed_ms),
        firstAudioAt: at(report.first_audio_ms),
        requests: report.llm_requests,
        wasted: report.llm_requests_wasted,
      };
    }
    const live = turn.live;
    const since = (t: number | null) => (t === null || live.speechEnd === null ? null : t - live.speechEnd);
    const lead = turn.speculationReused ? live.lead : null;
    return {
      source: 'events',
      e2e: since(live.firstAudioAt),
      endOfTurnDelay: since(turn.committedAt),
      // Before the commit the user may still go on: no lag yet.
      transcriptLag: turn.committedAt === null ? null : since(live.finalAt),
      preemptiveLead: lead,
      ttft: live.ttft,
      ttfb: live.ttfb,
      saved: preemptionSaved(lead, live.ttft, turn.speculationReused, speculated),
      speechEnd: live.speechEnd,
      committedAt: turn.committedAt,
      firstAudioAt: live.firstAudioAt,
      requests: live.requests,
      wasted: live.wasted,
    };
  }

  /** Items, pauses and sparkline buckets currently held: stays under `capacity`. */
  retainedCount(): number {
    let n = this.sparkline.size + this.sparklineCoarse.size + this.sessions.length;
    for (const turn of this.turns) {
      n += turn.items.length;
      for (const item of turn.items) if (item.kind === 'agent') n += item.pauses.length;
    }
    return n;
  }

  /** The most `retainedCount()` can ever be. */
  get capacity(): number {
    const o = this.options;
    return (
      o.maxTurns * o.maxItemsPerTurn * (1 + o.maxPausesPerSpan) +
      o.fineCapacity +
      o.coarseCapacity +
      o.maxSessions
    );
  }

  // ------------------------------------------------------------ writing

  /** Feeds one timeline event (from `api.on('timeline')`). */
  ingest(event: TimelineEvent, wallNow?: number): void {
    this.apply(event, wallNow ?? this.now());
    this.version++;
    if (event.type !== 'vad_probability') this.itemsVersion++;
    this.emit();
  }

  /** Feeds many events, notifying listeners once. */
  ingestAll(events: Iterable<TimelineEvent>, wallNow?: number): void {
    const wall = wallNow ?? this.now();
    for (const event of events) this.apply(event, wall);
    this.version++;
    this.itemsVersion++;
    this.summaryVersion++;
    this.emit();
  }

  /** Feeds a turn's report (from `api.on('turn')`): its latency breakdown becomes authoritative. */
  ingestReport(report: TurnReport): void {
    const turn = this.byIndex.get(report.index) ?? this.restoreTurn(report);
    if (!turn) return;
    turn.report = report;
    if (report.committed_ms !== null && turn.committedAt === null) {
      turn.committedAt = report.committed_ms + turn.offset;
    }
    turn.speculationReused = report.speculation_reused;
    // A report is a snapshot and may predate the agent_speech_ended event that said the reply was
    // cut (main sends one as that event goes out): an interruption already seen is never undone.
    turn.interrupted = report.interrupted || turn.interrupted;
    if (report.transcript) turn.transcript = this.text(report.transcript);
    this.touchSummary(turn);
    this.version++;
    this.itemsVersion++;
    this.emit();
  }

  /**
   * A turn known only from its report (the window reconnected mid-session): placed at its times
   * on the session clock, with no lane items, its latency from the report.
   */
  private restoreTurn(report: TurnReport): TurnTrack | null {
    if (this.sessionIndex < 0) this.startSession(report.started_ms, this.now(), false);
    const turn = this.turnFor(report.index, report.started_ms + this.offset);
    if (!turn) return null;
    const end = report.first_audio_ms ?? report.committed_ms;
    if (end !== null) this.extend(turn, turn.start, end + this.offset);
    return turn;
  }

  /** Forgets everything (a new recording). */
  clear(): void {
    this.turns.length = 0;
    this.sessions.length = 0;
    this.byIndex.clear();
    this.requests.clear();
    this.openSpans.clear();
    this.laneRows.clear();
    this.sparkline.clear();
    this.sparklineCoarse.clear();
    this.offset = 0;
    this.sessionIndex = -1;
    this.droppedIndex = Number.NEGATIVE_INFINITY;
    this.lastT = Number.NEGATIVE_INFINITY;
    this.running = false;
    this.turnsDropped = 0;
    this.eventCount = 0;
    this.version++;
    this.itemsVersion++;
    this.summaryVersion++;
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  private text(value: string): string {
    const max = this.options.maxTextLength;
    return value.length > max ? `${value.slice(0, max - 1)}…` : value;
  }

  private apply(event: TimelineEvent, wall: number): void {
    this.eventCount++;
    if (event.type === 'session_started') {
      this.startSession(event.t, wall);
      return;
    }
    if (this.sessionIndex < 0) this.startSession(event.t, wall, false);
    const t = event.t + this.offset;
    if (t >= this.lastT || !Number.isFinite(this.lastT)) {
      this.lastT = t;
      this.lastWall = wall;
    }
    if (event.type === 'session_stopped') {
      this.running = false;
      const session = this.sessions.at(-1);
      if (session) session.end = t;
      for (const span of this.openSpans) this.close(span, t, 'stopped');
      this.summaryVersion++;
      return;
    }
    this.running = true;
    if (event.type === 'vad_probability') {
      this.sparkline.push(t, event.probability);
      this.sparklineCoarse.push(t, event.probability);
      return;
    }
    if (event.type === 'turn_event' && event.event === 'Update') {
      // Updates repeat the transcript marks; they only refresh the turn's transcript.
      const turn = this.turnFor(event.turn, t);
      if (turn && event.transcript && turn.committedAt === null && event.transcript !== turn.transcript) {
        turn.transcript = this.text(event.transcript);
        this.touchSummary(turn);
      }
      return;
    }
    this.applyItemEvent(event, t);
  }

  private startSession(t: number, wall: number, explicit = true): void {
    // Close what the previous session left open.
    const previousEnd = Number.isFinite(this.lastT) ? this.lastT : null;
    for (const span of this.openSpans) this.close(span, previousEnd ?? span.start, 'stopped');
    const last = this.sessions.at(-1);
    if (last && last.end === null && previousEnd !== null) last.end = previousEnd;
    if (previousEnd !== null && t + this.offset < previousEnd) {
      this.offset = previousEnd + this.options.sessionGapMs - t;
    }
    this.sessionIndex++;
    this.byIndex.clear();
    this.requests.clear();
    this.laneRows.clear();
    this.droppedIndex = Number.NEGATIVE_INFINITY;
    const start = t + this.offset;
    this.sessions.push({ index: this.sessionIndex, start, end: null, offset: this.offset });
    while (this.sessions.length > this.options.maxSessions) this.sessions.shift();
    if (start >= this.lastT || !Number.isFinite(this.lastT)) {
      this.lastT = start;
      this.lastWall = wall;
    }
    this.running = explicit || this.running;
    this.summaryVersion++;
  }

  private turnFor(index: number, t: number): TurnTrack | null {
    const existing = this.byIndex.get(index);
    if (existing) return existing;
    if (index <= this.droppedIndex) return null;
    const turn: TurnTrack = {
      key: this.nextKey++,
      session: this.sessionIndex,
      index,
      offset: this.offset,
      start: t,
      end: t,
      items: [],
      open: 0,
      transcript: '',
      committedAt: null,
      speculationReused: false,
      interrupted: false,
      report: null,
      dropped: 0,
      rev: 0,
      settingsNumber: this.settingsChanges,
      decision: null,
      silence: null,
      live: {
        speechEnd: null,
        finalAt: null,
        reply: null,
        lead: null,
        ttft: null,
        ttfb: null,
        firstAudioAt: null,
        requests: 0,
        wasted: 0,
        speculations: 0,
      },
      interims: 0,
      errors: 0,
      requests: [],
    };
    this.turns.push(turn);
    this.byIndex.set(index, turn);
    while (this.turns.length > this.options.maxTurns) this.dropTurn(this.turns.shift()!);
    this.summaryVersion++;
    return turn;
  }

  private dropTurn(turn: TurnTrack): void {
    this.turnsDropped++;
    if (this.byIndex.get(turn.index) === turn) {
      this.byIndex.delete(turn.index);
      if (turn.index > this.droppedIndex) this.droppedIndex = turn.index;
    }
    for (const id of turn.requests) if (this.requests.get(id)?.turn === turn) this.requests.delete(id);
    if (turn.open > 0) {
      for (const item of turn.items) {
        if (isSpan(item) && item.end === null) this.openSpans.delete(item);
      }
    }
    for (const [lane, span] of this.laneRows)
      if (span && span.turn === turn.key) this.laneRows.set(lane, null);
  }

  private request(id: number, turn: TurnTrack): RequestEntry {
    let entry = this.requests.get(id);
    if (!entry) {
      entry = { turn, speculation: null, llm: null, tts: null, agent: null };
      this.requests.set(id, entry);
      turn.requests.push(id);
    }
    return entry;
  }

  private touchSummary(turn: TurnTrack): void {
    turn.rev++;
    this.summaryVersion++;
  }

  /** Adds an item to a turn within the caps; returns it, or null when it was not kept. */
  private add<T extends TimelineItem>(turn: TurnTrack, item: Omit<T, 'id' | 'turn' | 'row'>): T | null {
    const full = { ...item, id: this.nextItem++, turn: turn.key, row: 0 } as unknown as T;
    const o = this.options;
    if (full.kind === 'transcript' && !full.final) {
      if (turn.interims >= o.maxInterimsPerTurn)
        this.removeOldest(turn, (i) => i.kind === 'transcript' && !i.final);
      turn.interims++;
    }
    if (full.kind === 'error') {
      if (turn.errors >= o.maxErrorsPerTurn) this.removeOldest(turn, (i) => i.kind === 'error');
      turn.errors++;
    }
    if (turn.items.length >= o.maxItemsPerTurn) {
      // Make room by dropping the oldest interim, else refuse the new item.
      if (!this.removeOldest(turn, (i) => i.kind === 'transcript' && !i.final)) {
        if (full.kind === 'transcript' && !full.final) turn.interims--;
        if (full.kind === 'error') turn.errors--;
        turn.dropped++;
        return null;
      }
    }
    if (isSpan(full)) {
      const previous = this.laneRows.get(full.lane);
      if (previous && (previous.end === null || previous.end > full.start) && previous.row === 0)
        full.row = 1;
      if (full.row === 0 || !previous) this.laneRows.set(full.lane, full);
      if (full.end === null) {
        turn.open++;
        this.openSpans.add(full);
      }
    }
    turn.items.push(full);
    this.extend(turn, full.start, full.end ?? full.start);
    return full;
  }

  private removeOldest(turn: TurnTrack, match: (item: TimelineItem) => boolean): boolean {
    const index = turn.items.findIndex(match);
    if (index < 0) return false;
    const [removed] = turn.items.splice(index, 1);
    if (removed?.kind === 'transcript' && !removed.final) turn.interims--;
    if (removed?.kind === 'error') turn.errors--;
    turn.dropped++;
    return true;
  }

  private extend(turn: TurnTrack, start: number, end: number): void {
    if (start < turn.start) turn.start = start;
    if (end > turn.end) turn.end = end;
  }

  private close(span: TimelineSpan, at: number, outcome: 'stopped' | null): void {
    if (span.end !== null) return;
    span.end = Math.max(span.start, at);
    this.openSpans.delete(span);
    const turn = this.turnByKey(span.turn);
    if (turn) {
      turn.open = Math.max(0, turn.open - 1);
      this.extend(turn, span.start, span.end);
    }
    if (outcome === 'stopped') {
      switch (span.kind) {
        case 'speculation':
          if (span.outcome === 'pending') span.outcome = 'stopped';
          break;
        case 'llm':
        case 'tts':
          if (span.outcome === 'streaming') span.outcome = 'stopped';
          break;
        case 'agent':
          if (span.outcome === 'speaking') span.outcome = 'stopped';
          for (const pause of span.pauses) if (pause.end === null) pause.end = span.end;
          break;
        default:
          break;
      }
    }
  }

  private lastOpen<K extends TimelineSpan['kind']>(
    turn: TurnTrack,
    kind: K,
  ): Extract<TimelineSpan, { kind: K }> | null {
    for (let i = turn.items.length - 1; i >= 0; i--) {
      const item = turn.items[i]!;
      if (item.kind === kind && item.end === null) return item as Extract<TimelineSpan, { kind: K }>;
    }
    return null;
  }

  private applyItemEvent(event: Exclude<TimelineEvent, { type: 'vad_probability' }>, t: number): void {
    const turn = this.turnFor(event.turn, t);
    if (!turn) return;
    const off = turn.offset;
    this.extend(turn, turn.start, t);
    switch (event.type) {
      case 'user_speech_started': {
        const at = Math.min(event.at + off, t);
        this.add<SpeechSpan>(turn, {
          kind: 'speech',
          lane: 'speech',
          start: at,
          end: null,
          detectedAt: t,
          endDetectedAt: null,
          duration: null,
        });
        turn.silence = null;
        break;
      }
      case 'user_speech_ended': {
        const at = event.at + off;
        let span = this.lastOpen(turn, 'speech');
        if (!span) {
          // Joined mid-speech, or the start was dropped: draw what we know.
          span = this.add<SpeechSpan>(turn, {
            kind: 'speech',
            lane: 'speech',
            start: at - event.duration,
            end: null,
            detectedAt: at - event.duration,
            endDetectedAt: null,
            duration: null,
          });
        }
        if (span) {
          span.endDetectedAt = t;
          span.duration = event.duration;
          this.close(span, at, null);
        }
        if (turn.committedAt === null) {
          turn.live.speechEnd = at;
          this.touchSummary(turn);
        }
        // The VAD confirming a pause already judged keeps it a short-pause decision.
        if (!turn.silence || turn.silence.start !== at) turn.silence = { start: at, early: false };
        break;
      }
      case 'user_paused':
        // Judged at a short pause: the speech ended where the pause began (the VAD may confirm it later).
        if (turn.committedAt === null) {
          turn.live.speechEnd = event.at + off;
          this.touchSummary(turn);
        }
        turn.silence = { start: event.at + off, early: true };
        break;
      case 'transcript_interim':
      case 'transcript_final': {
        const final = event.type === 'transcript_final';
        this.add<TranscriptMark>(turn, {
          kind: 'transcript',
          lane: 'transcript',
          start: t,
          end: t,
          final,
          speechFinal: final && event.speech_final,
          text: this.text(event.text),
        });
        if (turn.committedAt === null) {
          if (final) turn.live.finalAt = t;
          this.touchSummary(turn);
        }
        break;
      }
      case 'turn_event': {
        if (event.event === 'Update') break;
        this.add<TurnEventMark>(turn, {
          kind: 'turn_event',
          lane: 'turn',
          start: t,
          end: t,
          event: event.event,
          transcript: this.text(event.transcript),
          confidence: event.confidence ?? null,
        });
        if (event.transcript && turn.committedAt === null) {
          turn.transcript = this.text(event.transcript);
          this.touchSummary(turn);
        }
        break;
      }
      case 'turn_detector_decision': {
        const mark = this.add<DetectorMark>(turn, {
          kind: 'detector',
          lane: 'endpointing',
          start: t,
          end: t,
          probability: event.probability,
          threshold: event.threshold,
          likelyEnd: event.likely_end,
          source: event.source,
          silenceStart: turn.silence?.start ?? null,
          early: turn.silence?.early ?? false,
          wait: null,
        });
        if (mark && turn.committedAt === null) {
          turn.decision = mark;
          this.touchSummary(turn);
        }
        break;
      }
      case 'endpointing_wait_started': {
        // A newer wait replaces the one still running.
        const running = this.lastWait(turn);
        if (running && running.cancelledAt === null && (running.end ?? 0) > t)
          running.end = Math.max(running.start, t);
        const until = event.until + off;
        const decision = turn.decision;
        if (decision && decision.wait === null && turn.committedAt === null) {
          decision.wait = event.delay;
          this.touchSummary(turn);
        }
        this.add<WaitSpan>(turn, {
          kind: 'wait',
          lane: 'endpointing',
          start: until - event.delay,
          end: until,
          decidedAt: t,
          delay: event.delay,
          until,
          reason: event.reason,
          cancelledAt: null,
          cancelReason: null,
        });
        break;
      }
      case 'endpointing_wait_cancelled': {
        const wait = this.lastWait(turn);
        if (wait && wait.cancelledAt === null) {
          wait.cancelledAt = t;
          wait.cancelReason = event.reason;
          wait.end = Math.max(wait.start, Math.min(wait.until, t));
        }
        break;
      }
      case 'preemptive_started': {
        const entry = this.request(event.request, turn);
        entry.speculation = this.add<SpeculationSpan>(entry.turn, {
          kind: 'speculation',
          lane: 'preemptive',
          start: t,
          end: null,
          request: event.request,
          trigger: event.trigger,
          transcript: this.text(event.transcript),
          outcome: 'pending',
          reason: null,
          lead: null,
        });
        entry.turn.live.speculations++;
        this.touchSummary(entry.turn);
        break;
      }
      case 'preemptive_skipped':
        this.add<SkipMark>(turn, {
          kind: 'skipped',
          lane: 'preemptive',
          start: t,
          end: t,
          reason: event.reason,
        });
        break;
      case 'preemptive_cancelled':
      case 'preemptive_reused':
      case 'preemptive_discarded': {
        const entry = this.requests.get(event.request);
        const span = entry?.speculation;
        if (!entry || !span) break;
        if (event.type === 'preemptive_reused') {
          span.outcome = 'reused';
          span.lead = event.lead;
          entry.turn.live.reply = event.request;
          entry.turn.live.lead = event.lead;
          // The speculation may have had its first token (even its first audio) before the commit.
          if (entry.llm?.ttft != null) entry.turn.live.ttft = entry.llm.ttft;
          if (entry.tts?.ttfb != null) entry.turn.live.ttfb = entry.tts.ttfb;
          entry.turn.speculationReused = true;
        } else {
          span.outcome = event.type === 'preemptive_cancelled' ? 'cancelled' : 'discarded';
          span.reason = event.reason;
          entry.turn.live.wasted++;
        }
        this.close(span, t, null);
        this.touchSummary(entry.turn);
        break;
      }
      case 'llm_request': {
        const entry = this.request(event.request, turn);
        entry.llm = this.add<LlmSpan>(entry.turn, {
          kind: 'llm',
          lane: 'llm',
          start: t,
          end: null,
          request: event.request,
          preemptive: event.preemptive,
          transcript: this.text(event.transcript),
          firstTokenAt: null,
          ttft: null,
          outcome: 'streaming',
          reason: null,
          promptTokens: null,
          completionTokens: null,
          text: '',
        });
        const owner = entry.turn;
        owner.live.requests++;
        if (!event.preemptive && owner.committedAt !== null && owner.live.reply === null) {
          owner.live.reply = event.request;
        }
        this.touchSummary(owner);
        break;
      }
      case 'llm_first_token': {
        const entry = this.requests.get(event.request);
        if (!entry?.llm) break;
        entry.llm.firstTokenAt = t;
        entry.llm.ttft = event.ttft;
        if (entry.turn.live.reply === event.request) {
          entry.turn.live.ttft = event.ttft;
          this.touchSummary(entry.turn);
        }
        break;
      }
      case 'llm_done':
      case 'llm_aborted': {
        const entry = this.requests.get(event.request);
        const span = entry?.llm;
        if (!entry || !span) break;
        if (event.type === 'llm_done') {
          span.outcome = 'done';
          span.promptTokens = event.prompt_tokens;
          span.completionTokens = event.completion_tokens;
          span.text = this.text(event.text);
        } else {
          span.outcome = 'aborted';
          span.reason = event.reason;
          if (!span.preemptive) {
            entry.turn.live.wasted++;
            this.touchSummary(entry.turn);
          }
        }
        this.close(span, t, null);
        break;
      }
      case 'tts_request': {
        const entry = this.request(event.request, turn);
        entry.tts = this.add<TtsSpan>(entry.turn, {
          kind: 'tts',
          lane: 'tts',
          start: t,
          end: null,
          request: event.request,
          firstAudioAt: null,
          ttfb: null,
          outcome: 'streaming',
          reason: null,
          characters: null,
          audioMs: null,
        });
        break;
      }
      case 'tts_first_audio': {
        const entry = this.requests.get(event.request);
        if (!entry?.tts) break;
        entry.tts.firstAudioAt = t;
        entry.tts.ttfb = event.ttfb;
        if (entry.turn.live.reply === event.request) {
          entry.turn.live.ttfb = event.ttfb;
          this.touchSummary(entry.turn);
        }
        break;
      }
      case 'tts_done':
      case 'tts_aborted': {
        const entry = this.requests.get(event.request);
        const span = entry?.tts;
        if (!span) break;
        if (event.type === 'tts_done') {
          span.outcome = 'done';
          span.characters = event.characters;
          span.audioMs = event.audio_ms;
        } else {
          span.outcome = 'aborted';
          span.reason = event.reason;
        }
        this.close(span, t, null);
        break;
      }
      case 'agent_speech_started': {
        const entry = this.request(event.request, turn);
        entry.agent = this.add<AgentSpan>(entry.turn, {
          kind: 'agent',
          lane: 'agent',
          start: t,
          end: null,
          request: event.request,
          pauses: [],
          outcome: 'speaking',
          playedMs: null,
          text: this.text(event.text_so_far),
        });
        const owner = entry.turn;
        if (owner.live.reply === event.request && owner.live.firstAudioAt === null) {
          owner.live.firstAudioAt = t;
          this.touchSummary(owner);
        }
        break;
      }
      case 'agent_speech_paused': {
        const span = this.requests.get(event.request)?.agent;
        if (!span || span.end !== null) break;
        const last = span.pauses.at(-1);
        if (last && last.end === null) break;
        if (span.pauses.length >= this.options.maxPausesPerSpan) span.pauses.shift();
        span.pauses.push({ start: t, end: null });
        break;
      }
      case 'agent_speech_resumed': {
        const span = this.requests.get(event.request)?.agent;
        const last = span?.pauses.at(-1);
        if (last && last.end === null) last.end = t;
        break;
      }
      case 'agent_speech_ended': {
        const entry = this.requests.get(event.request);
        const span = entry?.agent;
        if (!entry || !span) break;
        span.outcome = event.interrupted ? 'interrupted' : 'finished';
        span.playedMs = event.played_ms;
        span.text = this.text(event.spoken_text);
        for (const pause of span.pauses) if (pause.end === null) pause.end = t;
        this.close(span, t, null);
        if (event.interrupted && entry.turn.live.reply === event.request) {
          entry.turn.interrupted = true;
          this.touchSummary(entry.turn);
        }
        break;
      }
      case 'interruption':
        this.add<InterruptionMark>(turn, {
          kind: 'interruption',
          lane: 'interruption',
          start: t,
          end: t,
          interruption: event.kind,
          reason: event.reason,
        });
        this.touchSummary(turn);
        break;
      case 'turn_committed':
        turn.committedAt = t;
        turn.transcript = this.text(event.transcript);
        turn.speculationReused = event.speculation_reused;
        this.add<CommitMark>(turn, {
          kind: 'commit',
          lane: 'turn',
          start: t,
          end: t,
          transcript: turn.transcript,
          speculationReused: event.speculation_reused,
        });
        this.touchSummary(turn);
        break;
      case 'settings_changed':
        this.settingsChanges++;
        this.add<SettingsMark>(turn, {
          kind: 'settings',
          lane: 'turn',
          start: t,
          end: t,
          number: this.settingsChanges,
          changes: event.changes,
        });
        this.summaryVersion++;
        break;
      case 'error':
        this.add<ErrorMark>(turn, {
          kind: 'error',
          lane: 'error',
          start: t,
          end: t,
          source: event.source,
          message: this.text(event.message),
          recoverable: event.recoverable,
        });
        this.touchSummary(turn);
        break;
      default:
        break;
    }
  }

  private lastWait(turn: TurnTrack): WaitSpan | null {
    for (let i = turn.items.length - 1; i >= 0; i--) {
      const item = turn.items[i]!;
      if (item.kind === 'wait') return item;
    }
    return null;
  }
}

// ---------------------------------------------------------------- session statistics

export interface TimelineStats {
  turns: number;
  e2eP50: number | null;
  e2eP95: number | null;
  /** End-of-turn delay (commit − end of speech) over the turns. */
  eotP50: number | null;
  eotP95: number | null;
  /** Turns that ended too soon and were taken up again (TurnResumed). */
  resumed: number;
  /** TTS characters synthesised and never heard (from the turn reports). */
  ttsWasted: number;
  /** Sum of `saved` over the turns that have it. */
  savedTotal: number;
  savedTurns: number;
  requests: number;
  wasted: number;
  interruptions: number;
  falseInterruptions: number;
  errors: number;
}

/** Statistics over the retained turns (for the header; call when summaryVersion changes). */
export function timelineStats(model: TimelineModel): TimelineStats {
  const e2e: number[] = [];
  const eot: number[] = [];
  const stats: TimelineStats = {
    turns: 0,
    e2eP50: null,
    e2eP95: null,
    eotP50: null,
    eotP95: null,
    resumed: 0,
    ttsWasted: 0,
    savedTotal: 0,
    savedTurns: 0,
    requests: 0,
    wasted: 0,
    interruptions: 0,
    falseInterruptions: 0,
    errors: 0,
  };
  for (const turn of model.turns) {
    if (turn.index >= 0) stats.turns++;
    const latency = model.latency(turn);
    if (latency.e2e !== null) e2e.push(latency.e2e);
    if (latency.endOfTurnDelay !== null) eot.push(latency.endOfTurnDelay);
    stats.ttsWasted += turn.report?.tts_characters_wasted ?? 0;
    if (latency.saved !== null) {
      stats.savedTotal += latency.saved;
      stats.savedTurns++;
    }
    stats.requests += latency.requests;
    stats.wasted += latency.wasted;
    for (const item of turn.items) {
      if (item.kind === 'interruption') {
        if (item.interruption === 'true') stats.interruptions++;
        if (item.interruption === 'false') stats.falseInterruptions++;
      } else if (item.kind === 'error') stats.errors++;
      else if (item.kind === 'turn_event' && item.event === 'TurnResumed') stats.resumed++;
    }
  }
  e2e.sort((a, b) => a - b);
  stats.e2eP50 = percentile(e2e, 0.5);
  stats.e2eP95 = percentile(e2e, 0.95);
  eot.sort((a, b) => a - b);
  stats.eotP50 = percentile(eot, 0.5);
  stats.eotP95 = percentile(eot, 0.95);
  return stats;
}

function percentile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}
