import type { Clock, TimerHandle } from './clock';
import type { AudioOutput } from './ports';
import type { Reply } from './reply';
import type { TimelineBus } from './timeline-bus';

export interface SpokenReply {
  reply: Reply;
  /** What the user actually heard (the whole text when not interrupted; text-only when TTS failed). */
  spokenText: string;
  interrupted: boolean;
  firstAudioAt: number | null;
  playedMs: number;
}

export interface AgentSpeechDeps {
  clock: Clock;
  bus: TimelineBus;
  output: AudioOutput;
  minGapMs: () => number;
  onStarted(reply: Reply, at: number): void;
  onFinished(result: SpokenReply): void;
}

/**
 * Plays committed replies one at a time through the audio output, keeping
 * min_consecutive_speech_delay between utterances, and stops, pauses or resumes
 * the current one for interruptions.
 */
export class AgentSpeech {
  private readonly queue: Reply[] = [];
  private current: Reply | null = null;
  private firstAudioAt: number | null = null;
  private lastFinishedAt = Number.NEGATIVE_INFINITY;
  private gapTimer: TimerHandle | undefined;
  private paused = false;

  constructor(private readonly deps: AgentSpeechDeps) {
    deps.output.setListener({
      onStarted: (id, at) => this.started(id, at),
      onFinished: (id, at) => this.finished(id, at),
    });
  }

  /** A reply is committed (thinking or speaking) and not yet finished. */
  get isActive(): boolean {
    return this.current !== null;
  }

  /** The current reply's audio has started playing. */
  get isPlaying(): boolean {
    return this.current !== null && this.firstAudioAt !== null;
  }

  get currentReply(): Reply | null {
    return this.current;
  }

  /** What the user has heard so far of a reply that is playing ('' for any other). */
  heardSoFar(reply: Reply): string {
    if (reply !== this.current || this.firstAudioAt === null) return '';
    return reply.spokenText(this.deps.output.playedMs(reply.id));
  }

  enqueue(reply: Reply): void {
    // A committed reply is synthesised at once; only its playback waits for its turn.
    reply.startSynthesis();
    this.queue.push(reply);
    if (!this.current) this.next();
  }

  pause(): void {
    if (!this.current || this.paused) return;
    this.paused = true;
    this.deps.output.pause();
    this.deps.bus.emit({ type: 'agent_speech_paused', request: this.current.id, turn: this.current.turn });
  }

  resume(): void {
    if (!this.current || !this.paused) return;
    this.paused = false;
    this.deps.output.resume();
    this.deps.bus.emit({ type: 'agent_speech_resumed', request: this.current.id, turn: this.current.turn });
  }

  /** Stops the current reply at once and drops queued ones; history gets what was heard. */
  interrupt(reason: string): void {
    for (const queued of this.queue.splice(0)) {
      queued.cancel(reason);
      this.deps.onFinished({
        reply: queued,
        spokenText: '',
        interrupted: true,
        firstAudioAt: null,
        playedMs: 0,
      });
    }
    const reply = this.current;
    if (!reply) return;
    this.current = null;
    this.paused = false;
    this.deps.clock.clearTimeout(this.gapTimer);
    const playedMs = this.deps.output.clear(reply.id);
    this.deps.output.resume();
    reply.cancel(reason);
    const heard = this.firstAudioAt === null ? 0 : playedMs;
    const spokenText = reply.spokenText(heard);
    this.lastFinishedAt = this.deps.clock.now();
    // Recorded first, so whoever reads the session report on this event finds the reply's end in it.
    this.deps.onFinished({
      reply,
      spokenText,
      interrupted: true,
      firstAudioAt: this.firstAudioAt,
      playedMs: heard,
    });
    this.deps.bus.emit({
      type: 'agent_speech_ended',
      request: reply.id,
      interrupted: true,
      played_ms: Math.round(heard),
      spoken_text: spokenText,
      turn: reply.turn,
    });
    this.firstAudioAt = null;
  }

  private next(): void {
    const reply = this.queue.shift();
    if (!reply) return;
    this.current = reply;
    this.firstAudioAt = null;
    const wait = this.lastFinishedAt + this.deps.minGapMs() - this.deps.clock.now();
    const attach = () => {
      this.gapTimer = undefined;
      if (this.current !== reply) return;
      reply.attach({
        audio: (audio) => this.deps.output.write(reply.id, audio),
        end: () => this.deps.output.end(reply.id),
      });
    };
    if (wait > 0) this.gapTimer = this.deps.clock.setTimeout(attach, wait);
    else attach();
  }

  private started(id: number, at: number): void {
    const reply = this.current;
    if (!reply || reply.id !== id) return;
    this.firstAudioAt = at;
    // Metrics first, so listeners of the event already see the turn's e2e latency.
    this.deps.onStarted(reply, at);
    this.deps.bus.emit({
      type: 'agent_speech_started',
      request: id,
      text_so_far: reply.text,
      turn: reply.turn,
    });
  }

  private finished(id: number, at: number): void {
    const reply = this.current;
    if (!reply || reply.id !== id) return;
    this.current = null;
    this.lastFinishedAt = at;
    // Played to the end: all of its audio was heard (pauses and underruns are not playing time).
    const playedMs = reply.audioDurationMs;
    // When synthesis failed the text still reaches the conversation, all of it.
    const spokenText = reply.ttsFailed || !reply.hasAudio ? reply.text : reply.spokenText(playedMs);
    this.deps.onFinished({
      reply,
      spokenText,
      interrupted: false,
      firstAudioAt: this.firstAudioAt,
      playedMs,
    });
    this.deps.bus.emit({
      type: 'agent_speech_ended',
      request: id,
      interrupted: false,
      played_ms: Math.round(playedMs),
      spoken_text: spokenText,
      turn: reply.turn,
    });
    this.firstAudioAt = null;
    this.next();
  }
}
