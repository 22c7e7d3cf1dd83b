/**
 * e2e: the window as a whole, in Debian's Chromium over the WebSocket bridge (same set-up as
 * app.test.ts). axe-core on every screen, the keyboard path through a session, the layout at four
 * window sizes, and a tuning panel change during a conversation. Screenshots of each size go to
 * test/e2e/artifacts/ (window-<width>x<height>.png). Nothing waits for a fixed time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fieldId } from '../../src/renderer/src/settings/fields';
import type { TimelineEventOf } from '../../src/shared/timeline';
import { e2eSuite, ROOT, screenshot } from './harness';

const WEATHER = join(ROOT, 'test', 'fixtures', 'cases', 'weather-question');
const THREE_TURNS = join(ROOT, 'test', 'fixtures', 'cases', 'three-turns');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The window sizes checked: 640×400 is a 1280×800 screen at 200 % zoom. */
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
  { width: 800, height: 600 },
  { width: 640, height: 400 },
] as const;
/** The smallest usable heights (px) of the conversation and the timeline (styles.css, .main). */
const CONVERSATION_MIN = 160;
const TIMELINE_MIN = 340;
/** The timeline's drawing area (its lanes) never gets shorter than 9rem. */
const LANES_MIN = 144;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core on the page as it is (WCAG 2.2 A and AA, and label-in-name): serious or critical only. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the debugging protocol: the page's CSP refuses injected script tags.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (...args: unknown[]) => Promise<unknown> } }).axe;
    const result = (await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
      rules: { 'label-content-name-mismatch': { enabled: true } },
    })) as { violations: AxeViolation[] };
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help}\n${v.nodes
          .slice(0, 5)
          .map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`)
          .join('\n')}`,
    );
}

/** Presses Tab until the focused element's accessible name matches (at most `limit` presses). */
async function tabTo(page: Page, name: RegExp, limit = 80): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return '';
      const labelledBy = el.getAttribute('aria-labelledby');
      const byIds = labelledBy
        ?.split(' ')
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' ');
      const label = el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null;
      return (byIds || el.getAttribute('aria-label') || label || el.textContent || '').trim();
    });
    if (name.test(focused)) return;
  }
  throw new Error(`no element named ${name} reached with ${limit} Tab presses`);
}

/** Horizontal overflow: the page, and any control or text leaving the window or its region. */
async function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const width = window.innerWidth;
    const root = document.documentElement;
    if (root.scrollWidth > width) problems.push(`page ${root.scrollWidth} px wide in ${width} px`);
    const app = document.querySelector('.app')!;
    if (app.scrollWidth > app.clientWidth + 1)
      problems.push(`.app scrolls sideways (${app.scrollWidth} px in ${app.clientWidth} px)`);
    // A scroller meant to scroll sideways (the latency cards' row) may hold more than it shows.
    const scrollsSideways = (el: Element) => {
      for (let node = el.parentElement; node; node = node.parentElement) {
        const overflow = getComputedStyle(node).overflowX;
        if ((overflow === 'auto' || overflow === 'scroll') && node !== app) return true;
      }
      return false;
    };
    for (const el of document.querySelectorAll('button, input, select, textarea, a, h1, h2, p, dd')) {
      const rect = el.getBoundingClientRect();
      // Screen-reader-only text is a 1 px box pulled 1 px out of place on purpose.
      if (rect.width <= 1 || rect.height <= 1 || scrollsSideways(el)) continue;
      if (rect.right > width + 0.5 || rect.left < -0.5)
        problems.push(
          `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 30)}" at ${Math.round(rect.left)}–${Math.round(rect.right)} px`,
        );
    }
    return problems;
  });
}

describe('the window in Chromium: accessible, usable by keyboard, at any size', () => {
  const suite = e2eSuite();

  it('axe-core finds no serious or critical violation on any screen, light or dark', async () => {
    const app = await suite.start({ caseDir: WEATHER });
    const { page } = app;
    for (const scheme of ['light', 'dark'] as const) {
      // Reduced motion: no colour transition half-way between the themes while axe reads colours.
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      // The page sees the change on a task of its own: wait until it does, then for a frame.
      await page.waitForFunction(
        (dark) =>
          matchMedia('(prefers-color-scheme: dark)').matches === dark &&
          matchMedia('(prefers-reduced-motion: reduce)').matches,
        scheme === 'dark',
      );
      await page.evaluate(
        () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))),
      );
      // No colour still in transition from the other scheme (axe would read a colour of each).
      await page.waitForFunction(() =>
        document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState !== 'running'),
      );
      const screens: [string, () => Promise<unknown>][] = [
        ['main window, before the first start', async () => undefined],
        [
          'main window, a conversation under way',
          async () => {
            if (await page.getByRole('button', { name: 'Start' }).isVisible())
              await page.getByRole('button', { name: 'Start' }).click();
            await page.locator('.cue-timeline__card').first().waitFor({ timeout: 30_000 });
          },
        ],
        [
          'a turn selected on the timeline, the legend open',
          async () => {
            // The legend is a pop-over: closed (it is left open by the previous theme's pass).
            const legend = page.locator('.cue-timeline__legend');
            if ((await legend.getAttribute('open')) !== null) await legend.locator('summary').click();
            await page.locator('.cue-timeline__card').first().click();
            await page.locator('.cue-timeline__details').waitFor({ timeout: 5_000 });
            await page.locator('.cue-timeline__legend summary').click();
          },
        ],
        [
          'settings: presets',
          async () => {
            await page.locator('.toolbar').getByRole('button', { name: 'Settings' }).click();
            await page.getByRole('dialog', { name: 'Settings' }).waitFor();
          },
        ],
        [
          'settings: troubleshooting open',
          async () => {
            await page.locator('.drawer-nav').getByRole('button', { name: 'Troubleshooting' }).click();
            await page.locator('.symptom summary').first().click();
          },
        ],
        [
          'settings: providers and keys',
          async () => {
            await page.locator('.drawer-nav').getByRole('button', { name: 'Providers' }).click();
          },
        ],
      ];
      for (const [name, open] of screens) {
        await open();
        expect(await seriousViolations(page), `${scheme}: ${name}`).toEqual([]);
      }
      await page.keyboard.press('Escape');
      await page.getByRole('dialog', { name: 'Settings' }).waitFor({ state: 'detached' });
    }
    expect(app.consoleErrors).toEqual([]);
  }, 120_000);

  it('walks a session by keyboard: start, mute, push-to-talk, settings, change, save, timeline', async () => {
    const app = await suite.start({ caseDir: WEATHER });
    const { page, core } = app;
    const state = () => core.request('app:state', {});

    // Start, and the focus stays on the same button, now Stop.
    await tabTo(page, /^Start$/);
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await state()).running, { timeout: 15_000 }).toBe(true);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.textContent?.trim()), { timeout: 5_000 })
      .toBe('Stop');

    // Mute and unmute with Space.
    await tabTo(page, /^Mute$/);
    await page.keyboard.press('Space');
    await expect.poll(async () => (await state()).muted, { timeout: 5_000 }).toBe(true);
    // Unmute once the button shows it is muted, as a user would.
    const pressed = () => page.evaluate(() => document.activeElement?.getAttribute('aria-pressed'));
    await expect.poll(pressed, { timeout: 5_000 }).toBe('true');
    await page.keyboard.press('Space');
    await expect.poll(async () => (await state()).muted, { timeout: 5_000 }).toBe(false);

    // Push-to-talk: held while Space is down.
    await tabTo(page, /talk/i);
    await page.keyboard.down('Space');
    await expect.poll(async () => (await state()).talking, { timeout: 5_000 }).toBe(true);
    await page.keyboard.up('Space');
    await expect.poll(async () => (await state()).talking, { timeout: 5_000 }).toBe(false);

    // Settings: to the turn section, Min delay up one step (0.05 s), Ctrl+S saves, Escape closes.
    await tabTo(page, /^Settings$/);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Settings' }).waitFor();
    await tabTo(page, /^Turn detection & endpointing$/);
    await page.keyboard.press('Enter');
    await tabTo(page, /^Min delay$/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(
      fieldId('turn_handling.endpointing.min_delay'),
    );
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Control+s');
    await expect
      .poll(
        async () => (await core.request('settings:get', {})).settings.turn_handling.endpointing.min_delay,
        {
          timeout: 5_000,
        },
      )
      .toBe(0.95);
    await page.locator('.foot-status', { hasText: 'All changes saved' }).waitFor({ timeout: 5_000 });
    // Another step up, unsaved: Escape asks first, with the focus on Keep editing.
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Escape');
    const confirm = page.getByRole('alertdialog', { name: /1 unsaved change/ });
    await confirm.waitFor({ timeout: 5_000 });
    // The focus moves once the confirmation has rendered (an effect): on a busy machine, a moment later.
    const focusedText = () => page.evaluate(() => document.activeElement?.textContent?.trim());
    await expect.poll(focusedText, { timeout: 5_000 }).toBe('Keep editing');
    // Discard and close (one Shift+Tab back), and the setting stays as saved.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Settings' }).waitFor({ state: 'detached' });
    expect((await core.request('settings:get', {})).settings.turn_handling.endpointing.min_delay).toBe(0.95);
    await expect.poll(focusedText, { timeout: 5_000 }).toBe('Settings');

    // The timeline: its lanes take the focus; an arrow selects an item and shows its details.
    await page.locator('.cue-timeline__card').first().waitFor({ timeout: 30_000 });
    await tabTo(page, /^Turn timeline:/);
    await page.keyboard.press('ArrowRight');
    await page.locator('.cue-timeline__details').waitFor({ timeout: 5_000 });
    await page.keyboard.press('Escape');
    await page.locator('.cue-timeline__details').waitFor({ state: 'detached', timeout: 5_000 });
    expect(app.consoleErrors).toEqual([]);
  }, 90_000);

  it('at 1280×800, 1024×700, 800×600 and 640×400 nothing leaves the window sideways and the conversation and timeline keep their minimum sizes', async () => {
    const app = await suite.start({ caseDir: WEATHER });
    const { page } = app;
    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('.cue-timeline__card').first().waitFor({ timeout: 30_000 });
    await page.locator('.message--agent').first().waitFor({ timeout: 30_000 });
    for (const size of SIZES) {
      await page.setViewportSize(size);
      const label = `${size.width}×${size.height}`;
      await expect.poll(() => horizontalOverflow(page), { timeout: 5_000 }).toEqual([]);
      const sizes = await page.evaluate(() => {
        const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect();
        return {
          conversation: box('.conversation').height,
          timeline: box('.timeline-region').height,
          canvas: box('.cue-timeline__canvas').width,
          lanes: box('.cue-timeline__viewport').height,
          window: window.innerWidth,
        };
      });
      expect(sizes.conversation, label).toBeGreaterThanOrEqual(CONVERSATION_MIN);
      expect(sizes.timeline, label).toBeGreaterThanOrEqual(TIMELINE_MIN);
      // The drawing area keeps most of the width (it collapsed to 2 px below 830 px once).
      expect(sizes.canvas, label).toBeGreaterThanOrEqual(sizes.window * 0.5);
      expect(sizes.lanes, label).toBeGreaterThanOrEqual(LANES_MIN);
      await screenshot(page, `window-${size.width}x${size.height}`);
    }
    // In the settings at the smaller sizes that show their section list (below 760 px it hides),
    // jumping to a section scrolls the sections, never the dialog itself: Close stays in the window.
    for (const size of SIZES.filter((s) => s.width > 760 && s.width < 1280)) {
      await page.setViewportSize(size);
      await page.locator('.toolbar').getByRole('button', { name: 'Settings' }).click();
      const dialog = page.getByRole('dialog', { name: 'Settings' });
      await dialog.waitFor();
      for (const section of ['Providers', 'Shortcuts']) {
        await page.locator('.drawer-nav').getByRole('button', { name: section }).click();
        await expect
          .poll(() => page.evaluate(() => document.activeElement?.tagName), { timeout: 5_000 })
          .toBe('H3');
        expect(await dialog.evaluate((el) => el.scrollTop), `${size.width}×${size.height} ${section}`).toBe(
          0,
        );
        const close = (await page.getByRole('button', { name: 'Close settings' }).boundingBox())!;
        expect(close.y).toBeGreaterThanOrEqual(0);
        expect(close.x + close.width).toBeLessThanOrEqual(size.width);
      }
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    }
    expect(app.consoleErrors).toEqual([]);
  }, 90_000);

  it('a tuning panel change during a conversation shows on the next turn and as a mark on the timeline', async () => {
    const app = await suite.start({ caseDir: THREE_TURNS });
    const { page, timeline } = app;
    await page.getByRole('button', { name: 'Start' }).click();
    // Turn 0 committed: change Min delay in the panel beside the timeline, and apply it.
    await expect
      .poll(() => timeline.some((e) => e.type === 'turn_committed' && e.turn === 0), { timeout: 20_000 })
      .toBe(true);
    const panel = page.getByRole('region', { name: 'Tune turn-taking' });
    await panel.getByRole('spinbutton', { name: 'Min delay' }).fill('1.3');
    await panel.getByRole('button', { name: 'Apply' }).click();
    await expect
      .poll(() => timeline.filter((e) => e.type === 'settings_changed').length, { timeout: 5_000 })
      .toBe(1);
    const mark = timeline.find((e) => e.type === 'settings_changed') as TimelineEventOf<'settings_changed'>;
    expect(mark.changes).toEqual([
      { path: 'turn_handling.endpointing.min_delay', from: 0.9, to: 1.3, live: true },
    ]);
    // The next turn waits the new min_delay after a likely end; the one before waited the old.
    await expect
      .poll(() => timeline.some((e) => e.type === 'turn_committed' && e.turn === 1), { timeout: 20_000 })
      .toBe(true);
    const likelyWaits = (turn: number) =>
      timeline
        .filter(
          (e): e is TimelineEventOf<'endpointing_wait_started'> =>
            e.type === 'endpointing_wait_started' && e.turn === turn && e.reason.startsWith('likely end'),
        )
        .map((e) => e.delay);
    expect(likelyWaits(0)).toContain(900);
    expect(likelyWaits(1)).toContain(1300);
    expect(likelyWaits(1)).not.toContain(900);
    expect(mark.t).toBeLessThan(timeline.find((e) => e.type === 'user_speech_started' && e.turn === 1)!.t);
    // On the timeline: turn 1's card says it ran under settings change 1, turn 0's does not.
    const card = (name: string) => page.locator('.cue-timeline__card', { hasText: name });
    await expect
      .poll(() => card('Turn 1').locator('.cue-timeline__flag--settings').textContent(), { timeout: 10_000 })
      .toBe('settings 1');
    expect(await card('Turn 0').locator('.cue-timeline__flag--settings').count()).toBe(0);
    // The mark itself, on the turn lane: reached by keyboard, its details say what changed.
    const details = async () => (await page.locator('.cue-timeline__details').textContent()) ?? '';
    await page.locator('.cue-timeline__viewport').focus();
    await page.keyboard.press('Home'); // the first turn's latency, under the lanes
    // Up to the turn lane (turn events, commits and settings marks), then along it.
    const onTurnLane = async () =>
      /^(Turn committed|Settings change|StartOfTurn|EagerEndOfTurn|TurnResumed|EndOfTurn)/.test(
        await details(),
      );
    for (let i = 0; i < 12 && !(await onTurnLane()); i++) await page.keyboard.press('ArrowUp');
    expect(await onTurnLane()).toBe(true);
    for (let i = 0; i < 8 && !(await details()).startsWith('Settings change 1'); i++)
      await page.keyboard.press('ArrowRight');
    expect(await details()).toMatch(/^Settings change 1/);
    expect(await page.locator('.cue-timeline__details').textContent()).toContain(
      'turn_handling.endpointing.min_delay0.9 → 1.3',
    );
    await screenshot(page, 'tuning-change-marked');
    expect(app.consoleErrors).toEqual([]);
  }, 90_000);

  it('a reload during a session rebuilds the conversation and the timeline turns from main', async () => {
    const app = await suite.start({ caseDir: WEATHER });
    const { page } = app;
    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('.message--agent .message-meta').first().waitFor({ timeout: 30_000 });
    await page.reload();
    await page.locator('.message--user').first().waitFor({ timeout: 10_000 });
    expect(
      (await page.locator('.message--user .message-text').first().textContent())?.toLowerCase(),
    ).toContain("what's the weather like in paris today");
    expect(await page.locator('.message--agent .message-text').first().textContent()).toContain(
      "It's sunny and 22 degrees in Paris today.",
    );
    const card = page.locator('.cue-timeline__card', { hasText: 'Turn 0' });
    await expect
      .poll(async () => (await card.locator('.cue-timeline__card-e2e').textContent()) ?? '', {
        timeout: 10_000,
      })
      .toMatch(/\d+ ms/);
    expect(app.consoleErrors).toEqual([]);
  }, 60_000);
});
