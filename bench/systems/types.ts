/**
 * What the benchmark needs from a system under test: it is given one corpus case, the
 * simulators that serve it and the benchmark's speaker, streams the case audio in real time and
 * plays its replies into that speaker. Everything measured is read from the speaker and the
 * simulators (bench/measure.ts), never from what the system reports, so every system is
 * measured the same way.
 */
import type { Clock } from '../../src/main/engine/clock';
import type { ScriptCase } from '../../src/main/engine/scripted/case';
import type { SimulatorSet } from '../../sim/index';
import type { BenchSpeaker } from '../speaker';

export interface SystemRunInput {
  caseData: ScriptCase;
  /** The simulators for this case, already listening; their endpoints and the key they accept. */
  sims: SimulatorSet;
  apiKey: string;
  /**
   * The real-time clock the simulators and the speaker run on. Stream with
   * `streamRealtime({ now: () => clock.now() })` and return its `startedAt`, so the runner can
   * place the speaker's and the simulators' records on the case's time axis.
   */
  clock: Clock;
  /** The benchmark's speaker: every reply must be played into it (and nowhere else). */
  speaker: BenchSpeaker;
  /** Keep running at most this long after the last sample of the case audio (silence is streamed meanwhile). */
  tailMs: number;
  /**
   * The true end of the case's last turn (ms). A system may end the tail early once the speaker
   * played something after it and has been idle for a second, with nothing else pending.
   */
  lastTurnEndMs: number;
}

export interface SystemRunResult {
  /** `clock.now()` when the first frame of the case audio was sent (streamRealtime's startedAt). */
  startedAt: number;
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
  /** How the system is configured, in words, for the report. */
  readonly description: string;
  /** One case, in real time. Resolves once the tail has been streamed and playback is idle. */
  run(input: SystemRunInput): Promise<SystemRunResult>;
  /** Frees what the system keeps between cases (models, sockets). */
  close(): Promise<void>;
}
