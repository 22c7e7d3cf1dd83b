/**
 * The turn detector of `model` mode: Smart Turn v3, which hears the user's audio, together with
 * the transcript heuristic, which reads how their words end, as one end-of-turn probability.
 *
 * The combination rule (combineEndOfTurn), with p_m the model's probability and p_h the
 * heuristic's:
 *
 *   veto    p_h <= VETO_MAX (0.2): the words end on an article, a preposition, a conjunction, a
 *           filler, a dangling contraction or a hanging auxiliary ("remind me to", "book a",
 *           "can you"). A finished sentence almost never ends like that, whatever the voice does,
 *           so the heuristic caps the result:  p = min(p_m, p_h).
 *   pool    otherwise, a weighted logarithmic opinion pool (a product of experts):
 *             logit(p) = logit(p_m) + CONFIRM_WEIGHT * logit(p_h),  CONFIRM_WEIGHT = 0.25.
 *           The heuristic's "complete" verdicts (0.90-0.95) are weak evidence: a pause at a clause
 *           boundary mid-turn is syntactically complete too. A quarter of their log-odds (+0.55 to
 *           +0.74) tips an undecided model (0.40 -> 0.54) but never overrules a confident one
 *           (0.20 -> 0.30, 0.90 stays a likely end). A trailing pause ("well,", 0.60) barely moves it.
 *
 * Why the asymmetry: the two mistakes do not cost the same. A false "likely end" cuts the user off
 * mid-sentence; a false "unlikely end" only makes them wait max_delay instead of min_delay. So the
 * heuristic's high-precision negative cue is allowed to decide alone; its low-precision positive
 * cue only nudges. The model speaks first because it hears what the transcript cannot: intonation,
 * a drawn-out last syllable, the pause itself.
 *
 * The model is optional at every moment. Until one is attached (it may still be downloading), when
 * it is disabled, when it could not be found or loaded, or after it failed several calls in a row,
 * the heuristic decides alone, and the endpointing delays do the rest. Falling back is announced
 * once through onWarning (the turn tracker puts it on the timeline as a recoverable
 * `turn_detector` error, which the app shows as a notice) and in `status`.
 *
 * Inference runs off the caller's stack: the model is called on the next macrotask, so the audio
 * frame whose VAD event asked for the decision is finished first, and nothing waits for the
 * answer but the decision itself. In the app the model is a SmartTurnWorkerDetector, whose features
 * and inference run in a worker thread (onnxruntime-node runs a session synchronously, which would
 * hold the event loop). `idle()` lets replays on a virtual clock wait for it.
 */
import type { TurnDetector, TurnDetectorInput, TurnDetectorVerdict } from '../ports';
import { classifyTurnEnding, TURN_ENDING_PROBABILITY } from '../text/heuristic-turn-detector';
import { TurnModelUnavailableError } from './model-store';
import { SmartTurnDetector, TurnAudioMissingError, TurnModelLoadError } from './smart-turn';

/** A heuristic probability at or below this vetoes the end of the turn (determiner … hanging). */
export const VETO_MAX = 0.2;
/** Weight of the heuristic's log-odds when it does not veto. */
export const CONFIRM_WEIGHT = 0.25;
/** Consecutive failed model calls after which the model is no longer asked. */
export const DEFAULT_MAX_FAILURES = 3;
const CLAMP = 1e-4;

const logit = (p: number) => {
  const q = Math.min(1 - CLAMP, Math.max(CLAMP, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The model's and the heuristic's probabilities as one (see the rule at the top of the file). */
export function combineEndOfTurn(
  modelProbability: number,
  heuristicProbability: number,
): { probability: number; vetoed: boolean } {
  if (heuristicProbability <= VETO_MAX) {
    return {
      probability: Math.min(modelProbability, heuristicProbability),
      vetoed: modelProbability > heuristicProbability,
    };
  }
  return {
    probability: sigmoid(logit(modelProbability) + CONFIRM_WEIGHT * logit(heuristicProbability)),
    vetoed: false,
  };
}

/** Why the model cannot be used, in a word for the UI, and the full explanation. */
export function describeModelFailure(error: unknown): { reason: string; detail: string } {
  if (error instanceof TurnModelUnavailableError) return { reason: error.reason, detail: error.message };
  if (error instanceof TurnModelLoadError) {
    const reason = {
      missing: 'missing',
      unreadable: 'unreadable',
      invalid: 'corrupt',
      signature: 'not a Smart Turn v3 model',
    }[error.reason];
    return { reason, detail: error.message };
  }
  return { reason: 'error', detail: error instanceof Error ? error.message : String(error) };
}

export type CombinedTurnDetectorStatus =
  /** No model yet (it may be downloading or loading): the heuristic decides alone meanwhile. */
  | { readonly state: 'waiting' }
  /** The model and the heuristic decide together. */
  | { readonly state: 'active' }
  /** The model is turned off (settings): the heuristic decides alone. */
  | { readonly state: 'off' }
  /**
   * The model is unavailable or kept failing: the heuristic decides alone. `reason` in a word,
   * `detail` what went wrong, `message` the warning shown (both together).
   */
  | {
      readonly state: 'fallback';
      readonly reason: string;
      readonly detail: string;
      readonly message: string;
    };

export interface CombinedTurnDetectorOptions {
  /** The model's name in decisions and messages. Default "smart-turn-v3". */
  modelName?: string;
  /** Whether the model is to be used at all (settings: turn_detector.model). Default true. */
  enabled?: boolean;
  /** Consecutive failed calls after which the model is dropped. Default 3. */
  maxFailures?: number;
}

type Model = TurnDetector & { dispose?(): Promise<void> };

export class CombinedTurnDetector implements TurnDetector {
  readonly modelName: string;
  private model: Model | undefined;
  /** The model was loaded here (loadModel) and is disposed with the detector. */
  private ownsModel = false;
  private enabled: boolean;
  private readonly maxFailures: number;
  private failures = 0;
  private current: CombinedTurnDetectorStatus;
  private readonly warningListeners = new Set<(message: string) => void>();
  private readonly statusListeners = new Set<(status: CombinedTurnDetectorStatus) => void>();
  /** Warnings raised before anyone listened, delivered to the first listener. */
  private unheard: string[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: CombinedTurnDetectorOptions = {}) {
    this.modelName = options.modelName ?? 'smart-turn-v3';
    this.enabled = options.enabled ?? true;
    this.maxFailures = Math.max(1, options.maxFailures ?? DEFAULT_MAX_FAILURES);
    this.current = this.enabled ? { state: 'waiting' } : { state: 'off' };
  }

  get name(): string {
    return this.current.state === 'active' ? `${this.modelName} + heuristic` : 'heuristic';
  }

  get status(): CombinedTurnDetectorStatus {
    return this.current;
  }

  /**
   * Loads a Smart Turn model file and uses it; when it cannot be loaded (missing, corrupt, another
   * model) the detector falls back on the heuristic and says why. Resolves true when the model is in use.
   */
  async loadModel(path: string): Promise<boolean> {
    try {
      const model = await SmartTurnDetector.load(path);
      this.attachModel(model);
      this.ownsModel = true;
      return true;
    } catch (error) {
      this.modelUnavailable(error);
      return false;
    }
  }

  /** Uses `model` from the next decision on (it is not disposed by this detector). */
  attachModel(model: Model): void {
    if (this.ownsModel && this.model && this.model !== model) void this.model.dispose?.();
    this.model = model;
    this.ownsModel = false;
    this.failures = 0;
    if (this.enabled) this.setStatus({ state: 'active' });
  }

  /** The model could not be found, downloaded or loaded: the heuristic decides alone, and says so once. */
  modelUnavailable(error: unknown): void {
    const { reason, detail } = describeModelFailure(error);
    this.fallBack(reason, detail);
  }

  /** Turns the model on or off (settings); off, the heuristic decides alone, without a warning. */
  setModelEnabled(enabled: boolean): void {
    if (enabled === this.enabled) return;
    this.enabled = enabled;
    if (!enabled) this.setStatus({ state: 'off' });
    else if (this.model && this.failures < this.maxFailures) this.setStatus({ state: 'active' });
    else this.setStatus({ state: 'waiting' });
  }

  /**
   * Calls `listener` with every warning. Warnings raised before anyone listened (a model that
   * failed to load before the session was made) are delivered on the next microtask, so whoever
   * subscribes right after the listener's owner is created hears them too.
   */
  onWarning(listener: (message: string) => void): () => void {
    this.warningListeners.add(listener);
    const unheard = this.unheard;
    this.unheard = [];
    if (unheard.length > 0) {
      queueMicrotask(() => {
        for (const message of unheard) if (this.warningListeners.has(listener)) listener(message);
      });
    }
    return () => {
      this.warningListeners.delete(listener);
    };
  }

  /** Calls `listener` with the current status, then on every change. */
  subscribe(listener: (status: CombinedTurnDetectorStatus) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.current);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  async predictEndOfTurn(input: TurnDetectorInput): Promise<number> {
    return (await this.explainEndOfTurn(input)).probability;
  }

  explainEndOfTurn(input: TurnDetectorInput): Promise<TurnDetectorVerdict> {
    const run = this.explain(input);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run)).catch(() => undefined);
    return run;
  }

  /** Resolves once no decision is being computed (replays on a virtual clock wait for this). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Waits for the decisions in flight, then frees a model loaded by loadModel. */
  async dispose(): Promise<void> {
    await this.idle();
    const model = this.ownsModel ? this.model : undefined;
    this.model = undefined;
    this.ownsModel = false;
    if (this.current.state === 'active') this.setStatus({ state: 'waiting' });
    await model?.dispose?.();
  }

  private async explain(input: TurnDetectorInput): Promise<TurnDetectorVerdict> {
    const cue = classifyTurnEnding(input.transcript);
    const heuristic = TURN_ENDING_PROBABILITY[cue];
    const heuristicPart = `heuristic ${heuristic.toFixed(2)} (${cue})`;
    const model = this.model;
    if (this.current.state !== 'active' || !model) {
      const why =
        this.current.state === 'waiting'
          ? `; ${this.modelName} not loaded yet`
          : this.current.state === 'fallback'
            ? `; ${this.modelName} unavailable (${this.current.reason})`
            : '';
      return { probability: heuristic, source: `${heuristicPart}${why}` };
    }
    let modelProbability: number;
    try {
      // The next macrotask: the caller (a VAD event of the current audio frame) finishes first.
      await new Promise<void>((resolve) => setImmediate(resolve));
      modelProbability = await model.predictEndOfTurn(input);
    } catch (error) {
      if (error instanceof TurnAudioMissingError) {
        return { probability: heuristic, source: `${heuristicPart}; no audio for ${this.modelName}` };
      }
      this.callFailed(model, error);
      return { probability: heuristic, source: `${heuristicPart}; ${this.modelName} failed` };
    }
    if (this.model === model) this.failures = 0;
    const { probability, vetoed } = combineEndOfTurn(modelProbability, heuristic);
    return {
      probability,
      source: `${this.modelName} ${modelProbability.toFixed(2)} + ${heuristicPart}${vetoed ? ': veto' : ''}`,
    };
  }

  private callFailed(model: Model, error: unknown): void {
    if (this.model !== model || this.current.state !== 'active') return;
    this.failures++;
    const detail = error instanceof Error ? error.message : String(error);
    if (this.failures >= this.maxFailures) {
      this.fallBack(`failed ${this.failures} times`, detail);
    } else if (this.failures === 1) {
      this.warn(
        `Turn model ${this.modelName} failed (${detail}): that decision used the transcript heuristic alone.`,
      );
    }
  }

  private fallBack(reason: string, detail: string): void {
    const message = `Turn model unavailable (${reason}): using the transcript heuristic and silence instead. ${detail}`;
    const already = this.current.state === 'fallback' && this.current.message === message;
    this.setStatus({ state: 'fallback', reason, detail, message });
    if (!already) this.warn(message);
  }

  private warn(message: string): void {
    if (this.warningListeners.size === 0) {
      this.unheard.push(message);
      return;
    }
    for (const listener of [...this.warningListeners]) listener(message);
  }

  private setStatus(status: CombinedTurnDetectorStatus): void {
    if (JSON.stringify(status) === JSON.stringify(this.current)) return;
    this.current = status;
    for (const listener of [...this.statusListeners]) listener(status);
  }
}
