/**
 * e2e: recording a session and replaying it under other settings, in Debian's Chromium over the
 * WebSocket bridge (the same set-up as window.test.ts): the Recording indicator while a recorded
 * session runs, the sessions list, a side-by-side replay with its per-turn table, and applying the
 * tried settings. The screenshot of the side-by-side replay goes to test/e2e/artifacts/
 * (sessions-replay.png; docs/sessions-replay.png is copied from it). Nothing waits for a fixed time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { e2eSuite, ROOT, screenshot } from './harness';

const THREE_TURNS = join(ROOT, 'test', 'fixtures', 'cases', 'three-turns');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core (WCAG 2.2 A and AA) on the page: serious or critical violations only. */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (...args: unknown[]) => Promise<unknown> } }).axe;
    const result = (await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    })) as { violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] };
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('recorded sessions in the window', () => {
  const suite = e2eSuite();

  it('records a session, lists it, replays it with min_delay raised beside the recording, and applies that', async () => {
    const app = await suite.start({ caseDir: THREE_TURNS, playOnce: true });
    const { page, core } = app;
    const on = await core.request('settings:update', { patch: { recording: { enabled: true } } });
    expect(on.ok).toBe(true);

    await page.getByRole('button', { name: 'Start' }).click();
    const indicator = page.locator('.rec-indicator');
    await indicator.waitFor({ timeout: 10_000 });
    expect(await indicator.textContent()).toBe('Recording');
    await expect
      .poll(() => app.timeline.filter((e) => e.type === 'agent_speech_ended').length, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(2);
    await page.getByRole('button', { name: 'Stop' }).click();
    await indicator.waitFor({ state: 'detached', timeout: 10_000 });

    // The sessions list: one recording, with its turns and latency.
    await page.getByRole('button', { name: 'Sessions' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sessions' });
    const rows = dialog.getByRole('table', { name: 'Recorded sessions' }).locator('tbody tr');
    await rows.first().waitFor({ timeout: 10_000 });
    expect(await rows.count()).toBe(1);
    const cells = await rows.first().locator('td').allTextContents();
    const committed = app.timeline.filter((e) => e.type === 'turn_committed').length;
    expect(Number(cells[2])).toBe(committed);
    expect(cells[3]).toMatch(/^\d+ ms$/);
    expect(await seriousViolations(page)).toEqual([]);

    // Open it: the recorded timeline; then one option changed from the recording's settings.
    await rows.first().getByRole('button', { name: /^Open/ }).click();
    await dialog.getByTestId('timeline-recorded').waitFor({ timeout: 10_000 });
    await dialog.getByLabel('One option').selectOption('turn_handling.endpointing.min_delay');
    await dialog.getByLabel('New value').fill('1.4');
    await dialog.getByRole('button', { name: 'Replay with this change' }).click();
    // The replay runs in main: its timeline, or the error that says why not.
    await dialog
      .getByTestId('timeline-replayed')
      .or(dialog.locator('.sessions-error'))
      .waitFor({ timeout: 120_000 });
    expect(await dialog.locator('.sessions-error').allTextContents()).toEqual([]);
    expect(await dialog.getByTestId('timeline-replayed').getAttribute('aria-label')).toBe(
      'Replayed with turn_handling.endpointing.min_delay 0.9 → 1.4',
    );
    // The two timelines are the same width, one above the other.
    const recordedBox = (await dialog.getByTestId('timeline-recorded').boundingBox())!;
    const replayedBox = (await dialog.getByTestId('timeline-replayed').boundingBox())!;
    expect(replayedBox.x).toBe(recordedBox.x);
    expect(replayedBox.width).toBe(recordedBox.width);
    expect(replayedBox.y).toBeGreaterThan(recordedBox.y);

    // The per-turn table: every turn, and the end-of-turn delay of likely-end turns up by ~0.5 s.
    const table = dialog.getByRole('table', { name: 'What moved, turn by turn' });
    const turnRows = table.locator('tbody tr');
    expect(await turnRows.count()).toBe(committed);
    const delays = await turnRows.locator('td:nth-child(3) .delta').allTextContents();
    const raised = delays.map((d) => Number(d.replace('−', '-').replace(/[^\d-]/g, '')));
    expect(raised.some((d) => d >= 440 && d <= 560)).toBe(true);
    expect(await table.locator('tfoot').textContent()).toMatch(/p50 \d+ ms → \d+ ms/);
    expect(await dialog.locator('.replay-fidelity').textContent()).toContain(
      'Exact replay of the providers.',
    );
    // Tall enough for the two timelines and the per-turn table in one picture (docs/sessions-replay.png).
    await page.setViewportSize({ width: 1280, height: 1320 });
    await dialog.locator('.sessions-body').evaluate((el) => el.scrollTo(0, 0));
    await screenshot(page, 'sessions-replay');
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(await seriousViolations(page)).toEqual([]);

    // One click applies the tried settings.
    await dialog.getByRole('button', { name: 'Apply these settings' }).click();
    await dialog.getByText('The tried settings are now in force.').waitFor({ timeout: 10_000 });
    const { settings } = await core.request('settings:get', {});
    expect(settings.turn_handling.endpointing.min_delay).toBe(1.4);
    expect(settings.recording.enabled).toBe(true);

    // A change to what Deepgram itself would have sent is marked approximate, and why.
    await dialog.getByLabel('One option').selectOption('stt.nova.endpointing_ms');
    await dialog.getByLabel('New value').fill('300');
    await dialog.getByRole('button', { name: 'Replay with this change' }).click();
    await dialog.locator('.replay-fidelity--approximate').waitFor({ timeout: 60_000 });
    expect(await dialog.getByRole('list', { name: 'Why approximate' }).textContent()).toMatch(
      /stt\.nova\.endpointing_ms: Deepgram decides when to finalise/,
    );

    // Delete it: the list is empty again.
    await dialog.getByRole('button', { name: '← All sessions' }).click();
    await dialog.getByRole('button', { name: /^Delete the session/ }).click();
    await dialog.getByText('No recorded sessions yet.').waitFor({ timeout: 10_000 });
    expect(app.consoleErrors).toEqual([]);
  }, 300_000);
});
