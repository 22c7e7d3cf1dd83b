/**
 * A one-turn case for the STT tests: "book a flight to … paris", with a hold after "to" and word
 * times on 20 ms frame boundaries, so the times audio is "received" are exact.
 */
import type { CaseTurn } from '../../src/main/engine/scripted/case';

export const RATE = 16_000;
export const FRAME_MS = 20;
export const FRAME = (RATE * FRAME_MS) / 1000;

export const flight: CaseTurn = {
  words: [
    { text: 'book', start: 0.5, end: 0.8 },
    { text: 'a', start: 0.86, end: 0.96 },
    { text: 'flight', start: 1.0, end: 1.4 },
    { text: 'to', start: 1.46, end: 1.6 },
    { text: 'paris', start: 2.6, end: 3.0 },
  ],
  holds: [{ after: 3, eot_confidence: 0.6 }],
  interims: [],
  end_eot_confidence: 0.92,
  reply: 'Sure. Where are you flying from?',
};
