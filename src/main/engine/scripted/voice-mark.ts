/**
 * A mark in the scripted voice's audio that says which synthesis it is and where in it: so a
 * speaker that only hears samples can tell, sample-exactly, which synthesis was heard, from
 * when, and for how long, whatever system played it and however it cut the audio into frames.
 *
 * The six low bits of every sample carry the mark. Eight consecutive samples, aligned on the
 * synthesis's own sample count, make a frame of 48 bits: the synthesis's mark (16 bits), the
 * frame's number (24 bits) and a check (8 bits). The voice itself (a quiet tone) keeps its upper
 * bits, so it still sounds the same. A system that changes the samples (gain, resampling) wipes
 * the mark out; the reader then finds none, and says so rather than guessing.
 */

export const MARK_BITS = 6;
export const FRAME_SAMPLES = 8;
const MARK_MASK = (1 << MARK_BITS) - 1;
const MAX_MARK = 0xffff;
const MAX_FRAME = 0xffffff;
/** XORed into each slot, so that silence (all zero bits) does not read as a mark. */
const WHITEN = [0x2b, 0x11, 0x3e, 0x05, 0x36, 0x1c, 0x29, 0x0f];

/** The 48-bit frame payload's check byte. */
function check(mark: number, frame: number): number {
  let h = 0x9e;
  for (const byte of [mark & 0xff, mark >>> 8, frame & 0xff, (frame >>> 8) & 0xff, frame >>> 16]) {
    h = Math.imul(h ^ byte, 0x5bd1e995) >>> 0;
    h ^= h >>> 13;
  }
  return h & 0xff;
}

/** The six bits sample `index` (of a synthesis marked `mark`) carries. */
function code(mark: number, index: number): number {
  const frame = Math.floor(index / FRAME_SAMPLES) & MAX_FRAME;
  const slot = index % FRAME_SAMPLES;
  // 48 bits: mark (16) | frame (24) | check (8); slot k carries bits 6k .. 6k + 5.
  const high = mark * 0x100 + (frame >>> 16); // bits 24..47 as a 24-bit number
  const low = ((frame & 0xffff) << 8) | check(mark, frame); // bits 0..23
  const bits = slot < 4 ? low >>> (slot * MARK_BITS) : high >>> ((slot - 4) * MARK_BITS);
  return (bits ^ WHITEN[slot]!) & MARK_MASK;
}

/**
 * Marks `samples` (in place) as samples `offset` .. `offset + samples.length` of the synthesis
 * marked `mark` (0 .. 65535).
 */
export function markVoice(samples: Int16Array, mark: number, offset: number): Int16Array {
  if (!Number.isInteger(mark) || mark < 0 || mark > MAX_MARK)
    throw new RangeError(`voice mark must be a whole number from 0 to ${MAX_MARK} (got ${mark})`);
  for (let i = 0; i < samples.length; i++) samples[i] = (samples[i]! & ~MARK_MASK) | code(mark, offset + i);
  return samples;
}

/** A stretch of heard samples that the mark places in one synthesis. */
export interface MarkedRun {
  /** The synthesis's mark. */
  mark: number;
  /** Index of the run's first sample in the samples read. */
  at: number;
  /** Samples in the run. */
  length: number;
  /** Index of the run's first sample in the synthesis's own audio. */
  synthesisSample: number;
}

/** Decodes the frame at samples[at .. at + 8), or null when it does not check. */
function frameAt(samples: Int16Array, at: number): { mark: number; frame: number } | null {
  if (at + FRAME_SAMPLES > samples.length) return null;
  let low = 0;
  let high = 0;
  for (let k = 0; k < 4; k++) low |= ((samples[at + k]! ^ WHITEN[k]!) & MARK_MASK) << (k * MARK_BITS);
  for (let k = 0; k < 4; k++)
    high |= ((samples[at + 4 + k]! ^ WHITEN[4 + k]!) & MARK_MASK) << (k * MARK_BITS);
  const mark = high >>> 8;
  const frame = ((high & 0xff) << 16) | (low >>> 8);
  return (low & 0xff) === check(mark, frame) ? { mark, frame } : null;
}

/**
 * The runs of marked audio in `samples`, in order. A run needs two consecutive frames that
 * agree (same mark, consecutive numbers) to start; samples no run covers carry no readable
 * mark (silence, or audio a system changed).
 */
export function readVoiceMarks(samples: Int16Array): MarkedRun[] {
  const runs: MarkedRun[] = [];
  let at = 0;
  while (at + 2 * FRAME_SAMPLES <= samples.length) {
    const start = syncFrom(samples, at);
    if (!start) break;
    const { mark } = start;
    let { pos, frame } = start;
    // The samples just before the first whole frame belong to it when they carry its mark.
    let lead = 0;
    while (
      lead < FRAME_SAMPLES - 1 &&
      pos - lead - 1 >= at &&
      (samples[pos - lead - 1]! & MARK_MASK) === code(mark, frame * FRAME_SAMPLES - lead - 1)
    )
      lead++;
    const run: MarkedRun = {
      mark,
      at: pos - lead,
      length: lead,
      synthesisSample: frame * FRAME_SAMPLES - lead,
    };
    for (;;) {
      const next = frameAt(samples, pos);
      if (!next || next.mark !== mark || next.frame !== frame) break;
      run.length += FRAME_SAMPLES;
      pos += FRAME_SAMPLES;
      frame++;
    }
    // A partial frame at the very end continues the run when its samples match the mark.
    let tail = 0;
    while (pos + tail < samples.length && tail < FRAME_SAMPLES) {
      if ((samples[pos + tail]! & MARK_MASK) !== code(mark, frame * FRAME_SAMPLES + tail)) break;
      tail++;
    }
    if (pos + tail === samples.length) run.length += tail;
    runs.push(run);
    at = run.at + run.length;
  }
  return runs;
}

/** The first position from `from` where two consecutive frames agree. */
function syncFrom(samples: Int16Array, from: number): { pos: number; mark: number; frame: number } | null {
  for (let pos = from; pos + 2 * FRAME_SAMPLES <= samples.length; pos++) {
    const first = frameAt(samples, pos);
    if (!first) continue;
    const second = frameAt(samples, pos + FRAME_SAMPLES);
    if (second && second.mark === first.mark && second.frame === first.frame + 1) return { pos, ...first };
  }
  return null;
}
