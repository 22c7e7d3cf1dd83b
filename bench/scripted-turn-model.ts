/**
 * An audio end-of-turn model for "what would a model have to achieve" (issue 14): it plays a
 * model on the stand-in's interface (TurnDetector, combined with the transcript heuristic by
 * CombinedTurnDetector's rule) that knows where the case's speaker paused and answers with the
 * confidence the case scripts for that pause, optionally capped for the pauses after which the
 * speaker goes on. Bench-only: it reads the script, so it measures a requirement, not Cue.
 */
import type { ScriptCase } from '../src/main/engine/scripted/case';
import type { TurnDetector, TurnDetectorInput } from '../src/main/engine/ports';

/** What it answers in a pause inside a phrase (neither a scripted hold nor the turn's end). */
const MID_PHRASE = 0.1;

export interface ScriptedTurnModelOptions {
  /**
   * The most it answers in a scripted pause after which the speaker goes on (a hold), however
   * complete the words sound: how well the model must hear "not done yet". Default: no cap.
   */
  holdCap?: number;
}

export class ScriptedTurnModel implements TurnDetector {
  readonly name = 'scripted audio model';

  constructor(
    private readonly caseData: Pick<ScriptCase, 'turns'>,
    /** The case's audio time now (ms), read at each decision. */
    private readonly nowMs: () => number,
    private readonly options: ScriptedTurnModelOptions = {},
  ) {}

  /** The confidence scripted for the pause the speaker is in at `atMs` (case audio time). */
  confidenceAt(atMs: number): number {
    const at = atMs / 1000;
    let turn = this.caseData.turns[0]!;
    for (const t of this.caseData.turns) if (t.words[0]!.start <= at) turn = t;
    let spoken = -1;
    turn.words.forEach((w, i) => {
      if (w.end <= at) spoken = i;
    });
    if (spoken === turn.words.length - 1) return turn.end_eot_confidence;
    const hold = turn.holds.find((h) => h.after === spoken);
    if (!hold) return MID_PHRASE;
    return Math.min(hold.eot_confidence, this.options.holdCap ?? 1);
  }

  predictEndOfTurn(_input: TurnDetectorInput): Promise<number> {
    return Promise.resolve(this.confidenceAt(this.nowMs()));
  }
}
