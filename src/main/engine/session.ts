import type { ChatMessage, SessionReport } from '../../shared/report';
import { parseSettings, type Settings, type SettingsInput, type VadSettings } from '../../shared/settings';
import type { TimelineEvent } from '../../shared/timeline';
import { AgentSpeech, type SpokenReply } from './agent-speech';
import type { Clock } from './clock';
import { EndpointingPolicy } from './endpointing';
import { InterruptionHandler } from './interruption';
import {
  SAMPLE_RATE,
  type AudioFrame,
  type AudioOutput,
  type InterruptionClassifier,
  type LlmProvider,
  type SttEvent,
  type SttProvider,
  type SttStream,
  type TtsProvider,
  type TurnDetector,
} from './ports';
import { PreemptiveController } from './preemptive-controller';
import { Reply, errorMessage } from './reply';
import { SessionRecorder } from './session-recorder';
import { HeuristicTurnDetector } from './text/heuristic-turn-detector';
import { words } from './text/normalize';
import { TimelineBus, type TimelineListener } from './timeline-bus';
import { UserTurnTracker } from './user-turn-tracker';

/** What the session needs from voice activity detection (the Silero detector in production). */
export type VadEvent =
  | { type: 'probability'; at: number; probability: number; speaking: boolean }
  | { type: 'speech_started'; at: number; detectedAt: number }
  | { type: 'speech_ended'; at: number; detectedAt: number; durationMs: number };

export interface VadStage {
  process(frame: AudioFrame): Promise<VadEvent[]>;
  /** The last `ms` of audio received (up to 8 s), for an audio turn detector. */
  recentAudio(ms: number): Int16Array;
  /** Applies new thresholds and durations from the next frame on. */
  updateSettings?(settings: VadSettings): void;
  reset(): void;
}

export interface VoiceSessionDeps {
  clock: Clock;
  vad: VadStage;
  stt: SttProvider;
  llm: LlmProvider;
  tts: TtsProvider;
  output: AudioOutput;
  /** Used in `model` turn detection; defaults to the transcript heuristic. */
  turnDetector?: TurnDetector;
  interruptionClassifier?: InterruptionClassifier;
}

/** Most chat messages kept for LLM context; older ones are dropped first. */
const HISTORY_LIMIT = 200;
/**
 * Speech starting sooner than this after a reply became audible was not an answer to it (people
 * take about 200 ms to start answering what they hear; the rest allows for VAD onset lag).
 */
const REACTION_TIME_MS = 400;
/** Longest gap between VAD frames counted as one frame of speech. */
const MAX_FRAME_MS = 100;
/** Longest audio given to an audio turn detector. */
const DETECTOR_AUDIO_MS = 8000;

/**
 * The voice session: the one place that knows every engine part. Audio goes to VAD
 * and STT; the turn tracker decides when the user is done; the preemptive controller
 * speculates and reuses replies; agent speech plays them; the interruption handler
 * lets the user cut in. Every step is published as a timeline event.
 */
export class VoiceSession {
  readonly bus: TimelineBus;
  private settings: Settings;
  private readonly endpointing: EndpointingPolicy;
  private readonly tracker: UserTurnTracker;
  private readonly preemptive: PreemptiveController;
  private readonly speech: AgentSpeech;
  private readonly interruption: InterruptionHandler;
  private readonly recorder: SessionRecorder;
  private readonly history: ChatMessage[] = [];
  /** The latest committed user turn, in case the user goes on before its reply is heard. */
  private lastCommitted: { turn: number; transcript: string; message: ChatMessage; reply: Reply } | null =
    null;
  /** History entries of replies being heard right now. */
  private readonly speaking = new Map<Reply, ChatMessage>();
  private stt: SttStream | undefined;
  private nextRequestId = 1;
  private running = false;
  private pttHeld = false;
  private muted = false;
  /** Raw frame-level speech (threshold hysteresis, no duration smoothing). */
  private frameSpeech = false;
  private frameSilenceSince = 0;
  private lastFrameAt = 0;
  /** Capture time just after the last sample handed to the VAD (the end of its recent audio). */
  private audioEndAt: number | null = null;
  /** Speech (ms, silent frames excluded) in the user's current utterance, for min_duration. */
  private utteranceSpeechMs: number | null = null;
  /** Capture time the current silence within the VAD's speech began (null while speech goes on). */
  private pauseStartAt: number | null = null;
  /** The turn tracker was told of that silence (it lasted decision_silence). */
  private pauseSignalled = false;

  constructor(
    private readonly deps: VoiceSessionDeps,
    settings: SettingsInput = {},
  ) {
    this.settings = parseSettings(settings);
    const { clock } = deps;
    this.bus = new TimelineBus(clock);
    this.recorder = new SessionRecorder(clock, () => this.settings);
    this.bus.subscribe((event) => this.recorder.onEvent(event));
    this.endpointing = new EndpointingPolicy(this.settings.turn_handling.endpointing);
    this.tracker = new UserTurnTracker(this.settings.turn_handling, {
      clock,
      bus: this.bus,
      endpointing: this.endpointing,
      detector: deps.turnDetector ?? new HeuristicTurnDetector(),
      history: () => this.history,
      turnAudio: (from, to) => this.turnAudio(from, to),
      silentSince: () => (this.frameSpeech ? null : this.frameSilenceSince),
      listener: {
        onStartOfTurn: () => this.recorder.startTurn(this.bus.currentTurn),
        onTranscript: (transcript, source) => {
          const flux = this.settings.stt.provider === 'deepgram-flux';
          this.preemptive.onTranscript(transcript, flux && source === 'interim' ? 'flux_update' : source);
          this.interruption.onUserTranscript(transcript, words(transcript).length);
        },
        onEagerEndOfTurn: (transcript) => this.preemptive.onEagerEndOfTurn(transcript),
        onTurnResumed: () => this.preemptive.onTurnResumed(),
        onEndUnlikely: () => this.preemptive.onEndUnlikely(),
        onEndOfTurn: (transcript) => this.endOfTurn(transcript),
        onTurnDropped: (reason) => {
          this.preemptive.resetTurn(reason);
          this.recorder.dropTurn(this.bus.currentTurn, reason);
        },
      },
    });
    this.preemptive = new PreemptiveController(this.settings.turn_handling.preemptive_generation, {
      clock,
      bus: this.bus,
      speculate: (transcript, trigger, synthesize) =>
        this.createReply(transcript, { preemptive: true, trigger, synthesize }),
      speechStartedAt: () => this.tracker.turnSpeechStartedAt,
      silentSince: () => (this.frameSpeech ? null : this.frameSilenceSince),
    });
    this.speech = new AgentSpeech({
      clock,
      bus: this.bus,
      output: deps.output,
      minGapMs: () => this.settings.agent.min_consecutive_speech_delay * 1000,
      onStarted: (reply, at) => {
        // The reply takes its place in the conversation when it starts to be heard; its text
        // is filled in when it ends, with only what was heard.
        const message: ChatMessage = { role: 'assistant', content: '' };
        this.speaking.set(reply, message);
        this.pushHistory(message);
        this.recorder.replyAudible(reply, at);
      },
      onFinished: (result) => this.replyFinished(result),
    });
    this.interruption = new InterruptionHandler(this.settings.turn_handling.interruption, {
      clock,
      bus: this.bus,
      classifier: deps.interruptionClassifier,
      agent: {
        isActive: () => this.speech.isActive,
        isPlaying: () => this.speech.isPlaying,
        pause: () => this.speech.pause(),
        resume: () => this.speech.resume(),
        interrupt: (reason) => this.speech.interrupt(reason),
      },
    });
  }

  get options(): Settings {
    return this.settings;
  }

  get chatHistory(): readonly ChatMessage[] {
    return this.history;
  }

  subscribe(listener: TimelineListener): () => void {
    return this.bus.subscribe(listener);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.bus.emit({ type: 'session_started' });
    try {
      this.stt = await this.deps.stt.connect((event) => this.onStt(event));
    } catch (error) {
      this.bus.emit({
        type: 'error',
        source: 'stt',
        message: `could not connect: ${errorMessage(error)}`,
        recoverable: false,
      });
    }
    const greeting = this.settings.agent.greeting.trim();
    if (greeting) {
      const reply = this.createReply('', {
        preemptive: false,
        trigger: 'greeting',
        synthesize: true,
        fixedText: greeting,
      });
      reply.start();
      this.speech.enqueue(reply);
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.tracker.reset();
    this.preemptive.resetTurn('session stopped');
    this.speech.interrupt('session stopped');
    const stt = this.stt;
    this.stt = undefined;
    await stt?.close().catch(() => undefined);
    this.bus.emit({ type: 'session_stopped' });
  }

  /** Microphone audio: 16 kHz mono Int16 frames of any size with their capture time. */
  async pushAudio(frame: AudioFrame): Promise<void> {
    if (!this.running) return;
    const manual = this.settings.turn_handling.turn_detection === 'manual';
    if (this.muted || (manual && !this.pttHeld)) {
      // Muted or push-to-talk up: no speech leaves the machine, but silence keeps the STT
      // stream's timestamps aligned with the microphone and the connection alive.
      this.stt?.sendAudio(new Int16Array(frame.samples.length));
      return;
    }
    this.stt?.sendAudio(frame.samples);
    let events: VadEvent[];
    try {
      events = await this.deps.vad.process(frame);
      this.audioEndAt = frame.capturedAt + (frame.samples.length * 1000) / SAMPLE_RATE;
    } catch (error) {
      this.bus.emit({ type: 'error', source: 'vad', message: errorMessage(error), recoverable: true });
      return;
    }
    for (const event of events) this.onVad(event);
  }

  /** Muted, the microphone is not listened to: no turn starts and nothing is sent to the STT but silence. */
  setMuted(muted: boolean): void {
    this.muted = muted;
    this.tracker.setMuted(muted);
  }

  /** Push-to-talk: pressed opens a user turn, released ends it. */
  pushToTalk(pressed: boolean): void {
    if (this.pttHeld === pressed) return;
    this.pttHeld = pressed;
    if (pressed && this.speech.isActive && this.settings.turn_handling.interruption.enabled) {
      this.bus.emit({ type: 'interruption', kind: 'true', reason: 'push-to-talk pressed' });
      this.speech.interrupt('push-to-talk pressed');
    }
    this.tracker.pushToTalk(pressed);
    if (!pressed) this.stt?.finalize();
  }

  /**
   * Applies new settings live; throws SettingsError naming the bad field and leaves the old ones.
   * Returns the options that only take effect when the session restarts (another STT provider or
   * model, LLM, TTS, VAD model); Flux thresholds are retuned mid-stream.
   */
  updateSettings(input: SettingsInput): { settings: Settings; needsRestart: string[] } {
    const next = parseSettings(input);
    const previous = this.settings;
    const needsRestart = [
      ...changedPaths(previous.llm, next.llm, 'llm'),
      ...changedPaths(previous.tts, next.tts, 'tts'),
      ...(previous.vad.model === next.vad.model ? [] : ['vad.model']),
    ];
    const sttChanges = changedPaths(previous.stt, next.stt, 'stt');
    const eager = next.turn_handling.preemptive_generation.enabled;
    const fluxRetune =
      next.stt.provider === 'deepgram-flux' &&
      sttChanges.every((path) => path.startsWith('stt.flux.')) &&
      (sttChanges.length > 0 || eager !== previous.turn_handling.preemptive_generation.enabled);
    if (fluxRetune && this.stt?.retune) void this.retuneStt(this.stt, next, eager);
    else needsRestart.push(...sttChanges);
    this.settings = next;
    this.deps.vad.updateSettings?.(next.vad);
    this.tracker.updateSettings(next.turn_handling);
    this.preemptive.updateSettings(next.turn_handling.preemptive_generation);
    this.interruption.updateSettings(next.turn_handling.interruption);
    return { settings: next, needsRestart };
  }

  private async retuneStt(stt: SttStream, settings: Settings, eager: boolean): Promise<void> {
    try {
      await stt.retune!(settings.stt, eager);
    } catch (error) {
      this.bus.emit({
        type: 'error',
        source: 'stt',
        message: `could not apply the new end-of-turn thresholds: ${errorMessage(error)}`,
        recoverable: true,
      });
    }
  }

  report(): SessionReport {
    return this.recorder.report(this.history);
  }

  // ---------- inputs ----------

  private onVad(event: VadEvent): void {
    switch (event.type) {
      case 'probability': {
        this.bus.emit({ type: 'vad_probability', probability: event.probability, speaking: event.speaking });
        const frameMs = Math.min(MAX_FRAME_MS, Math.max(0, event.at - this.lastFrameAt));
        this.lastFrameAt = event.at;
        const { activation_threshold, deactivation_threshold } = this.settings.vad;
        if (!this.frameSpeech && event.probability >= activation_threshold) {
          this.frameSpeech = true;
          this.pauseEnded();
        } else if (this.frameSpeech && event.probability < deactivation_threshold) {
          this.frameSpeech = false;
          this.frameSilenceSince = this.deps.clock.now();
          if (event.speaking) this.pauseStartAt = event.at;
          this.preemptive.onUserPaused();
        }
        if (this.utteranceSpeechMs !== null && this.frameSpeech) {
          this.utteranceSpeechMs += frameMs;
          this.interruption.onUserSpeechProgress(this.utteranceSpeechMs);
        }
        this.checkPause(event.at + frameMs, event.speaking);
        break;
      }
      case 'speech_started':
        this.utteranceSpeechMs = event.detectedAt - event.at;
        this.tracker.onSpeechStarted(event.at);
        this.bus.emit({ type: 'user_speech_started', at: event.at });
        this.interruption.onUserSpeechStarted();
        break;
      case 'speech_ended':
        this.utteranceSpeechMs = null;
        this.pauseStartAt = null;
        this.pauseSignalled = false;
        this.bus.emit({ type: 'user_speech_ended', at: event.at, duration: event.durationMs });
        this.tracker.onSpeechEnded(event.at);
        this.interruption.onUserSpeechEnded();
        break;
    }
  }

  /**
   * A silence inside the VAD's speech that has lasted decision_silence: the turn detector may
   * judge the turn now instead of after the VAD's min_silence_duration.
   */
  private checkPause(audioAt: number, vadSpeaking: boolean): void {
    if (!vadSpeaking || this.frameSpeech || this.pauseStartAt === null || this.pauseSignalled) return;
    if (audioAt - this.pauseStartAt < this.settings.turn_handling.turn_detector.decision_silence * 1000)
      return;
    this.pauseSignalled = true;
    this.tracker.onPause(this.pauseStartAt);
  }

  /** Speech resumed within the VAD's speech: after a signalled pause the user goes on. */
  private pauseEnded(): void {
    const signalled = this.pauseSignalled;
    this.pauseStartAt = null;
    this.pauseSignalled = false;
    if (!signalled) return;
    this.tracker.onPauseEnded();
    if (!this.tracker.isActive) {
      // The turn was committed in the pause: this speech is new to the reply, as a VAD start would be.
      this.utteranceSpeechMs = 0;
      this.interruption.onUserSpeechStarted();
    }
  }

  /**
   * The microphone audio captured in [from, to) (clock ms), cut from the VAD's recent audio:
   * at most DETECTOR_AUDIO_MS ending at `to`, less when the VAD no longer holds the start.
   */
  private turnAudio(from: number, to: number): Int16Array | undefined {
    const end = this.audioEndAt;
    if (end === null) return undefined;
    const until = Math.min(to, end);
    const since = Math.max(from, until - DETECTOR_AUDIO_MS);
    if (!(until > since)) return undefined;
    const recent = this.deps.vad.recentAudio(end - since);
    const stop = recent.length - Math.round(((end - until) * SAMPLE_RATE) / 1000);
    const length = Math.round(((until - since) * SAMPLE_RATE) / 1000);
    return recent.subarray(Math.max(0, stop - length), Math.max(0, stop));
  }

  private onStt(event: SttEvent): void {
    if (event.type === 'error') {
      this.bus.emit({ type: 'error', source: 'stt', message: event.message, recoverable: event.recoverable });
      return;
    }
    this.tracker.onStt(event);
  }

  // ---------- turns and replies ----------

  private endOfTurn(transcript: string): void {
    const turn = this.bus.currentTurn;
    const userMessage: ChatMessage = { role: 'user', content: transcript };
    if (this.speech.isPlaying && this.settings.turn_handling.interruption.enabled) {
      // Speech over the agent that did not interrupt it (a backchannel such as "uh-huh"): keep it, don't answer.
      this.preemptive.resetTurn('backchannel while the agent was speaking');
      this.pushHistory(userMessage);
      this.recorder.commitTurn(turn, transcript, null, false);
      this.recorder.dropTurn(turn, 'backchannel while the agent was speaking');
      return;
    }
    const reused = this.preemptive.commit(transcript);
    const reply =
      reused ?? this.createReply(transcript, { preemptive: false, trigger: 'end_of_turn', synthesize: true });
    this.bus.emit({ type: 'turn_committed', transcript, speculation_reused: reused !== null });
    this.pushHistory(userMessage);
    this.lastCommitted = { turn, transcript, message: userMessage, reply };
    this.recorder.commitTurn(turn, transcript, reply, reused !== null);
    if (reused) reused.commit();
    else reply.start();
    this.speech.enqueue(reply);
  }

  private createReply(
    transcript: string,
    options: {
      preemptive: boolean;
      trigger: Reply['trigger'];
      synthesize: boolean;
      fixedText?: string;
    },
  ): Reply {
    const messages: ChatMessage[] = [
      { role: 'system', content: this.settings.agent.instructions },
      ...this.history.map((m) => this.asContext(m)).filter((m) => m.content.length > 0),
      ...(transcript ? [{ role: 'user' as const, content: transcript }] : []),
    ];
    const reply = new Reply(
      {
        clock: this.deps.clock,
        bus: this.bus,
        llm: this.deps.llm,
        tts: this.deps.tts,
        chunking: this.settings.reply,
      },
      {
        id: this.nextRequestId++,
        turn: this.bus.currentTurn,
        transcript,
        messages,
        ...options,
      },
    );
    this.recorder.addRequest(reply);
    return reply;
  }

  /** A message as the LLM should read it now: a reply still playing says what has been heard of it. */
  private asContext(message: ChatMessage): ChatMessage {
    if (message.content) return message;
    for (const [reply, placeholder] of this.speaking) {
      if (placeholder === message) return { role: 'assistant', content: this.speech.heardSoFar(reply) };
    }
    return message;
  }

  private replyFinished(result: SpokenReply): void {
    const committed = this.lastCommitted;
    const continued =
      committed?.reply === result.reply &&
      result.interrupted &&
      this.tracker.isActive &&
      this.bus.currentTurn > committed.turn &&
      (!result.spokenText || this.spokeBeforeHearing(result.firstAudioAt));
    if (continued) {
      // The user went on before hearing the reply: that turn ended too soon. Its words lead the
      // turn now open, so the reply answers the whole sentence, and the reply they talked over
      // leaves the conversation.
      const index = this.history.indexOf(committed.message);
      if (index >= 0) this.history.splice(index, 1);
      this.tracker.continueFrom(committed.transcript);
    }
    const placeholder = this.speaking.get(result.reply);
    this.speaking.delete(result.reply);
    if (placeholder && (!result.spokenText || continued)) {
      const index = this.history.indexOf(placeholder);
      if (index >= 0) this.history.splice(index, 1);
    } else if (result.spokenText && !continued) {
      const message = placeholder ?? { role: 'assistant' as const, content: '' };
      message.content = result.spokenText;
      if (result.interrupted) message.interrupted = true;
      if (!placeholder) this.pushHistory(message);
    }
    this.recorder.replyFinished(result);
    this.interruption.onAgentIdle();
  }

  /**
   * Whether the user's current speech began too soon after the reply became audible to be an
   * answer to it: speech that starts within a reaction time was planned before the reply was heard.
   */
  private spokeBeforeHearing(firstAudioAt: number | null): boolean {
    const spokeAt = this.tracker.turnSpeechStartedAt;
    return firstAudioAt !== null && spokeAt !== null && spokeAt < firstAudioAt + REACTION_TIME_MS;
  }

  private pushHistory(message: ChatMessage): void {
    this.history.push(message);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
  }
}

/** Dotted paths of the leaves that differ between two settings objects. */
function changedPaths(a: unknown, b: unknown, prefix: string): string[] {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b) ? [] : [prefix];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((key) =>
    changedPaths(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${prefix}.${key}`,
    ),
  );
}

export type { TimelineEvent };
