import type { ChatMessage, RequestRecord, SessionReport, TurnReport } from '../../shared/report';
import type { Settings } from '../../shared/settings';
import type { TimelineEvent } from '../../shared/timeline';
import type { SpokenReply } from './agent-speech';
import type { Clock } from './clock';
import type { Reply } from './reply';

/** Turns kept in full in the report; older ones only count in the totals (bounded memory). */
const MAX_TURNS = 500;
const MAX_ERRORS = 200;
/** Latest e2e latencies kept for the session percentiles. */
const MAX_E2E_SAMPLES = 10_000;

interface PlayedInfo {
  text: string;
  delivered: boolean;
}

interface TurnRecord {
  index: number;
  startedAt: number;
  transcript: string;
  speechEndAt: number | null;
  finalAt: number | null;
  committedAt: number | null;
  reply: Reply | null;
  reused: boolean;
  firstAudioAt: number | null;
  spokenReply: string;
  interrupted: boolean;
  dropped: string | null;
  requests: Reply[];
}

interface Accumulated {
  turns: number;
  llmRequests: number;
  wasted: number;
  promptTokens: number;
  completionTokens: number;
  completionTokensWasted: number;
  ttsCharacters: number;
  ttsCharactersWasted: number;
}

/** Builds per-turn metrics and the session report from what the session tells it and from its timeline. */
export class SessionRecorder {
  private readonly turns: TurnRecord[] = [];
  private readonly played = new WeakMap<Reply, PlayedInfo>();
  private readonly errors: SessionReport['errors'] = [];
  private readonly e2e: number[] = [];
  private turnsDropped = 0;
  private interruptions = 0;
  private falseInterruptions = 0;
  private errorCount = 0;
  private readonly greeting: TurnRecord;
  private readonly past: Accumulated = {
    turns: 0,
    llmRequests: 0,
    wasted: 0,
    promptTokens: 0,
    completionTokens: 0,
    completionTokensWasted: 0,
    ttsCharacters: 0,
    ttsCharactersWasted: 0,
  };

  constructor(
    private readonly clock: Clock,
    private readonly settings: () => Settings,
  ) {
    this.greeting = this.newRecord(-1);
  }

  onEvent(event: TimelineEvent): void {
    switch (event.type) {
      // The end of the user's speech: where a pause the turn was judged at began, until the VAD
      // confirms (or moves) it; a turn committed in the pause keeps the pause's start.
      case 'user_paused':
      case 'user_speech_ended': {
        const record = this.find(event.turn);
        if (record && record.committedAt === null) record.speechEndAt = event.at;
        break;
      }
      case 'transcript_final': {
        const record = this.find(event.turn);
        if (record && record.committedAt === null) record.finalAt = event.t;
        break;
      }
      case 'interruption':
        if (event.kind === 'true') this.interruptions++;
        if (event.kind === 'false') this.falseInterruptions++;
        break;
      case 'error':
        this.errorCount++;
        this.errors.push({ t: Math.round(event.t), source: event.source, message: event.message });
        if (this.errors.length > MAX_ERRORS) this.errors.shift();
        break;
      default:
        break;
    }
  }

  startTurn(index: number): void {
    this.turns.push(this.newRecord(index));
    while (this.turns.length > MAX_TURNS) this.retire(this.turns.shift()!);
  }

  addRequest(reply: Reply): void {
    (this.find(reply.turn) ?? this.greeting).requests.push(reply);
  }

  commitTurn(turn: number, transcript: string, reply: Reply | null, reused: boolean): void {
    const record = this.find(turn);
    if (!record) return;
    record.transcript = transcript;
    record.committedAt = this.clock.now();
    record.reply = reply;
    record.reused = reused;
  }

  dropTurn(turn: number, reason: string): void {
    const record = this.find(turn);
    if (record) record.dropped = reason;
  }

  replyAudible(reply: Reply, at: number): void {
    const record = this.find(reply.turn);
    if (record?.reply !== reply || record.firstAudioAt !== null) return;
    record.firstAudioAt = at;
    if (record.speechEndAt !== null) {
      this.e2e.push(Math.round(at - record.speechEndAt));
      if (this.e2e.length > MAX_E2E_SAMPLES) this.e2e.shift();
    }
  }

  replyFinished(result: SpokenReply): void {
    this.played.set(result.reply, { text: result.spokenText, delivered: result.spokenText.length > 0 });
    const record = this.find(result.reply.turn);
    if (record?.reply === result.reply) {
      record.spokenReply = result.spokenText;
      record.interrupted = result.interrupted;
    }
  }

  report(history: readonly ChatMessage[]): SessionReport {
    const turns = this.turns.filter((t) => t.dropped === null).map((t) => this.turnReport(t));
    const kept = turns.reduce(
      (acc, t) => {
        for (const r of t.requests) this.accumulate(acc, r);
        return acc;
      },
      { ...this.past, turns: this.past.turns + turns.length },
    );
    const greetingRequests = this.greeting.requests.map((r) => this.requestRecord(r));
    for (const r of greetingRequests) {
      kept.ttsCharacters += r.tts_characters;
      kept.ttsCharactersWasted += r.tts_characters - r.tts_characters_played;
    }
    const sorted = [...this.e2e].sort((a, b) => a - b);
    return {
      version: 1,
      options: this.settings(),
      duration_ms: Math.round(this.clock.now()),
      turns,
      turns_dropped: this.turnsDropped,
      history: history.map((m) => ({ ...m })),
      totals: {
        turns: kept.turns,
        llm_requests: kept.llmRequests,
        llm_requests_wasted: kept.wasted,
        prompt_tokens: kept.promptTokens,
        completion_tokens: kept.completionTokens,
        completion_tokens_wasted: kept.completionTokensWasted,
        tts_characters: kept.ttsCharacters,
        tts_characters_wasted: kept.ttsCharactersWasted,
        interruptions: this.interruptions,
        false_interruptions: this.falseInterruptions,
        errors: this.errorCount,
        e2e_p50_ms: percentile(sorted, 0.5),
        e2e_p95_ms: percentile(sorted, 0.95),
      },
      errors: [...this.errors],
    };
  }

  private newRecord(index: number): TurnRecord {
    return {
      index,
      startedAt: this.clock.now(),
      transcript: '',
      speechEndAt: null,
      finalAt: null,
      committedAt: null,
      reply: null,
      reused: false,
      firstAudioAt: null,
      spokenReply: '',
      interrupted: false,
      dropped: null,
      requests: [],
    };
  }

  private find(turn: number): TurnRecord | undefined {
    if (turn < 0) return this.greeting;
    for (let i = this.turns.length - 1; i >= 0; i--) {
      if (this.turns[i]!.index === turn) return this.turns[i];
    }
    return undefined;
  }

  private retire(record: TurnRecord): void {
    if (record.dropped !== null) return;
    this.turnsDropped++;
    this.past.turns++;
    for (const r of this.turnReport(record).requests) this.accumulate(this.past, r);
  }

  private accumulate(acc: Accumulated, r: RequestRecord): void {
    acc.llmRequests++;
    acc.promptTokens += r.prompt_tokens;
    acc.completionTokens += r.completion_tokens;
    acc.ttsCharacters += r.tts_characters;
    acc.ttsCharactersWasted += r.tts_characters - r.tts_characters_played;
    if (r.outcome === 'wasted') {
      acc.wasted++;
      acc.completionTokensWasted += r.completion_tokens;
    }
  }

  private requestRecord(reply: Reply): RequestRecord {
    const played = this.played.get(reply);
    const outcome: RequestRecord['outcome'] = played?.delivered
      ? 'spoken'
      : reply.cancelled || played
        ? 'wasted'
        : 'pending';
    return reply.record(outcome, played?.text ?? '');
  }

  private turnReport(record: TurnRecord): TurnReport {
    const requests = record.requests.map((r) => this.requestRecord(r));
    const since = (t: number | null) =>
      t === null || record.speechEndAt === null ? null : Math.round(t - record.speechEndAt);
    const reply = record.reply;
    return {
      index: record.index,
      transcript: record.transcript,
      reply: reply?.text ?? '',
      spoken_reply: record.spokenReply,
      interrupted: record.interrupted,
      speculation_reused: record.reused,
      started_ms: Math.round(record.startedAt),
      committed_ms: record.committedAt === null ? null : Math.round(record.committedAt),
      first_audio_ms: record.firstAudioAt === null ? null : Math.round(record.firstAudioAt),
      vad_end_of_speech_ms: record.speechEndAt === null ? null : Math.round(record.speechEndAt),
      transcript_lag_ms: since(record.finalAt),
      end_of_turn_delay_ms: since(record.committedAt),
      preemptive_lead_ms:
        record.reused && reply && record.committedAt !== null
          ? Math.round(record.committedAt - reply.startedAt)
          : null,
      llm_ttft_ms: reply?.ttft === null || !reply ? null : Math.round(reply.ttft),
      tts_ttfb_ms: reply?.ttsTtfb === null || !reply ? null : Math.round(reply.ttsTtfb),
      e2e_latency_ms: since(record.firstAudioAt),
      llm_requests: requests.length,
      llm_requests_wasted: requests.filter((r) => r.outcome === 'wasted').length,
      tts_characters: requests.reduce((sum, r) => sum + r.tts_characters, 0),
      tts_characters_wasted: requests.reduce((sum, r) => sum + r.tts_characters - r.tts_characters_played, 0),
      requests,
    };
  }
}

export function percentile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}
