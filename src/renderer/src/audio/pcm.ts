/** Sample format helpers shared by the worklets and the engine. Pure: no DOM, no Web Audio. */

/** Float samples in [-1, 1] to 16-bit PCM (rounded, clipped), into `out` (a new array by default). */
export function floatToInt16(input: ArrayLike<number>, out = new Int16Array(input.length)): Int16Array {
  for (let i = 0; i < input.length; i++) {
    const v = Math.round(input[i]! * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** 16-bit PCM to float samples in [-1, 1). */
export function int16ToFloat(input: ArrayLike<number>, out = new Float32Array(input.length)): Float32Array {
  for (let i = 0; i < input.length; i++) out[i] = input[i]! / 32768;
  return out;
}

/**
 * Averages the channels of one render quantum into `out` (mono). Returns the frame count, 0 when
 * there is no input (a disconnected or ended source gives zero channels).
 */
export function downmix(channels: readonly Float32Array[], out: Float32Array): number {
  const count = channels.length;
  if (count === 0) return 0;
  const first = channels[0]!;
  const frames = first.length;
  if (count === 1) {
    out.set(first);
    return frames;
  }
  const scale = 1 / count;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < count; c++) sum += channels[c]![i]!;
    out[i] = sum * scale;
  }
  return frames;
}
