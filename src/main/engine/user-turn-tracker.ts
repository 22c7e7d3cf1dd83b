import type { TurnHandlingSettings } from '../../shared/settings';
import type { ChatMessage } from '../../shared/report';
import type { Clock, TimerHandle } from './clock';
import type { EndpointingPolicy } from './endpointing';
import type { SttEvent, SttWord, TurnDetector, TurnDetectorVerdict } from './ports';
import type { TimelineBus } from './timeline-bus';
import { TurnTranscript } from './turn-transcript';

export interface TurnTrackerListener {
  onStartOfTurn(): void;
  /** The turn's transcript so far changed (finals plus the current interim). */
  onTranscript(transcript: string, source: 'interim' | 'final'): void;
  onEagerEndOfTurn(transcript: string): void;
  onTurnResumed(): void;
  /** The turn detector judged this transcript, at the current pause, an unlikely end (a veto). */
  onEndUnlikely(transcript: string): void;
  onEndOfTurn(transcript: string): void;
  /** A turn with speech but no words (a cough, a noise) was dropped. */
  onTurnDropped(reason: string): void;
}

export interface TurnTrackerDeps {
  clock: Clock;
  bus: TimelineBus;
  endpointing: EndpointingPolicy;
  /** Used in `model` mode. */
  detector: TurnDetector;
  history: () => readonly ChatMessage[];
  /**
   * The user's audio captured between two clock times (ms), at most 8 s ending at `to`, for an
   * audio turn detector; undefined or empty when there is none.
   */
  turnAudio: (from: number, to: number) => Int16Array | undefined;
  /**
   * Since when the microphone frames have been silent (no VAD smoothing), or null while they hold
   * speech: where the user's speech really stopped, before the VAD's min_silence_duration says so.
   */
  silentSince: () => number | null;
  listener: TurnTrackerListener;
}

/** Extra time allowed for a lagging final transcript before committing with the interim text. */
const TRANSCRIPT_GRACE_MS = 1000;
/** Audio before the turn's first speech given to an audio turn detector (VAD onset lag). */
const DETECTOR_AUDIO_LEAD_MS = 200;
/**
 * Silence after the last speech given to an audio turn detector: Smart Turn is run by its authors
 * when the VAD has heard 200 ms of silence, so it sees the same ending whatever min_silence_duration is.
 */
const DETECTOR_AUDIO_TAIL_MS = 200;
/** Longest audio given to an audio turn detector (Smart Turn reads the last 8 s). */
const DETECTOR_AUDIO_MS = 8000;
/**
 * Push-to-talk released with speech the STT has not finalised: the longest wait for its answer is
 * this, plus FINALIZE_WAIT_PER_SPEECH of the unfinalised speech (capped by max_delay). Deepgram
 * answers a Finalize within its final-result latency when it holds speech, and may not answer at
 * all otherwise; then the turn commits on what was heard.
 */
const FINALIZE_WAIT_BASE_MS = 400;
const FINALIZE_WAIT_PER_SPEECH = 0.25;

interface DetectorVerdict {
  /** The transcript and the end of speech it judged. */
  key: string;
  likelyEnd: boolean;
}

/**
 * Follows the user's turn from VAD and STT events and decides when it is over, by the
 * configured turn detection mode (vad, stt, manual, model) and endpointing delays.
 * It knows nothing of replies: it reports turn events and the session acts on them.
 */
export class UserTurnTracker {
  private active = false;
  private readonly said = new TurnTranscript();
  private speaking = false;
  private speechStartedAt: number | null = null;
  private lastSpeechEndAt: number | null = null;
  /** A silence of decision_silence inside the VAD's speech began here (model mode); null otherwise. */
  private pauseAt: number | null = null;
  private providerEndAt: number | null = null;
  private pttHeld = false;
  /** Muted: nothing the user says is heard (the open turn, if any, still completes). */
  private muted = false;
  private pttReleasedAt: number | null = null;
  /** The longest wait for the STT's answer to the Finalize sent at the release. */
  private finalizeWaitMs = 0;
  /** Push-to-talk released with unfinalised speech, and the STT has not answered the Finalize yet. */
  private awaitingFinalize = false;
  /** When the transcript last became settled (a final with nothing pending, or a Flux draft). */
  private settledAt: number | null = null;
  private waitTimer: TimerHandle | undefined;
  private waitUntil: number | null = null;
  private verdict: DetectorVerdict | null = null;
  private pendingDetection: string | null = null;
  /** The turn's audio up to the latest end of speech, taken once per end of speech. */
  private detectorAudio: { speechEnd: number; audio: Int16Array | undefined } | null = null;

  constructor(
    private settings: TurnHandlingSettings,
    private readonly deps: TurnTrackerDeps,
  ) {
    // A detector that falls back by itself (its model unavailable) says so once on the timeline.
    deps.detector.onWarning?.((message) =>
      deps.bus.emit({ type: 'error', source: 'turn_detector', message, recoverable: true }),
    );
  }

  updateSettings(settings: TurnHandlingSettings): void {
    this.settings = settings;
    this.deps.endpointing.update(settings.endpointing);
    this.verdict = null;
    this.evaluate();
  }

  get isActive(): boolean {
    return this.active;
  }

  get isUserSpeaking(): boolean {
    return this.speaking;
  }

  /** When the user began speaking in the current turn (for preemption's max_speech_duration). */
  get turnSpeechStartedAt(): number | null {
    return this.speechStartedAt;
  }

  get lastSpeechEnd(): number | null {
    return this.lastSpeechEndAt;
  }

  get transcript(): string {
    return this.said.text;
  }

  /**
   * The open turn continues an earlier one that ended too soon (the user went on before the reply
   * was heard): its transcript is carried in front of what this turn hears.
   */
  continueFrom(earlier: string): void {
    if (!this.active || !earlier) return;
    this.said.continueFrom(earlier);
    this.emitTurnEvent('TurnResumed');
  }

  private get mode() {
    return this.settings.turn_detection;
  }

  private get settled(): boolean {
    return this.said.settled;
  }

  // ---------- inputs ----------

  onSpeechStarted(at: number): void {
    if (this.muted || (this.mode === 'manual' && !this.pttHeld)) return;
    if (!this.active) this.startTurn();
    else if (this.lastSpeechEndAt !== null && this.mode !== 'manual') {
      this.deps.endpointing.observePause(at - this.lastSpeechEndAt);
    }
    this.speaking = true;
    this.pauseAt = null;
    this.speechStartedAt ??= at;
    this.cancelWait('user resumed speaking');
  }

  onSpeechEnded(at: number): void {
    if (!this.speaking) return;
    this.speaking = false;
    this.pauseAt = null;
    this.lastSpeechEndAt = at;
    this.evaluate();
  }

  /**
   * The user has been silent for decision_silence since `at`, though the VAD has not yet ended
   * their speech: in model mode the turn detector judges the turn now, and a likely end commits
   * min_delay after `at`. An unlikely end waits for the VAD's end of speech as before.
   */
  onPause(at: number): void {
    if (!this.active || !this.speaking || this.mode !== 'model') return;
    this.pauseAt = at;
    this.deps.bus.emit({ type: 'user_paused', at });
    this.evaluate();
  }

  /** Speech resumed after onPause, within the VAD's speech: the turn goes on. */
  onPauseEnded(): void {
    if (this.pauseAt === null) return;
    if (this.mode !== 'manual') this.deps.endpointing.observePause(this.deps.clock.now() - this.pauseAt);
    this.pauseAt = null;
    this.cancelWait('user resumed speaking');
  }

  onStt(event: SttEvent): void {
    if (this.muted && !this.active) return;
    if (this.mode === 'manual' && !this.pttHeld && this.pttReleasedAt === null) return;
    switch (event.type) {
      case 'interim':
        this.setInterim(this.said.newInNova(event.transcript, event.words, false), event.words);
        break;
      case 'final': {
        const answersFinalize = event.fromFinalize === true && this.pttReleasedAt !== null;
        const text = this.said.newInNova(event.transcript, event.words, true);
        if (text || this.active) this.addFinal(text, event.speechFinal);
        if (answersFinalize) {
          this.awaitingFinalize = false;
          this.evaluate();
        }
        if (event.speechFinal) this.providerEnded();
        break;
      }
      case 'utterance_end':
        if (this.active) this.providerEnded();
        break;
      case 'speech_started':
        break;
      case 'turn': {
        const text = this.said.newInFlux(event.turnIndex, event.transcript, event.event);
        if (text === null) break; // about a Flux turn the engine has already committed
        this.onFluxTurn(event.event, event.turnIndex, text, event.confidence);
        break;
      }
      case 'error':
        break;
    }
  }

  pushToTalk(pressed: boolean): void {
    if (pressed === this.pttHeld) return;
    this.pttHeld = pressed;
    if (pressed) {
      if (this.active) this.commitOrDrop();
      this.startTurn();
      this.pttReleasedAt = null;
    } else if (this.active) {
      const now = this.deps.clock.now();
      this.pttReleasedAt = now;
      const speechEnd = this.speechStoppedAt(now);
      this.finalizeWaitMs = this.finalizeWait(speechEnd);
      this.awaitingFinalize = this.finalizeWaitMs > 0;
      this.speaking = false;
      this.lastSpeechEndAt = Math.max(this.lastSpeechEndAt ?? speechEnd, speechEnd);
      this.evaluate();
    }
  }

  /** When the user's speech stopped, as of `now`: the frames' silence, else the VAD's end of speech. */
  private speechStoppedAt(now: number): number {
    const silentSince = this.deps.silentSince();
    if (silentSince === null) return now;
    return this.speaking ? silentSince : Math.min(silentSince, this.lastSpeechEndAt ?? silentSince);
  }

  /**
   * How long to wait for the STT's answer to the Finalize sent at release: nothing when all the
   * speech heard is settled already (Deepgram may not answer at all then), otherwise a bound that
   * grows with the speech not settled yet.
   */
  private finalizeWait(speechEnd: number): number {
    const unsettledFrom = Math.max(this.settledAt ?? -Infinity, this.speechStartedAt ?? -Infinity);
    const unsettledMs = Number.isFinite(unsettledFrom) ? Math.max(0, speechEnd - unsettledFrom) : 0;
    if (unsettledMs === 0 && !this.said.hasUnsettledWords) return 0;
    const bound = FINALIZE_WAIT_BASE_MS + unsettledMs * FINALIZE_WAIT_PER_SPEECH;
    return Math.min(bound, this.settings.endpointing.max_delay * 1000);
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    if (muted && this.active && this.speaking) {
      // Muting ends the user's speech here; the turn completes with what was heard.
      this.speaking = false;
      this.lastSpeechEndAt = this.deps.clock.now();
      this.evaluate();
    }
  }

  /** Forgets the open turn (session stop or settings change that restarts listening). */
  reset(): void {
    this.cancelWait('reset');
    this.clearTurn();
    this.said.reset();
  }

  // ---------- transcript bookkeeping ----------

  /**
   * A Flux event, its transcript without the words an earlier commit took. Flux's transcript is the
   * turn's: Update is a reading, EagerEndOfTurn a draft final that settles the turn as a final
   * would (TurnResumed takes it back), EndOfTurn the final.
   */
  private onFluxTurn(name: string, fluxTurn: number, transcript: string, confidence?: number): void {
    if (name === 'StartOfTurn' || this.active) this.said.startFluxTurn(fluxTurn);
    switch (name) {
      case 'StartOfTurn':
        if (!this.active) {
          this.startTurn();
          this.said.startFluxTurn(fluxTurn);
        }
        break;
      case 'Update':
        // After EagerEndOfTurn only TurnResumed takes the draft back; an Update repeating it does not.
        if (this.setInterim(transcript) && this.said.isDraft) this.said.setDraft(false);
        break;
      case 'EagerEndOfTurn':
        this.setInterim(transcript);
        if (!this.active) break;
        // Flux has no Finalize: its own end of turn answers a push-to-talk release.
        if (this.pttReleasedAt !== null) this.awaitingFinalize = false;
        this.said.setDraft(true);
        this.settledAt = this.deps.clock.now();
        this.emitTurnEvent('EagerEndOfTurn', confidence);
        this.deps.listener.onEagerEndOfTurn(this.transcript);
        this.evaluate();
        break;
      case 'TurnResumed':
        if (!this.active) break;
        this.said.setDraft(false);
        this.emitTurnEvent('TurnResumed', confidence);
        this.deps.listener.onTurnResumed();
        this.providerEndAt = null;
        this.cancelWait('TurnResumed');
        break;
      case 'EndOfTurn':
        if (this.pttReleasedAt !== null) this.awaitingFinalize = false;
        this.addFinal(transcript, true);
        this.providerEnded();
        break;
    }
  }

  /** A new reading of the words not final yet; false when it changes nothing. */
  private setInterim(text: string, words?: readonly SttWord[]): boolean {
    const trimmed = text.trim();
    if (!this.active) {
      if (!trimmed) return false;
      this.startTurn();
    }
    if (!this.said.setInterim(trimmed, words)) return false;
    if (trimmed) this.providerEndAt = null;
    this.deps.bus.emit({ type: 'transcript_interim', text: trimmed });
    this.transcriptChanged('interim');
    return true;
  }

  private addFinal(text: string, speechFinal: boolean): void {
    const trimmed = text.trim();
    if (!trimmed && !this.said.hasUnsettledWords && !this.said.isDraft) return;
    if (!this.active) {
      if (!trimmed) return;
      this.startTurn();
    }
    this.said.addFinal(trimmed);
    if (this.said.settled) this.settledAt = this.deps.clock.now();
    this.deps.bus.emit({ type: 'transcript_final', text: trimmed, speech_final: speechFinal });
    this.transcriptChanged('final');
  }

  private transcriptChanged(source: 'interim' | 'final'): void {
    this.emitTurnEvent('Update');
    this.deps.listener.onTranscript(this.transcript, source);
    this.evaluate();
  }

  private providerEnded(): void {
    if (!this.active) return;
    this.providerEndAt = this.deps.clock.now();
    this.evaluate();
  }

  // ---------- deciding the end of the turn ----------

  private evaluate(): void {
    if (!this.active) return;
    const now = this.deps.clock.now();
    if (this.mode === 'manual') {
      if (this.pttHeld || this.pttReleasedAt === null) return;
      // Released: commit on what was heard, once the STT has answered the Finalize (or the wait for
      // its answer is over; the deadline commits then).
      if (!this.awaitingFinalize) this.commitOrDrop();
      else
        this.waitFor(
          this.pttReleasedAt + this.finalizeWaitMs,
          'push-to-talk released: waiting for the final transcript',
          this.finalizeWaitMs,
        );
      return;
    }
    if (this.mode === 'stt') {
      if (this.providerEndAt === null) {
        this.cancelWait('no end of turn from the provider');
        return;
      }
      const delay = this.deps.endpointing.delayMs(true);
      this.waitFor(this.providerEndAt + delay, 'provider end of turn + min_delay', delay);
      return;
    }
    const early = this.speaking && this.pauseAt !== null;
    const silenceStart = early ? this.pauseAt : this.speaking ? null : this.lastSpeechEndAt;
    if (silenceStart === null) return;
    const maxWait = this.settings.endpointing.max_delay * 1000;
    // At a short pause only a final transcript is judged: an interim may lag the speech by a second.
    if (early && (!this.transcript || !this.settled)) return;
    if (!this.transcript) {
      // Speech with no words yet: wait for the transcript, but drop the turn if none ever comes.
      this.waitFor(silenceStart + maxWait + TRANSCRIPT_GRACE_MS, 'waiting for a transcript', maxWait);
      return;
    }
    let likelyEnd = true;
    let reason = 'silence (vad mode)';
    if (this.mode === 'model') {
      const verdict = this.verdictFor(this.transcript, silenceStart);
      if (!verdict) return; // the detector is running; evaluate() runs again with its answer
      likelyEnd = verdict.likelyEnd;
      reason = likelyEnd ? 'likely end of turn' : 'unlikely end of turn';
      // Judged at a short pause: only a likely end acts before the VAD ends the speech.
      if (early && !likelyEnd) {
        this.cancelWait('unlikely end of turn');
        return;
      }
      if (early)
        reason = `likely end of turn after ${this.settings.turn_detector.decision_silence * 1000} ms of silence`;
    }
    const delay = this.deps.endpointing.delayMs(likelyEnd);
    const until = silenceStart + delay;
    if (this.settled || until > now) this.waitFor(until, reason, delay);
    else
      this.waitFor(
        silenceStart + maxWait + TRANSCRIPT_GRACE_MS,
        `${reason}, final transcript is late`,
        delay,
      );
  }

  /**
   * The detector's verdict on the transcript as of the latest end of speech; null while it is being
   * computed (evaluate() runs again with the answer). Nothing here waits for the detector: audio
   * and STT events go on meanwhile.
   */
  private verdictFor(transcript: string, silenceStart: number): DetectorVerdict | null {
    const key = `${silenceStart}|${transcript}`;
    if (this.verdict?.key === key) return this.verdict;
    if (this.pendingDetection === key) return null;
    this.pendingDetection = key;
    const detector = this.deps.detector;
    const threshold = this.settings.turn_detector.threshold;
    const audio = this.audioForDetector(silenceStart);
    const input = { transcript, history: this.deps.history(), ...(audio?.length ? { audio } : {}) };
    const verdict: Promise<TurnDetectorVerdict> = detector.explainEndOfTurn
      ? detector.explainEndOfTurn(input)
      : detector.predictEndOfTurn(input).then((probability) => ({ probability, source: detector.name }));
    verdict
      .catch((error: unknown) => {
        this.deps.bus.emit({
          type: 'error',
          source: 'turn_detector',
          message: `${detector.name} failed, treating the end as likely: ${String(error)}`,
          recoverable: true,
        });
        return { probability: 1, source: detector.name };
      })
      .then(({ probability, source }) => {
        if (this.pendingDetection !== key) return;
        this.pendingDetection = null;
        const likelyEnd = probability >= threshold;
        this.verdict = { key, likelyEnd };
        this.deps.bus.emit({
          type: 'turn_detector_decision',
          probability,
          threshold,
          likely_end: likelyEnd,
          source,
        });
        if (!likelyEnd) this.deps.listener.onEndUnlikely(transcript);
        this.evaluate();
      });
    return null;
  }

  /**
   * The current turn's audio for an audio detector: from just before its first speech to 200 ms
   * after its latest end of speech, at most the last 8 s. Taken once per end of speech, so a
   * transcript arriving later is judged on the same audio (and a model can answer from its cache).
   */
  private audioForDetector(speechEnd: number): Int16Array | undefined {
    if (this.detectorAudio?.speechEnd !== speechEnd) {
      const to = speechEnd + DETECTOR_AUDIO_TAIL_MS;
      const start = this.speechStartedAt === null ? -Infinity : this.speechStartedAt - DETECTOR_AUDIO_LEAD_MS;
      const from = Math.max(start, to - DETECTOR_AUDIO_MS);
      this.detectorAudio = { speechEnd, audio: this.deps.turnAudio(from, to) };
    }
    return this.detectorAudio.audio;
  }

  private waitFor(until: number, reason: string, delay: number): void {
    const now = this.deps.clock.now();
    if (this.waitUntil === until && this.waitTimer) return;
    this.clearWaitTimer();
    this.waitUntil = until;
    this.deps.bus.emit({ type: 'endpointing_wait_started', delay, until, reason });
    this.waitTimer = this.deps.clock.setTimeout(
      () => {
        this.waitTimer = undefined;
        this.waitUntil = null;
        this.deadlineReached();
      },
      Math.max(0, until - now),
    );
  }

  private deadlineReached(): void {
    if (!this.active) return;
    if (this.mode !== 'manual' && this.mode !== 'stt' && !this.settled && this.transcript) {
      // Past the endpointing wait but the final transcript lags: give it a grace period, then use the interim.
      const silenceStart = this.lastSpeechEndAt ?? this.deps.clock.now();
      const grace = silenceStart + this.settings.endpointing.max_delay * 1000 + TRANSCRIPT_GRACE_MS;
      if (this.deps.clock.now() < grace) {
        this.waitFor(grace, 'final transcript is late', 0);
        return;
      }
    }
    this.commitOrDrop();
  }

  private cancelWait(reason: string): void {
    if (!this.waitTimer) return;
    this.clearWaitTimer();
    this.deps.bus.emit({ type: 'endpointing_wait_cancelled', reason });
  }

  private clearWaitTimer(): void {
    this.deps.clock.clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.waitUntil = null;
  }

  private commitOrDrop(): void {
    const transcript = this.transcript;
    this.clearWaitTimer();
    if (!transcript) {
      this.clearTurn();
      this.deps.listener.onTurnDropped('no words were transcribed');
      return;
    }
    this.deps.bus.emit({ type: 'turn_event', event: 'EndOfTurn', transcript });
    this.said.commit();
    this.clearTurn();
    this.deps.listener.onEndOfTurn(transcript);
  }

  private startTurn(): void {
    this.clearTurn();
    this.active = true;
    this.deps.bus.currentTurn++;
    this.deps.bus.emit({ type: 'turn_event', event: 'StartOfTurn', transcript: '' });
    this.deps.listener.onStartOfTurn();
  }

  private clearTurn(): void {
    this.active = false;
    this.said.clear();
    this.settledAt = null;
    this.lastSpeechEndAt = null;
    this.pauseAt = null;
    this.providerEndAt = null;
    this.verdict = null;
    this.pendingDetection = null;
    this.detectorAudio = null;
    this.awaitingFinalize = false;
    this.finalizeWaitMs = 0;
    this.pttReleasedAt = null;
    this.speechStartedAt = this.speaking ? this.deps.clock.now() : null;
  }

  private emitTurnEvent(event: 'Update' | 'EagerEndOfTurn' | 'TurnResumed', confidence?: number): void {
    this.deps.bus.emit({
      type: 'turn_event',
      event,
      transcript: this.transcript,
      ...(confidence === undefined ? {} : { confidence }),
    });
  }
}
