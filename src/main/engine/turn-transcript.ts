import type { SttWord } from './ports';

/** Word end times (s) closer than this are the same instant. */
const TIME_EPSILON_S = 0.001;

/**
 * What the user has said in the open turn, put together from the speech-to-text events, and
 * what of the provider's later events still belongs to a turn the engine has already committed.
 *
 * Nova sends finals (each a segment) and an interim for the words since the last final. Flux
 * sends the whole of its own turn in every event: Update (a reading), EagerEndOfTurn (a draft
 * final), EndOfTurn (the final). The engine may commit before the provider is done with those
 * words (a likely end judged at a pause, push-to-talk released, a late final): the provider then
 * still reports them, in a late final or EndOfTurn, or at the start of the next interim or Flux
 * Update. They were answered already and are taken out here, so they neither open a turn of
 * their own nor reach the user's next utterance.
 */
export class TurnTranscript {
  private finals: string[] = [];
  private interim = '';
  /** Nova: stream time (s) where the interim's last word ends, when the provider gives word times. */
  private interimEnd: number | null = null;
  /** Transcript of an earlier turn this one continues. */
  private continued = '';
  /** Flux: the current Flux turn has reached EagerEndOfTurn, so the interim is a draft final. */
  private draft = false;
  /** Flux: the Flux turn the interim belongs to. */
  private fluxTurn: number | null = null;
  /** Flux: words at the start of the current Flux turn that an earlier commit took. */
  private fluxSkip = 0;
  /** Flux: the Flux turn the last commit ended inside, and how many of its words it took. */
  private committedFlux: { turn: number; words: number } | null = null;
  /** Nova: stream time (s) up to which the last commit took words that no final had covered yet. */
  private committedThrough: number | null = null;
  /** Flux: the last Flux turn of the stream that reached EndOfTurn. */
  private fluxEnded = -1;

  get text(): string {
    return [this.continued, ...this.finals, this.interim].filter((s) => s.length > 0).join(' ');
  }

  /** Every word heard is final (or, with Flux, in an EagerEndOfTurn draft). */
  get settled(): boolean {
    return (this.finals.length > 0 || this.draft) && (this.interim === '' || this.draft);
  }

  /** Words heard that are neither final nor in a Flux draft. */
  get hasUnsettledWords(): boolean {
    return this.interim !== '' && !this.draft;
  }

  get isDraft(): boolean {
    return this.draft;
  }

  // ---------- what is new in a provider event ----------

  /**
   * A Nova result without the words an earlier commit took: '' when it holds nothing else. A
   * final that reaches past those words means the provider has caught up: nothing is taken out
   * after it.
   */
  newInNova(transcript: string, words: readonly SttWord[] | undefined, final: boolean): string {
    const through = this.committedThrough;
    if (through === null || !words?.length || words.some((w) => w.end === undefined))
      return transcript.trim();
    const fresh = words.filter((w) => w.end! > through + TIME_EPSILON_S);
    if (final && fresh.length) this.committedThrough = null;
    if (fresh.length === words.length) return transcript.trim();
    return fresh.map((w) => w.word).join(' ');
  }

  /**
   * A Flux event's transcript without the words an earlier commit took from its Flux turn; null
   * when the event is about a Flux turn that was committed whole, or an older one, or one that
   * has reached EndOfTurn already (an Update that arrives after it is stale).
   */
  newInFlux(turn: number, transcript: string, event?: string): string | null {
    // Nothing comes after a Flux turn's EndOfTurn but a late copy of an earlier reading.
    if (turn <= this.fluxEnded) return null;
    if (event === 'EndOfTurn') this.fluxEnded = turn;
    const committed = this.committedFlux;
    if (!committed || turn > committed.turn) return transcript.trim();
    if (turn < committed.turn) return null;
    const rest = tokens(transcript).slice(committed.words);
    return rest.length ? rest.join(' ') : null;
  }

  // ---------- changes ----------

  /** The current reading of the words not final yet; `words` with times let a later commit be traced. */
  setInterim(text: string, words?: readonly SttWord[]): boolean {
    const trimmed = text.trim();
    if (trimmed === this.interim) return false;
    this.interim = trimmed;
    this.interimEnd = lastEnd(words);
    return true;
  }

  addFinal(text: string): void {
    this.interim = '';
    this.interimEnd = null;
    this.draft = false;
    if (text) this.finals.push(text);
  }

  /** Flux: a new Flux turn begins; when an earlier commit took some of its words, they are skipped. */
  startFluxTurn(turn: number): void {
    if (this.fluxTurn === turn) return;
    this.fluxTurn = turn;
    this.fluxSkip = this.committedFlux?.turn === turn ? this.committedFlux.words : 0;
    this.draft = false;
  }

  /** Flux EagerEndOfTurn (true) or TurnResumed / Update (false). */
  setDraft(draft: boolean): void {
    this.draft = draft;
  }

  continueFrom(earlier: string): void {
    this.continued = earlier;
  }

  /**
   * The turn is committed with its current text: remembers what of it the provider has not
   * finalised yet, so its late events can be recognised, and starts afresh.
   */
  commit(): void {
    if (this.fluxTurn !== null) {
      // The words of the Flux turn taken so far: those an earlier commit took, and the current reading
      // (or, after EndOfTurn, the Flux turn's final, which the next events can no longer be about).
      const current = this.interim ? tokens(this.interim).length : 0;
      this.committedFlux = { turn: this.fluxTurn, words: this.fluxSkip + current };
    }
    if (this.interim && !this.draft && this.interimEnd !== null) {
      this.committedThrough = Math.max(this.committedThrough ?? -Infinity, this.interimEnd);
    }
    this.clear();
  }

  /** Forgets the turn (what earlier commits took is kept). */
  clear(): void {
    this.finals = [];
    this.interim = '';
    this.interimEnd = null;
    this.continued = '';
    this.draft = false;
    this.fluxTurn = null;
    this.fluxSkip = 0;
  }

  /** Forgets everything, what earlier commits took included (a new STT stream). */
  reset(): void {
    this.clear();
    this.committedFlux = null;
    this.committedThrough = null;
    this.fluxEnded = -1;
  }
}

function tokens(text: string): string[] {
  return text
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

function lastEnd(words: readonly SttWord[] | undefined): number | null {
  const end = words?.at(-1)?.end;
  return end === undefined ? null : end;
}
