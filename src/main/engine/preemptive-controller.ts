import type { PreemptiveSettings } from '../../shared/settings';
import type { SpeculationTrigger } from '../../shared/timeline';
import type { Clock, TimerHandle } from './clock';
import type { Reply } from './reply';
import { wordOverlap } from './text/similarity';
import { normalizeTranscript } from './text/normalize';
import type { TimelineBus } from './timeline-bus';

export interface PreemptiveDeps {
  clock: Clock;
  bus: TimelineBus;
  /** Prepares a speculative reply on a transcript (LLM at once; TTS too with preemptive_tts); not yet started. */
  speculate(transcript: string, trigger: SpeculationTrigger, synthesize: boolean): Reply;
  /** When the user started speaking in this turn, for max_speech_duration. */
  speechStartedAt(): number | null;
  /**
   * Since when the latest audio frames have been silent (no VAD smoothing), or null while the
   * user is speaking: an interim is only trusted once it has stayed unchanged through some silence.
   */
  silentSince(): number | null;
}

/**
 * Speculates a reply while the user may still be speaking (on a stable interim, a final
 * transcript or Flux EagerEndOfTurn), cancels it when the transcript moves on, and at the
 * end of the turn hands back the speculation if the reuse strategy accepts it.
 */
export class PreemptiveController {
  private speculation: Reply | null = null;
  private attempts = 0;
  private stabilityTimer: TimerHandle | undefined;
  /** The latest interim transcript and since when it has been unchanged. */
  private interim: { transcript: string; since: number } | null = null;

  constructor(
    private settings: PreemptiveSettings,
    private readonly deps: PreemptiveDeps,
  ) {}

  updateSettings(settings: PreemptiveSettings): void {
    this.settings = settings;
    if (!this.active) this.cancel('preemptive generation turned off');
  }

  get current(): Reply | null {
    return this.speculation;
  }

  get attemptsThisTurn(): number {
    return this.attempts;
  }

  private get active(): boolean {
    return this.settings.enabled && this.settings.strategy !== 'off';
  }

  /**
   * The turn's transcript changed. A Flux `Update` only cancels a speculation it contradicts:
   * with Flux, EagerEndOfTurn is the signal to speculate on.
   */
  onTranscript(transcript: string, source: 'interim' | 'final' | 'flux_update'): void {
    this.clearInterim();
    if (this.speculation && !this.accepts(this.speculation.transcript, transcript)) {
      this.cancel('transcript changed');
    }
    if (!this.active || !transcript) return;
    if (source === 'final') {
      this.speculate(transcript, 'final');
    } else if (source === 'interim' && this.settings.speculate_on_interim) {
      this.interim = { transcript, since: this.deps.clock.now() };
      this.tryInterim();
    }
  }

  /** The user's audio went quiet: a stable interim may now be speculated on. */
  onUserPaused(): void {
    this.tryInterim();
  }

  /**
   * Speculates on the pending interim once the user has been silent for interim_stability and the
   * interim came during that silence. One heard before the silence began is stale (the STT had not
   * caught up with the last words yet): the interim for them is still to come.
   */
  private tryInterim(): void {
    const interim = this.interim;
    if (!interim) return;
    const silentSince = this.deps.silentSince();
    if (silentSince === null) return; // onUserPaused() comes back here
    if (interim.since < silentSince) return;
    const remaining = silentSince + this.settings.interim_stability * 1000 - this.deps.clock.now();
    if (remaining > 0) {
      this.deps.clock.clearTimeout(this.stabilityTimer);
      this.stabilityTimer = this.deps.clock.setTimeout(() => {
        this.stabilityTimer = undefined;
        this.tryInterim();
      }, remaining);
      return;
    }
    this.interim = null;
    this.speculate(interim.transcript, 'interim');
  }

  private clearInterim(): void {
    this.deps.clock.clearTimeout(this.stabilityTimer);
    this.stabilityTimer = undefined;
    this.interim = null;
  }

  onEagerEndOfTurn(transcript: string): void {
    if (this.active && transcript) this.speculate(transcript, 'eager_end_of_turn');
  }

  onTurnResumed(): void {
    this.clearInterim();
    this.cancel('TurnResumed');
  }

  /**
   * The turn detector judged the pause an unlikely end (the user is not done): the speculation
   * made on it is dropped at once, and it does not count against max_retries, so pauses like this
   * cannot use up the speculations meant for the real end of the turn.
   */
  onEndUnlikely(): void {
    if (!this.speculation) return;
    this.attempts = Math.max(0, this.attempts - 1);
    this.cancel('turn detector: unlikely end of turn');
  }

  /**
   * The turn is over with this final transcript: returns the speculation to speak if the
   * strategy accepts it, otherwise discards it and returns null (the caller regenerates).
   */
  commit(finalTranscript: string): Reply | null {
    this.clearInterim();
    this.attempts = 0;
    const speculation = this.speculation;
    this.speculation = null;
    if (!speculation) return null;
    const usable = !speculation.llmFailed && !speculation.cancelled;
    if (this.active && usable && this.accepts(speculation.transcript, finalTranscript)) {
      this.deps.bus.emit({
        type: 'preemptive_reused',
        request: speculation.id,
        lead: this.deps.clock.now() - speculation.startedAt,
      });
      return speculation;
    }
    const reason = !usable
      ? 'speculative request failed'
      : !this.active
        ? 'preemptive generation is off'
        : 'final transcript differs';
    this.discard(speculation, reason);
    return null;
  }

  /** Drops any speculation (turn dropped, session stopped, barge-in). */
  cancel(reason: string): void {
    const speculation = this.speculation;
    if (!speculation) return;
    this.speculation = null;
    this.deps.bus.emit({ type: 'preemptive_cancelled', request: speculation.id, reason });
    speculation.cancel(reason);
  }

  /** Forgets the turn's retry count (the turn completed or was dropped). */
  resetTurn(reason: string): void {
    this.cancel(reason);
    this.clearInterim();
    this.attempts = 0;
  }

  private speculate(transcript: string, trigger: SpeculationTrigger): void {
    if (this.speculation) {
      if (this.accepts(this.speculation.transcript, transcript)) return;
      this.cancel('transcript changed');
    }
    const started = this.deps.speechStartedAt();
    const now = this.deps.clock.now();
    if (started !== null && now - started > this.settings.max_speech_duration * 1000) {
      this.deps.bus.emit({ type: 'preemptive_skipped', reason: 'max_speech_duration' });
      return;
    }
    if (this.attempts >= this.settings.max_retries) {
      this.deps.bus.emit({ type: 'preemptive_skipped', reason: 'max_retries' });
      return;
    }
    this.attempts++;
    const reply = this.deps.speculate(transcript, trigger, this.settings.preemptive_tts);
    this.speculation = reply;
    this.deps.bus.emit({ type: 'preemptive_started', request: reply.id, trigger, transcript });
    reply.start();
  }

  private discard(speculation: Reply, reason: string): void {
    this.deps.bus.emit({ type: 'preemptive_discarded', request: speculation.id, reason });
    speculation.cancel(reason);
  }

  /** Whether a reply made for `speculated` may stand for `actual`, by the reuse strategy. */
  private accepts(speculated: string, actual: string): boolean {
    switch (this.settings.strategy) {
      case 'exact':
        return normalizeTranscript(speculated) === normalizeTranscript(actual);
      case 'similar':
        return wordOverlap(speculated, actual) >= this.settings.similarity_threshold;
      case 'always':
        return true;
      case 'off':
        return false;
    }
  }
}
