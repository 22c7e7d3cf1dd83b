import type { InterruptionSettings } from '../../shared/settings';
import type { Clock, TimerHandle } from './clock';
import type { InterruptionClassifier } from './ports';
import type { TimelineBus } from './timeline-bus';

/** What the interruption handler may do to the agent's speech. */
export interface AgentControl {
  /** A reply is committed and not finished (thinking or speaking). */
  isActive(): boolean;
  /** Its audio has started playing. */
  isPlaying(): boolean;
  pause(): void;
  resume(): void;
  /** Stops the reply at once, cancels it and truncates history to what was heard. */
  interrupt(reason: string): void;
}

type State =
  | { kind: 'idle' }
  /** The user speaks over the agent; not yet long enough (min_duration) or wordy enough (min_words). */
  | { kind: 'candidate'; durationReached: boolean; classifying: boolean }
  /** Interruption detected, agent paused, waiting for words (true) or silence (false). */
  | { kind: 'paused'; timer: TimerHandle | undefined }
  /** Agent already stopped (resume off); waiting only to report true or false. */
  | { kind: 'stopped'; timer: TimerHandle | undefined };

/**
 * Decides whether user speech during an agent reply is a real barge-in, following
 * LiveKit's options: min_duration, min_words, false_interruption_timeout and
 * resume_false_interruption. Mode `adaptive` consults a classifier when one is installed.
 */
export class InterruptionHandler {
  private state: State = { kind: 'idle' };
  private words = 0;
  private transcript = '';
  /** Speech (ms, silence excluded) in the user's current utterance. */
  private speechMs = 0;
  private userSpeaking = false;
  /** The reply was paused before a sample of it was heard, because the user started speaking again. */
  private held = false;

  constructor(
    private settings: InterruptionSettings,
    private readonly deps: {
      clock: Clock;
      bus: TimelineBus;
      agent: AgentControl;
      classifier?: InterruptionClassifier | undefined;
    },
  ) {}

  updateSettings(settings: InterruptionSettings): void {
    this.settings = settings;
  }

  onUserSpeechStarted(): void {
    this.userSpeaking = true;
    if (this.state.kind === 'stopped' && this.deps.agent.isActive()) {
      // A new reply is playing: the stopped one's verdict no longer matters.
      this.deps.clock.clearTimeout(this.state.timer);
      this.state = { kind: 'idle' };
    }
    if (this.state.kind === 'paused' || this.state.kind === 'stopped') {
      this.deps.clock.clearTimeout(this.state.timer);
      this.state.timer = undefined;
      return;
    }
    if (!this.settings.enabled || !this.deps.agent.isActive() || this.state.kind !== 'idle') return;
    this.words = 0;
    this.transcript = '';
    this.speechMs = 0;
    this.state = { kind: 'candidate', durationReached: false, classifying: false };
    if (!this.deps.agent.isPlaying()) {
      // The user may be going on with their turn: keep the reply silent until that is settled,
      // rather than let it start over their words.
      this.deps.agent.pause();
      this.held = true;
    }
  }

  /** How much speech (ms, silent frames excluded) the user's current utterance holds so far. */
  onUserSpeechProgress(speechMs: number): void {
    this.speechMs = speechMs;
    const state = this.state;
    if (state.kind !== 'candidate' || state.durationReached) return;
    if (speechMs >= this.settings.min_duration * 1000) {
      state.durationReached = true;
      this.check();
    }
  }

  onUserSpeechEnded(): void {
    this.userSpeaking = false;
    const state = this.state;
    if (state.kind === 'candidate') {
      if (state.classifying) return; // the classifier decides; detected() handles the silence
      this.state = { kind: 'idle' };
      const reason = state.durationReached
        ? `fewer than min_words (${this.settings.min_words}) words`
        : `shorter than min_duration (${this.settings.min_duration} s)`;
      this.deps.bus.emit({ type: 'interruption', kind: 'ignored', reason });
      this.releaseHold();
    } else if (state.kind === 'paused' || state.kind === 'stopped') {
      this.startFalseTimer(state);
    }
  }

  /** Words transcribed in the user's current speech. */
  onUserTranscript(transcript: string, wordCount: number): void {
    this.transcript = transcript;
    this.words = wordCount;
    const state = this.state;
    if (state.kind === 'candidate') this.check();
    else if (
      (state.kind === 'paused' || state.kind === 'stopped') &&
      wordCount >= Math.max(1, this.settings.min_words)
    ) {
      this.deps.clock.clearTimeout(state.timer);
      this.state = { kind: 'idle' };
      this.deps.bus.emit({ type: 'interruption', kind: 'true', reason: `user said "${transcript}"` });
      if (state.kind === 'paused') this.deps.agent.interrupt('barge-in');
    }
  }

  /** The agent's reply ended (finished or interrupted): nothing left to interrupt. */
  onAgentIdle(): void {
    this.held = false;
    const state = this.state;
    if (state.kind === 'paused') this.deps.clock.clearTimeout(state.timer);
    if (state.kind === 'candidate' || state.kind === 'paused') this.state = { kind: 'idle' };
  }

  private check(): void {
    const state = this.state;
    if (state.kind !== 'candidate' || !state.durationReached) return;
    if (!this.deps.agent.isActive()) {
      this.state = { kind: 'idle' };
      return;
    }
    if (this.settings.min_words > 0 && this.words < this.settings.min_words) return;
    const classifier = this.settings.mode === 'adaptive' ? this.deps.classifier : undefined;
    if (!classifier) {
      this.detected();
      return;
    }
    state.classifying = true;
    void classifier
      .isInterruption({ transcript: this.transcript, speechMs: this.speechMs })
      .catch(() => true)
      .then((isInterruption) => {
        if (this.state !== state) return;
        if (isInterruption) this.detected();
        else {
          this.state = { kind: 'idle' };
          this.deps.bus.emit({
            type: 'interruption',
            kind: 'ignored',
            reason: 'classified as a backchannel',
          });
          this.releaseHold();
        }
      });
  }

  private releaseHold(): void {
    if (!this.held) return;
    this.held = false;
    if (this.deps.agent.isActive()) this.deps.agent.resume();
  }

  private detected(): void {
    const agent = this.deps.agent;
    this.held = false;
    this.deps.bus.emit({
      type: 'interruption',
      kind: 'detected',
      reason: `user spoke over the agent for ${this.settings.min_duration} s`,
    });
    if (!agent.isPlaying()) {
      this.state = { kind: 'idle' };
      this.deps.bus.emit({
        type: 'interruption',
        kind: 'true',
        reason: 'user spoke before the reply was heard',
      });
      agent.interrupt('user spoke before the reply was heard');
      return;
    }
    if (this.words > 0) {
      this.state = { kind: 'idle' };
      this.deps.bus.emit({ type: 'interruption', kind: 'true', reason: `user said "${this.transcript}"` });
      agent.interrupt('barge-in');
      return;
    }
    if (this.settings.resume_false_interruption) {
      agent.pause();
      this.state = { kind: 'paused', timer: undefined };
    } else {
      agent.interrupt('barge-in');
      this.state = { kind: 'stopped', timer: undefined };
    }
    if (!this.userSpeaking) this.startFalseTimer(this.state);
  }

  private startFalseTimer(state: State & { kind: 'paused' | 'stopped' }): void {
    this.deps.clock.clearTimeout(state.timer);
    state.timer = this.deps.clock.setTimeout(() => {
      state.timer = undefined;
      if (this.state !== state) return;
      this.state = { kind: 'idle' };
      const canResume = state.kind === 'paused' && this.deps.agent.isActive();
      this.deps.bus.emit({
        type: 'interruption',
        kind: 'false',
        reason: canResume
          ? `no words within false_interruption_timeout (${this.settings.false_interruption_timeout} s)`
          : 'no words, but the reply was already stopped (resume_false_interruption is off)',
      });
      if (canResume) {
        this.deps.agent.resume();
        this.deps.bus.emit({ type: 'interruption', kind: 'resumed', reason: 'false interruption' });
      }
    }, this.settings.false_interruption_timeout * 1000);
  }
}
