/**
 * Providers that read a recording, the way the scripted providers read a case:
 *
 * - STT: each recorded event is given to the engine at the audio time it arrived (once the
 *   replay has fed the audio up to that time), in the recorded order.
 * - LLM: a request is answered with the recorded reply to the same user words (normalised),
 *   token by token at the recorded times after the request. A request the recording never made
 *   (other settings asked at another moment, on other words) gets the recorded reply whose words
 *   overlap its own most, with that reply's timing: approximate, and counted.
 * - TTS: the scripted voice with the timing measured from the recording (first audio after the
 *   first text, audio length per character, production speed).
 */
import type { Clock, TimerHandle } from '../clock';
import type { LlmChunk, LlmProvider, LlmRequest, SttEvent, SttProvider, SttStream } from '../ports';
import {
  offScriptReply,
  promptTokenCount,
  splitTokens,
  userWordsSinceReply,
  type LlmRequestRecord,
} from '../scripted/providers';
import { normalizeTranscript } from '../text/normalize';
import { wordOverlap } from '../text/similarity';
import type { LlmRecord } from './format';

/** Slack (ms) when comparing an event's audio time with the audio received. */
const EPSILON_MS = 0.5;

export class RecordedStt implements SttProvider {
  /** Index of the next recorded event not yet given to any stream. */
  private next = 0;

  constructor(
    private readonly events: readonly { a: number; event: SttEvent }[],
    private readonly clock: Clock,
    readonly turnEvents: boolean,
  ) {}

  async connect(onEvent: (event: SttEvent) => void): Promise<SttStream> {
    const startedAt = this.clock.now();
    while (this.events[this.next] && this.events[this.next]!.a < startedAt - EPSILON_MS) this.next++;
    let receivedMs = startedAt;
    let timer: TimerHandle | undefined;
    let closed = false;
    let due = false;
    const deliver = () => {
      due = false;
      while (!closed) {
        const next = this.events[this.next];
        if (!next) return;
        if (next.a > this.clock.now() + EPSILON_MS) {
          timer = this.clock.setTimeout(deliver, next.a - this.clock.now());
          return;
        }
        if (next.a > receivedMs + EPSILON_MS) {
          // Its time has come but the audio before it has not: it goes with that audio.
          due = true;
          return;
        }
        this.next++;
        onEvent(next.event);
      }
    };
    deliver();
    return {
      sendAudio: (samples) => {
        receivedMs += (samples.length * 1000) / 16_000;
        if (due) deliver();
      },
      finalize: () => undefined,
      close: async () => {
        closed = true;
        this.clock.clearTimeout(timer);
      },
    };
  }
}

/** Default timing for a request when the recording holds no completed reply at all. */
const FALLBACK_TTFT_MS = 350;
const FALLBACK_TOKEN_MS = 20;

export class RecordedLlm implements LlmProvider {
  readonly records: LlmRequestRecord[] = [];
  /** Requests answered with a reply recorded for other words. */
  approximated = 0;
  private readonly replies: LlmRecord[];

  constructor(
    recorded: readonly LlmRecord[],
    private readonly clock: Clock,
  ) {
    this.replies = recorded.filter((r) => r.outcome === 'completed' && r.tokens.length > 0);
  }

  stream(request: LlmRequest): AsyncIterable<LlmChunk> {
    const userWords = userWordsSinceReply(request.messages);
    const match = this.match(userWords);
    if (!match.exact) this.approximated++;
    const tokens: [number, string][] =
      match.record?.tokens ??
      splitTokens(offScriptReply(userWords)).map((text, i) => [
        FALLBACK_TTFT_MS + i * FALLBACK_TOKEN_MS,
        text,
      ]);
    const record: LlmRequestRecord = {
      index: this.records.length,
      startedAt: this.clock.now(),
      userWords,
      onScript: match.exact,
      reply: tokens.map(([, text]) => text).join(''),
      tokensSent: 0,
      firstTokenAt: null,
      endedAt: null,
      outcome: 'pending',
    };
    this.records.push(record);
    return this.run(request, record, tokens);
  }

  /** The recorded reply to the same words (the one nearest in time), else the most overlapping one. */
  private match(userWords: string): { record: LlmRecord | null; exact: boolean } {
    const key = normalizeTranscript(userWords);
    const now = this.clock.now();
    const nearest = (list: LlmRecord[]) =>
      list.reduce<LlmRecord | null>(
        (best, r) => (best === null || Math.abs(r.a - now) < Math.abs(best.a - now) ? r : best),
        null,
      );
    const same = this.replies.filter((r) => normalizeTranscript(r.user_words) === key);
    if (same.length) return { record: nearest(same), exact: true };
    let bestScore = -1;
    let best: LlmRecord[] = [];
    for (const r of this.replies) {
      const score = wordOverlap(r.user_words, userWords);
      if (score > bestScore + 1e-9) {
        bestScore = score;
        best = [r];
      } else if (Math.abs(score - bestScore) <= 1e-9) best.push(r);
    }
    return { record: nearest(best), exact: false };
  }

  private async *run(
    request: LlmRequest,
    record: LlmRequestRecord,
    tokens: readonly [number, string][],
  ): AsyncGenerator<LlmChunk> {
    const { signal } = request;
    try {
      for (const [at, text] of tokens) {
        const wait = record.startedAt + at - this.clock.now();
        if (wait > 0) await sleep(this.clock, wait, signal);
        if (signal.aborted) return;
        record.firstTokenAt ??= this.clock.now();
        record.tokensSent++;
        yield { type: 'token', text };
      }
      if (signal.aborted) return;
      record.outcome = 'completed';
      record.endedAt = this.clock.now();
      yield {
        type: 'usage',
        usage: { promptTokens: promptTokenCount(request.messages), completionTokens: record.tokensSent },
      };
    } finally {
      if (record.outcome === 'pending') {
        record.outcome = 'aborted';
        record.endedAt = this.clock.now();
      }
    }
  }
}

/** Waits `ms` on the clock; resolves early when the signal aborts. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
