/**
 * The playback queue of the speaker worklet: one Float32 ring of mono PCM at the context rate,
 * tagged by utterance. Pure: no Web Audio, so Node tests drive it quantum by quantum.
 *
 * - `write` appends an utterance's samples (utterances play in the order they were first
 *   written; audio for an utterance already cleared is dropped).
 * - Playback of each utterance starts once `prebufferMs` (at most 100 ms) of it is queued or it
 *   has ended, and again after an underrun, so a steady stream never stutters at its start.
 * - `render` fills one render quantum and reports, by absolute output frame, the frame where the
 *   first sample of each utterance is rendered (`played`) and the frame after the last sample
 *   of an ended utterance (`finished`, with the ms of it that were played).
 * - `pause` / `resume` stop and continue in place; `clear` drops queued audio at once: the very
 *   next quantum no longer plays it (apart from a fade of at most `fadeFrames`, ~1.5 ms, so the
 *   cut does not click).
 */

/** Upper bound of the prebuffer, ms. */
export const MAX_PREBUFFER_MS = 100;
export const DEFAULT_PREBUFFER_MS = 60;
/** The Web Audio render quantum, frames. */
export const RENDER_QUANTUM = 128;
/** The ring never holds more than this (longer replies are cut and the rest dropped). */
const MAX_SECONDS = 600;

export interface PlaybackRingOptions {
  /** Output (context) rate, Hz. */
  sampleRate: number;
  /** Queued audio an utterance needs before it starts, ms (clamped to 0…100). */
  prebufferMs?: number;
  /** Length of the fade on pause, resume and clear, frames (≤ 128; 0: hard cuts). */
  fadeFrames?: number;
  /** Initial capacity, seconds (the ring grows as needed). */
  initialSeconds?: number;
}

export type RingEvent =
  /** The first sample of `utterance` is rendered at absolute output frame `frame`. */
  | { type: 'played'; utterance: number; frame: number }
  /** The last sample of ended `utterance` was rendered just before absolute frame `frame`. */
  | { type: 'finished'; utterance: number; frame: number; playedMs: number };

export interface ClearedUtterance {
  utterance: number;
  /** Ms of the utterance that were rendered before the clear. */
  playedMs: number;
}

interface Run {
  /** Absolute write index of the first sample. */
  start: number;
  length: number;
  /** Samples of the run already rendered (or dropped). */
  done: number;
}

interface Segment {
  utterance: number;
  runs: Run[];
  /** Index of the run being read. */
  runAt: number;
  written: number;
  read: number;
  ended: boolean;
  started: boolean;
  /** Absolute output frame just after the last rendered sample. */
  lastFrame: number;
}

/** How many cleared utterance ids are remembered to drop their late audio. */
export const CLEARED_MEMORY = 64;

export class PlaybackRing {
  readonly sampleRate: number;
  readonly prebufferFrames: number;
  readonly fadeFrames: number;
  private data: Float32Array;
  /** Absolute index of the next sample written. */
  private writeIndex = 0;
  /** Runs in write order, to reclaim ring space oldest first. */
  private runs: Run[] = [];
  private segments: Segment[] = [];
  private readonly cleared: number[] = [];
  /** Absolute output frame at the start of the next quantum. */
  private clock = 0;
  private playing = false;
  private pausedFlag = false;
  private gain = 1;
  private readonly fade: Float32Array;
  private fadeLength = 0;
  private underrunCount = 0;
  private droppedSamples = 0;

  constructor(options: PlaybackRingOptions) {
    const { sampleRate } = options;
    if (!(sampleRate > 0)) throw new RangeError('PlaybackRing: sampleRate must be positive');
    this.sampleRate = sampleRate;
    const prebufferMs = Math.min(MAX_PREBUFFER_MS, Math.max(0, options.prebufferMs ?? DEFAULT_PREBUFFER_MS));
    this.prebufferFrames = Math.round((prebufferMs / 1000) * sampleRate);
    this.fadeFrames = Math.min(
      RENDER_QUANTUM,
      Math.max(0, Math.round(options.fadeFrames ?? sampleRate * 0.0015)),
    );
    this.fade = new Float32Array(RENDER_QUANTUM);
    this.data = new Float32Array(
      Math.max(RENDER_QUANTUM, Math.round((options.initialSeconds ?? 10) * sampleRate)),
    );
  }

  /** Absolute output frame at the start of the next `render`. */
  get frame(): number {
    return this.clock;
  }

  /** Frames queued and not yet rendered, all utterances. */
  get bufferedFrames(): number {
    let total = 0;
    for (const s of this.segments) total += s.written - s.read;
    return total;
  }

  /** Something is being rendered (not waiting for the prebuffer, not paused). */
  get isPlaying(): boolean {
    return this.playing && !this.pausedFlag;
  }

  get isPaused(): boolean {
    return this.pausedFlag;
  }

  /** Times playback ran dry in the middle of an utterance that had not ended. */
  get underruns(): number {
    return this.underrunCount;
  }

  /** Samples dropped because they belonged to a cleared utterance or overflowed the ring. */
  get dropped(): number {
    return this.droppedSamples;
  }

  /** Utterances queued or playing, in play order. */
  get utterances(): number[] {
    return this.segments.map((s) => s.utterance);
  }

  /** Ms of `utterance` rendered so far (0 if unknown). */
  playedMs(utterance: number): number {
    const s = this.segments.find((x) => x.utterance === utterance);
    return s ? this.ms(s.read) : 0;
  }

  /** Queues samples of an utterance; false if they were dropped (a cleared utterance). */
  write(utterance: number, samples: ArrayLike<number>): boolean {
    if (this.cleared.includes(utterance)) {
      this.droppedSamples += samples.length;
      return false;
    }
    let segment = this.segments.find((s) => s.utterance === utterance);
    if (!segment) {
      segment = {
        utterance,
        runs: [],
        runAt: 0,
        written: 0,
        read: 0,
        ended: false,
        started: false,
        lastFrame: this.clock,
      };
      this.segments.push(segment);
    }
    if (segment.ended || samples.length === 0) return samples.length === 0;
    if (!this.reserve(samples.length)) {
      this.droppedSamples += samples.length;
      return false;
    }
    const capacity = this.data.length;
    const at = this.writeIndex % capacity;
    const first = Math.min(samples.length, capacity - at);
    const data = this.data;
    for (let i = 0; i < first; i++) data[at + i] = samples[i]!;
    for (let i = first; i < samples.length; i++) data[i - first] = samples[i]!;
    const last = segment.runs[segment.runs.length - 1];
    if (last && last.start + last.length === this.writeIndex && this.runs[this.runs.length - 1] === last) {
      last.length += samples.length;
    } else {
      const run: Run = { start: this.writeIndex, length: samples.length, done: 0 };
      segment.runs.push(run);
      this.runs.push(run);
    }
    segment.written += samples.length;
    this.writeIndex += samples.length;
    return true;
  }

  /** No more audio will come for `utterance`: it finishes once what is queued has played. */
  end(utterance: number): void {
    const segment = this.segments.find((s) => s.utterance === utterance);
    if (segment) segment.ended = true;
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
  }

  /**
   * Drops all queued audio at once (barge-in): `utterance` and anything queued with it. Returns
   * what each dropped utterance had played (always including `utterance`, 0 ms if unknown).
   * Late audio for them is dropped too.
   */
  clear(utterance: number): ClearedUtterance[] {
    const result: ClearedUtterance[] = [];
    const head = this.segments[0];
    if (head && this.playing && head.started && this.gain > 0) this.captureFade(head);
    for (const s of this.segments) {
      result.push({ utterance: s.utterance, playedMs: this.ms(s.read) });
      this.remember(s.utterance);
    }
    if (!result.some((r) => r.utterance === utterance)) result.unshift({ utterance, playedMs: 0 });
    this.remember(utterance);
    for (const s of this.segments) this.droppedSamples += s.written - s.read;
    this.segments = [];
    this.runs = [];
    this.playing = false;
    return result;
  }

  /**
   * Renders the next quantum into `out` (mono, usually 128 frames) and appends what happened
   * to `events`. Silence where nothing plays.
   */
  render(out: Float32Array, events: RingEvent[]): void {
    const frames = out.length;
    out.fill(0);
    if (this.fadeLength > 0) {
      const n = Math.min(this.fadeLength, frames);
      for (let i = 0; i < n; i++) out[i] = this.fade[i]!;
      this.fadeLength = 0;
    }
    let frame = 0;
    const step = this.fadeFrames > 0 ? 1 / this.fadeFrames : 1;
    while (frame < frames) {
      const head = this.segments[0];
      if (!head) {
        this.playing = false;
        break;
      }
      const available = head.written - head.read;
      if (available === 0 && head.ended) {
        events.push({
          type: 'finished',
          utterance: head.utterance,
          frame: head.started ? head.lastFrame : this.clock + frame,
          playedMs: this.ms(head.read),
        });
        this.segments.shift();
        this.reclaim();
        // The next utterance starts with its own prebuffer.
        this.playing = false;
        continue;
      }
      if (this.pausedFlag && this.gain === 0) break;
      if (!this.playing) {
        if (this.pausedFlag) break;
        if (available < this.prebufferFrames && !head.ended) break;
        if (available === 0) break;
        this.playing = true;
      }
      if (available === 0) {
        // Ran dry before the utterance ended: wait for the prebuffer again.
        this.playing = false;
        this.underrunCount++;
        break;
      }
      if (!head.started) {
        head.started = true;
        events.push({ type: 'played', utterance: head.utterance, frame: this.clock + frame });
      }
      const n = Math.min(frames - frame, available);
      const target = this.pausedFlag ? 0 : 1;
      const copied = this.copy(head, out, frame, n, target, step);
      frame += copied;
      if (copied > 0) head.lastFrame = this.clock + frame;
      if (this.pausedFlag && this.gain === 0) break;
    }
    this.clock += frames;
  }

  /** Copies up to n samples of the head into out, ramping the gain toward target; stops at gain 0. */
  private copy(
    head: Segment,
    out: Float32Array,
    offset: number,
    n: number,
    target: number,
    step: number,
  ): number {
    const data = this.data;
    const capacity = data.length;
    let copied = 0;
    if (this.fadeFrames === 0) this.gain = target;
    let gain = this.gain;
    if (gain === 0 && target === 0) return 0;
    while (copied < n) {
      const run = head.runs[head.runAt]!;
      const left = run.length - run.done;
      if (left === 0) {
        head.runAt++;
        continue;
      }
      const count = Math.min(left, n - copied);
      let at = (run.start + run.done) % capacity;
      let i = 0;
      for (; i < count; i++) {
        if (gain !== target) {
          gain = target > gain ? Math.min(target, gain + step) : Math.max(target, gain - step);
        }
        const o = offset + copied + i;
        out[o] = out[o]! + data[at]! * gain;
        at = at + 1 === capacity ? 0 : at + 1;
        if (gain === 0 && target === 0) {
          i++;
          break;
        }
      }
      run.done += i;
      head.read += i;
      copied += i;
      if (gain === 0 && target === 0) break;
    }
    this.gain = gain;
    this.reclaim();
    return copied;
  }

  /** Fades out the next samples of the head from the current gain, for the quantum after a clear. */
  private captureFade(head: Segment): void {
    const count = Math.min(this.fadeFrames, head.written - head.read);
    if (count === 0) return;
    const data = this.data;
    const capacity = data.length;
    let runAt = head.runAt;
    let done = head.runs[runAt]?.done ?? 0;
    for (let i = 0; i < count; i++) {
      let run = head.runs[runAt]!;
      while (done >= run.length) {
        runAt++;
        done = 0;
        run = head.runs[runAt]!;
      }
      const g = this.gain * (1 - (i + 1) / (count + 1));
      this.fade[i] = data[(run.start + done) % capacity]! * g;
      done++;
    }
    this.fadeLength = count;
  }

  private remember(utterance: number): void {
    if (this.cleared.includes(utterance)) return;
    this.cleared.push(utterance);
    if (this.cleared.length > CLEARED_MEMORY) this.cleared.shift();
  }

  private ms(samples: number): number {
    return (samples / this.sampleRate) * 1000;
  }

  /** Forgets runs fully read, oldest first. */
  private reclaim(): void {
    let k = 0;
    while (k < this.runs.length && this.runs[k]!.done === this.runs[k]!.length) k++;
    if (k > 0) this.runs.splice(0, k);
  }

  /** Makes room for `count` more samples, growing the ring if needed; false past the maximum. */
  private reserve(count: number): boolean {
    const low = this.runs[0] ? this.runs[0].start + this.runs[0].done : this.writeIndex;
    const used = this.writeIndex - low;
    if (used + count <= this.data.length) return true;
    const max = Math.round(MAX_SECONDS * this.sampleRate);
    if (used + count > max) return false;
    let size = this.data.length;
    while (size < used + count) size *= 2;
    size = Math.min(size, max);
    const bigger = new Float32Array(size);
    const old = this.data;
    for (let abs = low; abs < this.writeIndex; abs++) bigger[abs % size] = old[abs % old.length]!;
    this.data = bigger;
    return true;
  }
}
