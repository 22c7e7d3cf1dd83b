import { describe, expect, it } from 'vitest';
import {
  AUDIO_WIRE_VERSION,
  AudioWireError,
  decodeAudioDown,
  decodeAudioUp,
  encodeAudioDown,
  encodeAudioUp,
} from '../../src/shared/audio-wire';
import type { AudioDown, AudioUp } from '../../src/shared/contract';

const pcm = (...values: number[]) => Int16Array.from(values);

describe('audio wire encoding', () => {
  const ups: AudioUp[] = [
    { type: 'mic', samples: pcm(0, 1, -1, 32767, -32768, 1234), ageMs: 12.5 },
    { type: 'mic', samples: pcm(), ageMs: 0 },
    { type: 'played', utterance: 7, ageMs: 3.25 },
    { type: 'played', utterance: -1, ageMs: -0.5 },
    { type: 'finished', utterance: 2_147_483_647, ageMs: 1e-3, playedMs: 4321.125 },
  ];
  const downs: AudioDown[] = [
    { type: 'audio', utterance: 3, samples: pcm(-32768, 0, 32767, -2), sampleRate: 24_000 },
    { type: 'audio', utterance: 0, samples: pcm(), sampleRate: 16_000 },
    { type: 'end', utterance: 3 },
    { type: 'pause' },
    { type: 'resume' },
    { type: 'clear', utterance: -2_147_483_648 },
  ];

  it.each(ups.map((m) => [m.type, m] as const))('round-trips renderer → main %s', (_type, message) => {
    expect(decodeAudioUp(encodeAudioUp(message))).toEqual(message);
  });

  it.each(downs.map((m) => [m.type, m] as const))('round-trips main → renderer %s', (_type, message) => {
    expect(decodeAudioDown(encodeAudioDown(message))).toEqual(message);
  });

  it('is compact and little endian: header, fields, then Int16 PCM', () => {
    const bytes = encodeAudioDown({
      type: 'audio',
      utterance: 1,
      samples: pcm(0x0102, -2),
      sampleRate: 16_000,
    });
    expect(bytes.byteLength).toBe(12 + 4);
    expect([...bytes.subarray(0, 4)]).toEqual([AUDIO_WIRE_VERSION, 0x11, 0, 0]);
    expect([...bytes.subarray(4, 8)]).toEqual([1, 0, 0, 0]);
    expect([...bytes.subarray(8, 12)]).toEqual([0x80, 0x3e, 0, 0]); // 16000
    expect([...bytes.subarray(12)]).toEqual([0x02, 0x01, 0xfe, 0xff]);
    expect(encodeAudioDown({ type: 'pause' }).byteLength).toBe(4);
    expect(encodeAudioUp({ type: 'played', utterance: 1, ageMs: 1 }).byteLength).toBe(16);
  });

  it('encodes sample views on a shared buffer at an offset, and decodes into a fresh copy', () => {
    const backing = new Int16Array([9, 9, 5, -5, 9]);
    const view = backing.subarray(2, 4);
    const bytes = encodeAudioUp({ type: 'mic', samples: view, ageMs: 1 });
    // A Buffer slice at an odd offset inside a bigger allocation, as a socket might hand it over.
    const slab = Buffer.alloc(bytes.byteLength + 3);
    slab.set(bytes, 3);
    const decoded = decodeAudioUp(slab.subarray(3));
    expect(decoded).toEqual({ type: 'mic', samples: pcm(5, -5), ageMs: 1 });
    const samples = (decoded as { samples: Int16Array }).samples;
    expect(samples.byteOffset).toBe(0);
    expect(samples.buffer).not.toBe(slab.buffer);
    // An ArrayBuffer works as well as a view.
    expect(decodeAudioUp(bytes.buffer)).toEqual({ type: 'mic', samples: pcm(5, -5), ageMs: 1 });
  });

  describe('malformed messages are rejected with a clear error', () => {
    const cases: [string, () => unknown, RegExp][] = [
      ['empty', () => decodeAudioUp(new Uint8Array(0)), /too short: 0 bytes/],
      ['short header', () => decodeAudioDown(new Uint8Array([1, 0x13])), /too short: 2 bytes/],
      ['wrong version', () => decodeAudioDown(new Uint8Array([2, 0x13, 0, 0])), /version 2, expected 1/],
      ['reserved bytes set', () => decodeAudioDown(new Uint8Array([1, 0x13, 1, 0])), /reserved/],
      [
        'unknown type',
        () => decodeAudioUp(new Uint8Array([1, 0x7f, 0, 0])),
        /unknown audio message type 0x7f/,
      ],
      [
        'a main → renderer message decoded as renderer → main',
        () => decodeAudioUp(encodeAudioDown({ type: 'pause' })),
        /unknown audio message type 0x13; expected renderer → main/,
      ],
      [
        'a renderer → main message decoded as main → renderer',
        () => decodeAudioDown(encodeAudioUp({ type: 'played', utterance: 1, ageMs: 1 })),
        /unknown audio message type 0x02; expected main → renderer/,
      ],
      [
        'odd sample bytes',
        () => decodeAudioUp(concat(encodeAudioUp({ type: 'mic', samples: pcm(1), ageMs: 0 }), [7])),
        /3 bytes of samples is not a whole number of 16-bit samples/,
      ],
      [
        'truncated fixed message',
        () =>
          decodeAudioUp(
            encodeAudioUp({ type: 'finished', utterance: 1, ageMs: 1, playedMs: 2 }).subarray(0, 20),
          ),
        /finished message must be 24 bytes, got 20/,
      ],
      [
        'trailing bytes on a fixed message',
        () => decodeAudioDown(concat(encodeAudioDown({ type: 'end', utterance: 1 }), [0])),
        /end message must be 8 bytes, got 9/,
      ],
      [
        'audio header cut short',
        () =>
          decodeAudioDown(
            encodeAudioDown({ type: 'audio', utterance: 1, samples: pcm(), sampleRate: 8000 }).subarray(
              0,
              10,
            ),
          ),
        /audio message must be at least 12 bytes, got 10/,
      ],
      [
        'zero sample rate',
        () => {
          const bytes = encodeAudioDown({ type: 'audio', utterance: 1, samples: pcm(1), sampleRate: 8000 });
          new DataView(bytes.buffer).setUint32(8, 0, true);
          return decodeAudioDown(bytes);
        },
        /sample rate 0 is outside/,
      ],
      [
        'NaN age',
        () => {
          const bytes = encodeAudioUp({ type: 'played', utterance: 1, ageMs: 1 });
          new DataView(bytes.buffer).setFloat64(8, Number.NaN, true);
          return decodeAudioUp(bytes);
        },
        /played message: ageMs is not a finite number/,
      ],
      ['not binary', () => decodeAudioUp('hello' as unknown as ArrayBuffer), /must be binary/],
    ];
    it.each(cases)('%s', (_name, run, message) => {
      expect(run).toThrow(AudioWireError);
      expect(run).toThrow(message);
    });
  });

  it('refuses to encode what the wire cannot carry', () => {
    expect(() => encodeAudioUp({ type: 'played', utterance: 1.5, ageMs: 0 })).toThrow(/32-bit integer/);
    expect(() => encodeAudioUp({ type: 'played', utterance: 2 ** 31, ageMs: 0 })).toThrow(/32-bit integer/);
    expect(() => encodeAudioUp({ type: 'mic', samples: pcm(1), ageMs: Number.POSITIVE_INFINITY })).toThrow(
      /ageMs must be a finite number/,
    );
    expect(() => encodeAudioDown({ type: 'audio', utterance: 1, samples: pcm(1), sampleRate: 0 })).toThrow(
      /sample rate must be an integer/,
    );
    expect(() =>
      encodeAudioUp({ type: 'mic', samples: new Float32Array(2) as unknown as Int16Array, ageMs: 0 }),
    ).toThrow(/Int16Array/);
    expect(() => encodeAudioDown({ type: 'stop' } as unknown as AudioDown)).toThrow(/type "stop"/);
  });
});

function concat(bytes: Uint8Array, extra: number[]): Uint8Array {
  const out = new Uint8Array(bytes.byteLength + extra.length);
  out.set(bytes);
  out.set(extra, bytes.byteLength);
  return out;
}
