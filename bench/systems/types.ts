/**
 * What the benchmark needs from a system under test: it is given one corpus case and the
 * simulators that serve it, streams the case audio in real time, and reports every reply that
 * became audible at its (virtual) speaker. Everything else (LLM requests, TTS characters) is
 * read from the simulators, so every system is measured the same way.
 */
import type { Clock } from '../../src/main/engine/clock';
import type { ScriptCase } from '../../src/main/engine/scripted/case';
import type { SimulatorSet } from '../../sim/index';

export interface SystemRunInput {
  caseData: ScriptCase;
  /** The simulators for this case, already listening; their endpoints and the key they accept. */
  sims: SimulatorSet;
  apiKey: string;
  /**
   * The real-time clock the simulators run on. Stream with `streamRealtime({ now: () => clock.now() })`
   * and return its `startedAt`, so the runner can place simulator records on the case's time axis.
   */
  clock: Clock;
  /** Keep running at most this long after the last sample of the case audio (silence is streamed meanwhile). */
  tailMs: number;
  /**
   * The true end of the case's last turn (ms). A system may end the tail early once a reply became
   * audible after it and has finished playing, with nothing else playing or pending for a second.
   */
  lastTurnEndMs: number;
}

/** One reply of the agent that became audible at the output. */
export interface HeardReply {
  /** When its first sample became audible, in ms since the first sample of audio.wav was sent. */
  audibleAtMs: number;
  /** The whole text the system meant to speak for it (the LLM output it was built from). */
  text: string;
  /** Ms of its audio actually played before it ended or was cut off (Infinity: still playing when the run ended). */
  heardMs: number;
}

export interface SystemRunResult {
  /** `clock.now()` when the first frame of the case audio was sent (streamRealtime's startedAt). */
  startedAt: number;
  /** In the order they became audible. */
  replies: HeardReply[];
  /** Anything worth a line in the report (e.g. a provider error the system logged). */
  notes: string[];
  /** Notes that concern one turn (its index in the case), e.g. the peer's own cause of a missed turn. */
  turnNotes?: TurnNote[];
}

export interface TurnNote {
  turn: number;
  note: string;
}

export interface BenchSystem {
  readonly name: string;
  /** One case, in real time. Resolves once the tail has been streamed and playback is idle. */
  run(input: SystemRunInput): Promise<SystemRunResult>;
  /** Frees what the system keeps between cases (models, sockets). */
  close(): Promise<void>;
}
