/**
 * Colours of the canvas, read from CSS custom properties under `.cue-timeline` (timeline.css
 * defines them with fallbacks on the app's --bg / --fg / --muted / --panel / --border / --accent,
 * in light and dark). Values are resolved through a probe element, so `light-dark()`, `var()`
 * chains and any colour syntax end up as something a canvas understands.
 */

export interface TimelineTheme {
  background: string;
  laneAlt: string;
  foreground: string;
  muted: string;
  grid: string;
  accent: string;
  live: string;
  selection: string;
  user: string;
  transcript: string;
  turn: string;
  eager: string;
  endpointing: string;
  preemptive: string;
  reused: string;
  cancelled: string;
  discarded: string;
  llm: string;
  tts: string;
  agent: string;
  interruption: string;
  falseInterruption: string;
  resumed: string;
  error: string;
  font: string;
}

/** CSS variable (and light fallback) for each colour. */
export const THEME_VARIABLES: Record<Exclude<keyof TimelineTheme, 'font'>, [string, string]> = {
  background: ['--tl-bg', '#ffffff'],
  laneAlt: ['--tl-lane-alt', 'rgba(127,127,127,0.06)'],
  foreground: ['--tl-fg', '#1b1c1f'],
  muted: ['--tl-muted', '#5d616b'],
  grid: ['--tl-grid', 'rgba(127,127,127,0.22)'],
  accent: ['--tl-accent', '#3a63f3'],
  live: ['--tl-live', '#e5484d'],
  selection: ['--tl-selection', '#3a63f3'],
  user: ['--tl-user', '#1f9d6a'],
  transcript: ['--tl-transcript', '#0f8fa8'],
  turn: ['--tl-turn', '#3a63f3'],
  eager: ['--tl-eager', '#c98a00'],
  endpointing: ['--tl-endpointing', '#8a63d2'],
  preemptive: ['--tl-preemptive', '#c98a00'],
  reused: ['--tl-reused', '#1f9d6a'],
  cancelled: ['--tl-cancelled', '#8b8f99'],
  discarded: ['--tl-discarded', '#d9534f'],
  llm: ['--tl-llm', '#3a63f3'],
  tts: ['--tl-tts', '#d2567d'],
  agent: ['--tl-agent', '#e07b24'],
  interruption: ['--tl-interruption', '#e5484d'],
  falseInterruption: ['--tl-false-interruption', '#8b8f99'],
  resumed: ['--tl-resumed', '#1f9d6a'],
  error: ['--tl-error', '#d92d20'],
};

export function fallbackTheme(): TimelineTheme {
  const theme = { font: 'system-ui, sans-serif' } as TimelineTheme;
  for (const [key, [, fallback]] of Object.entries(THEME_VARIABLES)) {
    (theme as unknown as Record<string, string>)[key] = fallback;
  }
  return theme;
}

/** Resolves the theme from the CSS in effect at `element` (inside `.cue-timeline`). */
export function readTheme(element: Element): TimelineTheme {
  const theme = fallbackTheme();
  const doc = element.ownerDocument;
  const view = doc.defaultView;
  if (!view) return theme;
  const probe = doc.createElement('span');
  probe.setAttribute('aria-hidden', 'true');
  probe.style.position = 'absolute';
  probe.style.width = '0';
  probe.style.height = '0';
  probe.style.overflow = 'hidden';
  probe.style.visibility = 'hidden';
  element.appendChild(probe);
  try {
    for (const [key, [name, fallback]] of Object.entries(THEME_VARIABLES)) {
      probe.style.color = '';
      probe.style.color = `var(${name}, ${fallback})`;
      const value = view.getComputedStyle(probe).color;
      if (value) (theme as unknown as Record<string, string>)[key] = value;
    }
    const family = view.getComputedStyle(element).fontFamily;
    if (family) theme.font = family;
  } finally {
    probe.remove();
  }
  return theme;
}

/** An sRGB colour from "#rgb", "#rrggbb", "rgb(r, g, b)" or "rgba(r, g, b, a)"; null when unreadable. */
export function parseColour(colour: string): [number, number, number] | null {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour.trim());
  if (hex) {
    const digits = hex[1]!.length === 3 ? [...hex[1]!].map((d) => d + d).join('') : hex[1]!;
    return [0, 2, 4].map((i) => parseInt(digits.slice(i, i + 2), 16)) as [number, number, number];
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(colour.trim());
  return rgb ? [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])] : null;
}

function luminance([r, g, b]: [number, number, number]): number {
  const channel = (v: number) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** WCAG contrast ratio of two colours. */
export function contrast(a: [number, number, number], b: [number, number, number]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * Black or white, whichever reads better on `fill` drawn at `alpha` over `background`: canvas
 * labels sit on coloured bars, and the page's own text colour is not always legible there.
 */
export function readableOn(fill: string, alpha: number, background: string): string {
  const top = parseColour(fill);
  const under = parseColour(background) ?? [255, 255, 255];
  if (!top) return '#000000';
  const mixed = top.map((v, i) => v * alpha + under[i]! * (1 - alpha)) as [number, number, number];
  return contrast(mixed, [0, 0, 0]) >= contrast(mixed, [255, 255, 255]) ? '#000000' : '#ffffff';
}
