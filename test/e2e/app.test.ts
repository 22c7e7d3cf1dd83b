/**
 * The renderer build in Debian's Chromium, over the WebSocket bridge, against the real app core
 * and engine with the provider simulators; Chromium's fake microphone plays a corpus case. These
 * run in real time (the microphone is real time); they assert what happens, never how fast.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { e2eSuite, ROOT, screenshot } from './harness';

const WEATHER = join(ROOT, 'test', 'fixtures', 'cases', 'weather-question');

describe('the app in Chromium over the WebSocket bridge', () => {
  const suite = e2eSuite();

  it('hears the microphone, shows the conversation and plays the reply, measured at the speaker', async () => {
    const app = await suite.start({ caseDir: WEATHER });
    const { page, core } = app;
    await page.getByRole('button', { name: 'Start' }).click();
    await expect
      .poll(() => page.locator('.status-label').textContent(), { timeout: 10_000 })
      .toBe('Listening');
    const user = page.locator('.messages .message--user .message-text').first();
    await user.waitFor({ timeout: 20_000 });
    expect((await user.textContent())?.toLowerCase()).toBe("what's the weather like in paris today?");
    const agent = page.locator('.message--agent').first();
    await agent.waitFor({ timeout: 20_000 });
    await expect
      .poll(async () => (await agent.textContent()) ?? '', { timeout: 20_000 })
      .toContain("It's sunny and 22 degrees in Paris today.");
    // The renderer's playback worklet reported the reply audible: e2e latency is measured at the speaker.
    await expect
      .poll(async () => (await core.request('session:report', {}))?.turns[0]?.e2e_latency_ms ?? null, {
        timeout: 20_000,
      })
      .toBeGreaterThan(0);
    // The timeline shows the turn with its latency breakdown and what preemption did.
    const card = page.locator('.cue-timeline__card').first();
    await card.waitFor({ timeout: 10_000 });
    await expect.poll(async () => (await card.textContent()) ?? '', { timeout: 10_000 }).toMatch(/Turn 0/);
    await expect
      .poll(async () => (await card.locator('.cue-timeline__card-e2e').textContent()) ?? '', {
        timeout: 10_000,
      })
      .toMatch(/\d+ ms/);
    expect(await card.locator('.cue-timeline__card-text').textContent()).toMatch(/weather like in paris/i);
    const stats = (await page.locator('.cue-timeline__stats').textContent()) ?? '';
    expect(stats).toMatch(/turns\s*1/);
    expect(stats).toMatch(/e2e p50\s*\d+ ms/);
    await screenshot(page, 'conversation');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'conversation-dark');

    // The session report exports as JSON with the turn in it.
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 10_000 }),
      page.getByRole('button', { name: /Export report/ }).click(),
    ]);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
      turns: { transcript: string }[];
    };
    expect(exported.turns[0]!.transcript.toLowerCase()).toContain("what's the weather like in paris today");
    expect(app.consoleErrors).toEqual([]);
  }, 90_000);

  it('refuses an invalid setting in place, naming what is allowed, and keeps what was typed', async () => {
    const app = await suite.start();
    const { page } = app;
    await page.locator('.toolbar').getByRole('button', { name: 'Settings' }).click();
    const minDelay = page.locator('#opt-turn_handling-endpointing-min_delay');
    await minDelay.scrollIntoViewIfNeeded();
    await minDelay.fill('42');
    await expect
      .poll(async () => (await page.locator('body').textContent()) ?? '', { timeout: 5_000 })
      .toContain('must be between 0 and 10 s');
    expect(await minDelay.inputValue()).toBe('42');
    expect(await page.getByRole('button', { name: /Save changes/ }).isDisabled()).toBe(true);
    await screenshot(page, 'settings-invalid');
  }, 60_000);

  it('applies a preset from the settings panel, showing what it changes', async () => {
    const app = await suite.start();
    const { page, core } = app;
    await page.locator('.toolbar').getByRole('button', { name: 'Settings' }).click();
    const apply = page.getByRole('button', { name: /^Apply fast \(\d+ changes?\)$/ });
    await apply.scrollIntoViewIfNeeded();
    await apply.click();
    await expect
      .poll(
        async () => (await core.request('settings:get', {})).settings.turn_handling.endpointing.min_delay,
        {
          timeout: 5_000,
        },
      )
      .toBe(0.3);
    expect(
      (await core.request('settings:get', {})).settings.turn_handling.preemptive_generation.preemptive_tts,
    ).toBe(true);
    await screenshot(page, 'settings-preset-fast');
  }, 60_000);

  it('says plainly when the microphone is not allowed', async () => {
    const app = await suite.start({
      caseDir: WEATHER,
      mediaFlags: ['--use-fake-device-for-media-stream', '--deny-permission-prompts'],
    });
    const { page } = app;
    await page.getByRole('button', { name: 'Start' }).click();
    await expect
      .poll(async () => (await page.locator('body').textContent()) ?? '', { timeout: 15_000 })
      .toContain('Cue is not allowed to use the microphone');
    await screenshot(page, 'microphone-denied');
  }, 60_000);

  it('says plainly when there is no microphone', async () => {
    const app = await suite.start({ caseDir: WEATHER, mediaFlags: ['--use-fake-ui-for-media-stream'] });
    const { page } = app;
    await page.getByRole('button', { name: 'Start' }).click();
    await expect
      .poll(async () => (await page.locator('body').textContent()) ?? '', { timeout: 15_000 })
      .toContain('No microphone found. Connect a microphone');
    expect(await page.getByRole('button', { name: 'Retry microphone' }).isVisible()).toBe(true);
    await screenshot(page, 'no-microphone');
  }, 60_000);
});
