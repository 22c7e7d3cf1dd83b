import type { AudioDown, AudioUp } from './contract';

/**
 * The audio channel of the contract (AudioUp / AudioDown) as compact binary messages, for
 * carriers that move bytes (the WebSocket bridge's binary frames). All numbers little endian.
 *
 * Every message starts with a 4-byte header, then fixed fields, then (for `mic` and `audio`)
 * 16-bit PCM samples to the end of the message:
 *
 *   offset 0  u8   version (1)
 *   offset 1  u8   type code (below)
 *   offset 2  u16  reserved, 0
 *
 *   renderer → main (AudioUp)
 *   0x01 mic       f64 ageMs @4                                   samples @12
 *   0x02 played    i32 utterance @4, f64 ageMs @8                 (16 bytes)
 *   0x03 finished  i32 utterance @4, f64 ageMs @8, f64 playedMs @16 (24 bytes)
 *
 *   main → renderer (AudioDown)
 *   0x11 audio     i32 utterance @4, u32 sampleRate @8            samples @12
 *   0x12 end       i32 utterance @4                               (8 bytes)
 *   0x13 pause                                                    (4 bytes)
 *   0x14 resume                                                   (4 bytes)
 *   0x15 clear     i32 utterance @4                               (8 bytes)
 *
 * Decoding checks the version, the type, the exact length of fixed messages and that sample
 * payloads are whole 16-bit samples, and throws an AudioWireError saying what is wrong.
 * Decoded samples are always a fresh copy (never a view on the socket's buffer).
 */

export const AUDIO_WIRE_VERSION = 1;

export class AudioWireError extends Error {
  override name = 'AudioWireError';
}

const HEADER = 4;
const MAX_SAMPLE_RATE = 384_000;

const UP_CODES = { mic: 0x01, played: 0x02, finished: 0x03 } as const satisfies Record<
  AudioUp['type'],
  number
>;
const DOWN_CODES = {
  audio: 0x11,
  end: 0x12,
  pause: 0x13,
  resume: 0x14,
  clear: 0x15,
} as const satisfies Record<AudioDown['type'], number>;

/** Byte offset of the samples in `mic` and `audio` messages. */
const MIC_SAMPLES_AT = 12;
const AUDIO_SAMPLES_AT = 12;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------- encoding ----------

export function encodeAudioUp(message: AudioUp): Uint8Array<ArrayBuffer> {
  switch (message.type) {
    case 'mic': {
      const { bytes, view } = allocate(UP_CODES.mic, MIC_SAMPLES_AT + message.samples.length * 2);
      view.setFloat64(4, finite('mic', 'ageMs', message.ageMs), true);
      writeSamples(bytes, MIC_SAMPLES_AT, message.samples);
      return bytes;
    }
    case 'played': {
      const { bytes, view } = allocate(UP_CODES.played, 16);
      view.setInt32(4, utteranceOf('played', message.utterance), true);
      view.setFloat64(8, finite('played', 'ageMs', message.ageMs), true);
      return bytes;
    }
    case 'finished': {
      const { bytes, view } = allocate(UP_CODES.finished, 24);
      view.setInt32(4, utteranceOf('finished', message.utterance), true);
      view.setFloat64(8, finite('finished', 'ageMs', message.ageMs), true);
      view.setFloat64(16, finite('finished', 'playedMs', message.playedMs), true);
      return bytes;
    }
    default:
      throw new AudioWireError(
        `cannot encode audio message of type "${(message as { type: unknown }).type}"`,
      );
  }
}

export function encodeAudioDown(message: AudioDown): Uint8Array<ArrayBuffer> {
  switch (message.type) {
    case 'audio': {
      const { bytes, view } = allocate(DOWN_CODES.audio, AUDIO_SAMPLES_AT + message.samples.length * 2);
      view.setInt32(4, utteranceOf('audio', message.utterance), true);
      view.setUint32(8, sampleRateOf('audio', message.sampleRate), true);
      writeSamples(bytes, AUDIO_SAMPLES_AT, message.samples);
      return bytes;
    }
    case 'end':
    case 'clear': {
      const { bytes, view } = allocate(DOWN_CODES[message.type], 8);
      view.setInt32(4, utteranceOf(message.type, message.utterance), true);
      return bytes;
    }
    case 'pause':
    case 'resume':
      return allocate(DOWN_CODES[message.type], HEADER).bytes;
    default:
      throw new AudioWireError(
        `cannot encode audio message of type "${(message as { type: unknown }).type}"`,
      );
  }
}

// ---------- decoding ----------

export type AudioWireInput = ArrayBuffer | ArrayBufferView;

export function decodeAudioUp(data: AudioWireInput): AudioUp {
  const { bytes, view, code } = open(data);
  switch (code) {
    case UP_CODES.mic:
      atLeast(bytes, MIC_SAMPLES_AT, 'mic');
      return {
        type: 'mic',
        ageMs: readFinite(view, 4, 'mic', 'ageMs'),
        samples: readSamples(bytes, MIC_SAMPLES_AT, 'mic'),
      };
    case UP_CODES.played:
      exactly(bytes, 16, 'played');
      return {
        type: 'played',
        utterance: view.getInt32(4, true),
        ageMs: readFinite(view, 8, 'played', 'ageMs'),
      };
    case UP_CODES.finished:
      exactly(bytes, 24, 'finished');
      return {
        type: 'finished',
        utterance: view.getInt32(4, true),
        ageMs: readFinite(view, 8, 'finished', 'ageMs'),
        playedMs: readFinite(view, 16, 'finished', 'playedMs'),
      };
    default:
      throw new AudioWireError(unknownType(code, 'renderer → main (mic, played, finished)'));
  }
}

export function decodeAudioDown(data: AudioWireInput): AudioDown {
  const { bytes, view, code } = open(data);
  switch (code) {
    case DOWN_CODES.audio: {
      atLeast(bytes, AUDIO_SAMPLES_AT, 'audio');
      const sampleRate = view.getUint32(8, true);
      if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE)
        throw new AudioWireError(`audio message: sample rate ${sampleRate} is outside 1..${MAX_SAMPLE_RATE}`);
      return {
        type: 'audio',
        utterance: view.getInt32(4, true),
        sampleRate,
        samples: readSamples(bytes, AUDIO_SAMPLES_AT, 'audio'),
      };
    }
    case DOWN_CODES.end:
      exactly(bytes, 8, 'end');
      return { type: 'end', utterance: view.getInt32(4, true) };
    case DOWN_CODES.clear:
      exactly(bytes, 8, 'clear');
      return { type: 'clear', utterance: view.getInt32(4, true) };
    case DOWN_CODES.pause:
      exactly(bytes, HEADER, 'pause');
      return { type: 'pause' };
    case DOWN_CODES.resume:
      exactly(bytes, HEADER, 'resume');
      return { type: 'resume' };
    default:
      throw new AudioWireError(unknownType(code, 'main → renderer (audio, end, pause, resume, clear)'));
  }
}

// ---------- helpers ----------

function allocate(code: number, length: number): { bytes: Uint8Array<ArrayBuffer>; view: DataView } {
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, AUDIO_WIRE_VERSION);
  view.setUint8(1, code);
  view.setUint16(2, 0, true);
  return { bytes, view };
}

function open(data: AudioWireInput): { bytes: Uint8Array; view: DataView; code: number } {
  let bytes: Uint8Array;
  if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  else throw new AudioWireError('audio message must be binary (an ArrayBuffer or a byte view)');
  if (bytes.byteLength < HEADER)
    throw new AudioWireError(
      `audio message too short: ${bytes.byteLength} bytes, the header alone is ${HEADER}`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== AUDIO_WIRE_VERSION)
    throw new AudioWireError(`audio message has version ${version}, expected ${AUDIO_WIRE_VERSION}`);
  const reserved = view.getUint16(2, true);
  if (reserved !== 0) throw new AudioWireError(`audio message header: reserved bytes are ${reserved}, not 0`);
  return { bytes, view, code: view.getUint8(1) };
}

function exactly(bytes: Uint8Array, length: number, type: string): void {
  if (bytes.byteLength !== length)
    throw new AudioWireError(`${type} message must be ${length} bytes, got ${bytes.byteLength}`);
}

function atLeast(bytes: Uint8Array, length: number, type: string): void {
  if (bytes.byteLength < length)
    throw new AudioWireError(`${type} message must be at least ${length} bytes, got ${bytes.byteLength}`);
}

function unknownType(code: number, expected: string): string {
  return `unknown audio message type 0x${code.toString(16).padStart(2, '0')}; expected ${expected}`;
}

function readFinite(view: DataView, offset: number, type: string, field: string): number {
  const value = view.getFloat64(offset, true);
  if (!Number.isFinite(value)) throw new AudioWireError(`${type} message: ${field} is not a finite number`);
  return value;
}

function readSamples(bytes: Uint8Array, offset: number, type: string): Int16Array {
  const byteLength = bytes.byteLength - offset;
  if (byteLength % 2 !== 0)
    throw new AudioWireError(
      `${type} message: ${byteLength} bytes of samples is not a whole number of 16-bit samples`,
    );
  const samples = new Int16Array(byteLength / 2);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(samples.buffer).set(bytes.subarray(offset));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, byteLength);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
  }
  return samples;
}

function writeSamples(bytes: Uint8Array, offset: number, samples: Int16Array): void {
  if (!(samples instanceof Int16Array)) throw new AudioWireError('samples must be an Int16Array');
  if (LITTLE_ENDIAN_HOST) {
    bytes.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength), offset);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, samples.byteLength);
    for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
  }
}

function finite(type: string, field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new AudioWireError(`${type} message: ${field} must be a finite number, got ${String(value)}`);
  return value;
}

function utteranceOf(type: string, value: number): number {
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff)
    throw new AudioWireError(`${type} message: utterance must be a 32-bit integer, got ${String(value)}`);
  return value;
}

function sampleRateOf(type: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_SAMPLE_RATE)
    throw new AudioWireError(
      `${type} message: sample rate must be an integer in 1..${MAX_SAMPLE_RATE}, got ${String(value)}`,
    );
  return value;
}
