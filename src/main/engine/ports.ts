/**
 * The engine's interfaces to the outside: audio, speech-to-text, LLM, TTS, VAD model
 * and turn detector. Providers (real SDKs, simulators, scripted test doubles) implement
 * these; the engine never knows which one it talks to.
 */
import type { ChatMessage } from '../../shared/report';
import type { SttSettings } from '../../shared/settings';
import type { TurnEventName } from '../../shared/timeline';

export const SAMPLE_RATE = 16_000;

/** A piece of microphone audio: 16 kHz mono Int16, any length, stamped with its capture time. */
export interface AudioFrame {
  samples: Int16Array;
  /** Clock time (ms) of the first sample's capture. */
  capturedAt: number;
}

// ---------- Speech-to-text ----------

export interface SttWord {
  word: string;
  start?: number;
  end?: number;
  confidence?: number;
}

export type SttEvent =
  | { type: 'interim'; transcript: string; words?: SttWord[] }
  /**
   * Nova `is_final`; `speechFinal` is Deepgram's endpointing verdict; `fromFinalize` marks the
   * result that answers a Finalize (Deepgram's `from_finalize`), present only when true.
   */
  | { type: 'final'; transcript: string; speechFinal: boolean; words?: SttWord[]; fromFinalize?: true }
  | { type: 'utterance_end' }
  | { type: 'speech_started' }
  /**
   * Flux TurnInfo events, with the transcript of the Flux turn so far. `turnIndex` numbers Flux's
   * turns in the stream (rising; Flux's own `turn_index` restarts on each connection).
   */
  | { type: 'turn'; event: TurnEventName; turnIndex: number; transcript: string; confidence?: number }
  | { type: 'error'; message: string; recoverable: boolean };

export interface SttStream {
  /** Audio to transcribe, in capture order. */
  sendAudio(samples: Int16Array): void;
  /**
   * Asks for the buffered audio to be finalised now (push-to-talk release). The answer is a final
   * with `fromFinalize`; a provider may not answer when it holds no speech (Deepgram documents that).
   */
  finalize(): void;
  /**
   * Applies end-of-turn thresholds mid-stream where the provider can (Flux Configure);
   * resolves false when these settings need a new connection instead.
   */
  retune?(settings: SttSettings, eager: boolean): Promise<boolean>;
  close(): Promise<void>;
}

export interface SttProvider {
  /** Whether the provider reports Flux-style turn events rather than interim/final results. */
  readonly turnEvents: boolean;
  connect(onEvent: (event: SttEvent) => void): Promise<SttStream>;
}

// ---------- LLM ----------

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
}

export type LlmChunk = { type: 'token'; text: string } | { type: 'usage'; usage: LlmUsage };

export interface LlmRequest {
  messages: ChatMessage[];
  signal: AbortSignal;
}

export interface LlmProvider {
  /** Streams the reply. Aborting the signal must abort the underlying request and end the stream. */
  stream(request: LlmRequest): AsyncIterable<LlmChunk>;
}

// ---------- TTS ----------

export interface TtsAudio {
  samples: Int16Array;
  sampleRate: number;
  /**
   * How many characters of the input text this audio completes, when the provider knows
   * (alignment data). Lets a barge-in truncate the history to what was really heard.
   */
  characters?: number;
}

export interface TtsRequest {
  /** Text chunks in order, as the LLM produces them; the iterable ends when the reply is complete. */
  text: AsyncIterable<string>;
  signal: AbortSignal;
}

export interface TtsProvider {
  /** Streams audio for the text as it arrives. Aborting the signal must stop synthesis at the network level. */
  synthesize(request: TtsRequest): AsyncIterable<TtsAudio>;
}

// ---------- Audio output ----------

export interface PlaybackListener {
  /** The first sample of an utterance became audible at clock time `at`. */
  onStarted(utteranceId: number, at: number): void;
  /** All queued audio of an ended utterance has been played. */
  onFinished(utteranceId: number, at: number): void;
}

/**
 * Where agent audio goes: the renderer's playback worklet in the app, a clocked
 * virtual speaker in replay and tests. Reports what was actually played.
 */
export interface AudioOutput {
  setListener(listener: PlaybackListener): void;
  /** Queues audio of an utterance; it plays after anything queued before it. */
  write(utteranceId: number, audio: TtsAudio): void;
  /** No more audio will come for this utterance. */
  end(utteranceId: number): void;
  /** Pauses playback in place (a possible interruption). */
  pause(): void;
  resume(): void;
  /** Drops all queued audio at once; returns how many ms of the utterance had been heard. */
  clear(utteranceId: number): number;
  /** Ms of the utterance heard so far. */
  playedMs(utteranceId: number): number;
}

// ---------- VAD model and turn detector ----------

/** A frame-wise speech probability model (Silero). */
export interface SpeechProbabilityModel {
  /** Samples per frame the model expects at 16 kHz. */
  readonly frameSamples: number;
  /** Speech probability of the next frame (`frameSamples` float samples in [-1, 1]). */
  predict(frame: Float32Array): Promise<number>;
  reset(): void;
}

export interface TurnDetectorInput {
  transcript: string;
  history: readonly ChatMessage[];
  /**
   * The user's audio of the current turn, for audio models: 16 kHz mono Int16, at most 8 s,
   * ending shortly (200 ms) after the last speech the VAD heard.
   */
  audio?: Int16Array;
}

/** An end-of-turn probability with what produced it. */
export interface TurnDetectorVerdict {
  probability: number;
  /** Who judged, with their figures, e.g. "smart-turn-v3 0.82 + heuristic 0.90 (complete)". */
  source: string;
}

export interface TurnDetector {
  readonly name: string;
  /** Probability that the user has finished their turn. */
  predictEndOfTurn(input: TurnDetectorInput): Promise<number>;
  /** Optional: the probability with the sources that contributed (shown as the decision's source). */
  explainEndOfTurn?(input: TurnDetectorInput): Promise<TurnDetectorVerdict>;
  /**
   * Optional: problems the detector recovered from by itself (e.g. its audio model became
   * unavailable and it fell back on the transcript). Returns an unsubscribe function.
   */
  onWarning?(listener: (message: string) => void): () => void;
}

/** Hook for `interruption.mode = adaptive`: tells a real barge-in from a backchannel ("uh-huh"). */
export interface InterruptionClassifier {
  isInterruption(input: { transcript: string; speechMs: number; audio?: Int16Array }): Promise<boolean>;
}
