import { describe, expect, it } from 'vitest';
import {
  contrast,
  parseColour,
  readableOn,
  THEME_VARIABLES,
} from '../../src/renderer/src/timeline/timeline-theme';

describe('canvas labels read at 4.5:1 on the bars they sit on', () => {
  it('reads the colours a computed style gives and the fallbacks', () => {
    expect(parseColour('#e07b24')).toEqual([224, 123, 36]);
    expect(parseColour('#fff')).toEqual([255, 255, 255]);
    expect(parseColour('rgb(24, 26, 31)')).toEqual([24, 26, 31]);
    expect(parseColour('rgba(232, 233, 236, 0.09)')).toEqual([232, 233, 236]);
    expect(parseColour('color(srgb 1 0 0)')).toBeNull();
  });

  it('white on the light theme’s orange agent bar was 2.9:1; the label now takes black', () => {
    const agent = parseColour(THEME_VARIABLES.agent[1])!;
    expect(contrast(agent, [255, 255, 255])).toBeLessThan(3);
    expect(readableOn(THEME_VARIABLES.agent[1], 0.85, '#ffffff')).toBe('#000000');
  });

  it('every lane colour, light and dark, at the alphas the canvas draws, gets a label of 4.5:1 or more', () => {
    const dark = ['#3ccf8e', '#3cc4dd', '#7d9bff', '#f2b53a', '#b69af0', '#f07470', '#f07fa3', '#f5a054'];
    const light = Object.values(THEME_VARIABLES)
      .map(([, fallback]) => fallback)
      .filter((c) => c.startsWith('#'));
    for (const [colours, background] of [
      [light, '#ffffff'],
      [dark, '#181a1f'],
    ] as const) {
      for (const colour of colours) {
        for (const alpha of [0.18, 0.28, 0.3, 0.35, 0.75, 0.85]) {
          const label = readableOn(colour, alpha, background);
          const fill = parseColour(colour)!;
          const under = parseColour(background)!;
          const mixed = fill.map((v, i) => v * alpha + under[i]! * (1 - alpha)) as [number, number, number];
          expect(
            contrast(mixed, parseColour(label)!),
            `${colour} at ${alpha} on ${background}`,
          ).toBeGreaterThanOrEqual(4.5);
        }
      }
    }
  });
});
