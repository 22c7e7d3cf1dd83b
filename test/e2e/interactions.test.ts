/**
 * e2e: barge-in, a microphone unplugged mid-session and plugged back in, the troubleshooting
 * panel, and the timeline's hover, pause and scroll back. Same set-up as app.test.ts: the
 * renderer build in Debian's Chromium over the WebSocket bridge, the real app core and engine,
 * the provider simulators, and Chromium's fake microphone playing a case. Probes observe the
 * page's audio APIs (page-probes.ts); nothing waits for a fixed time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fieldId, formatValue, valueAt } from '../../src/renderer/src/settings/fields';
import { adviseSymptom, TROUBLESHOOTING } from '../../src/renderer/src/settings/troubleshooting';
import { formatDuration, formatTime } from '../../src/renderer/src/timeline/timeline-format';
import { layoutLanes } from '../../src/renderer/src/timeline/timeline-geometry';
import type { TimelineEvent, TimelineEventOf } from '../../src/shared/timeline';
import { e2eSuite, ROOT, screenshot, type E2eApp } from './harness';
import { installAudioProbe, installDeviceEmulation, type AudioProbe } from './page-probes';

/** Frames per buffer of the output tap (page-probes.ts). */
const TAP_FRAMES = 256;
const WEATHER = join(ROOT, 'test', 'fixtures', 'cases', 'weather-question');
const THREE_TURNS = join(ROOT, 'test', 'fixtures', 'cases', 'three-turns');
const BARGE_IN = join(ROOT, 'test', 'fixtures', 'e2e', 'barge-in');
const BARGE_IN_REPLY = (
  JSON.parse(readFileSync(join(BARGE_IN, 'case.json'), 'utf8')) as { turns: { reply: string }[] }
).turns[0]!.reply;

describe('interactions in Chromium over the WebSocket bridge', () => {
  const suite = e2eSuite();

  it('a barge-in flushes the playback buffer at once and the timeline marks the reply interrupted', async () => {
    const app = await suite.start({
      caseDir: BARGE_IN,
      playOnce: true,
      init: (page) => page.addInitScript(installAudioProbe),
    });
    const { page, core } = app;
    // A real interruption needs words: three of them (the user says seven over the reply).
    const update = await core.request('settings:update', {
      patch: { turn_handling: { interruption: { min_words: 3 } } },
    });
    expect(update.ok).toBe(true);
    await page.getByRole('button', { name: 'Start' }).click();
    await page.waitForFunction(
      () => window.__cueAudioProbe?.playback.some((m) => m.type === 'cleared') ?? false,
      undefined,
      { timeout: 25_000 },
    );
    // The answer starts playing after the flush.
    await page.waitForFunction(
      () => {
        const log = window.__cueAudioProbe?.playback ?? [];
        const flushed = log.findIndex((m) => m.type === 'cleared');
        return flushed >= 0 && log.slice(flushed).some((m) => m.type === 'played');
      },
      undefined,
      { timeout: 15_000 },
    );
    const probe = await page.evaluate(() => {
      const p = window.__cueAudioProbe!;
      return { sampleRate: p.sampleRate, playback: p.playback, tap: p.tap } as Omit<
        AudioProbe,
        'context' | 'capture' | 'contextStates'
      >;
    });
    const quantumS = 128 / probe.sampleRate;
    const played = probe.playback.filter((m) => m.dir === 'out' && m.type === 'played');
    const toWorklet = probe.playback.filter((m) => m.dir === 'in');
    const clears = toWorklet.filter((m) => m.type === 'clear');
    const cleared = probe.playback.filter((m) => m.dir === 'out' && m.type === 'cleared');
    // One clear, answered by the worklet, for an utterance that was playing (the story) and never
    // finished; the next utterance to play is the answer.
    expect(clears).toHaveLength(1);
    const clear = clears[0]!;
    const story = played.find((m) => m.utterance === clear.utterance);
    const answer = played.find((m) => m.utterance !== clear.utterance && m.at > clear.at);
    expect(story).toBeDefined();
    expect(answer).toBeDefined();
    expect(cleared.map((m) => m.utterance)).toEqual([story!.utterance]);
    expect(probe.playback.some((m) => m.type === 'finished' && m.utterance === story!.utterance)).toBe(false);
    const flush = cleared[0]!;
    // Seconds of the story's audio were queued in the worklet when it was cleared, and dropped.
    const queuedMs =
      (toWorklet
        .filter((m) => m.type === 'audio' && m.utterance === story!.utterance && m.at <= clear.at)
        .reduce((sum, m) => sum + (m.frames ?? 0), 0) /
        probe.sampleRate) *
      1000;
    expect(queuedMs - flush.playedMs!).toBeGreaterThan(1000);
    // The worklet stopped the story at once. It had rendered no more of it when it applied the
    // clear than the context had rendered since the story began when the engine posted the clear
    // (less if the story ever ran dry); the main thread reads the context time once per audio
    // callback, so this holds to within a callback of a few quanta.
    const renderedAtPost = (clear.at - story!.contextTime!) * 1000;
    const lateMs = flush.playedMs! - renderedAtPost;
    expect(lateMs).toBeLessThan(30);
    // At the speaker (a tap on the worklet's output, its own latency measured on the story's first
    // sample): the story was audible before the clear, stopped within a few ms of it, and nothing
    // was heard from just after it until the answer began.
    const loud = ([, peak]: [number, number]) => peak > 0.005;
    const during = (from: number, to: number) => probe.tap.filter(([t]) => t >= from && t < to);
    const tapLatency = probe.tap.find(loud)![0] - story!.contextTime!;
    const beforeClear = during(story!.contextTime! + 0.05, clear.at - 0.05);
    expect(beforeClear.length).toBeGreaterThan(100);
    expect(beforeClear.filter(loud).length / beforeClear.length).toBeGreaterThan(0.8);
    const lastStory = during(story!.contextTime!, answer!.contextTime! - 0.02)
      .filter(loud)
      .at(-1)![0];
    const stopMs = (lastStory + TAP_FRAMES / probe.sampleRate - tapLatency - clear.at) * 1000;
    console.log(
      `barge-in: ${Math.round(queuedMs - flush.playedMs!)} ms of queued audio flushed; the worklet rendered ` +
        `${(Math.round(lateMs * 10) / 10 || 0).toFixed(1)} ms of it after the clear was posted; the output fell silent ${stopMs.toFixed(1)} ms ` +
        `after it (a render quantum is ${(quantumS * 1000).toFixed(1)} ms, a tap buffer ${((TAP_FRAMES / probe.sampleRate) * 1000).toFixed(1)} ms)`,
    );
    expect(stopMs).toBeLessThan(30);
    const afterClear = during(clear.at + 0.05, answer!.contextTime! - 0.02);
    expect(afterClear.length).toBeGreaterThan(20);
    expect(afterClear.filter(loud)).toEqual([]);

    // The engine ended the story as interrupted.
    const ended = app.timeline.find((e) => e.type === 'agent_speech_ended' && e.interrupted);
    expect(ended?.type).toBe('agent_speech_ended');
    if (ended?.type !== 'agent_speech_ended') return;
    console.log(
      `barge-in: the engine counts ${ended.played_ms} ms heard, the worklet rendered ${flush.playedMs!.toFixed(0)} ms`,
    );
    const report = await core.request('session:report', {});
    expect(report?.turns[0]?.interrupted).toBe(true);
    expect(report?.totals.interruptions).toBe(1);

    // The window: the story marked interrupted (cut to what was heard), then the answer.
    const heardText = ended.spoken_text;
    expect(heardText.length).toBeGreaterThan(10);
    expect(BARGE_IN_REPLY.startsWith(heardText)).toBe(true);
    expect(heardText.length).toBeLessThan(BARGE_IN_REPLY.length);
    const agents = page.locator('.messages .message--agent');
    await expect
      .poll(async () => (await agents.last().textContent()) ?? '', { timeout: 10_000 })
      .toContain("Okay, I'll stop there.");
    const interrupted = agents.filter({ has: page.locator('.tag', { hasText: 'Interrupted' }) });
    expect(await interrupted.count()).toBe(1);
    // What was heard, then the dash that marks the cut.
    expect((await interrupted.locator('.message-text').textContent())?.trim()).toBe(`${heardText} —`);
    const users = page.locator('.messages .message--user .message-text');
    await expect
      .poll(async () => ((await users.last().textContent()) ?? '').toLowerCase(), { timeout: 10_000 })
      .toContain('wait stop that is enough for now');
    // The timeline: one interruption, and turn 0's card flagged interrupted.
    await expect.poll(() => timelineStat(page, 'interruptions'), { timeout: 10_000 }).toBe('1');
    const card0 = page.locator('.cue-timeline__card', { hasText: 'Turn 0' });
    await expect
      .poll(() => card0.locator('.cue-timeline__flag--interrupted').count(), { timeout: 10_000 })
      .toBe(1);
    // Replies start on a context that was suspended while nothing played: each report is still
    // timed at the speaker from a fresh output timestamp (a stale one would age it by the time
    // the context slept).
    console.log(
      `barge-in: report ages ${app.reports.map((r) => `${r.type} ${r.ageMs.toFixed(1)} ms`).join(', ')}`,
    );
    expect(app.reports.filter((r) => r.type === 'played').length).toBeGreaterThanOrEqual(2);
    for (const report of app.reports) expect(report.ageMs).toBeLessThan(250);
    const states = await page.evaluate(() => window.__cueAudioProbe!.contextStates.map(([, state]) => state));
    console.log(`barge-in: the context went ${states.join(' → ')}`);
    // Running, then suspended while idle, then running again for a reply.
    const idle = states.indexOf('suspended', states.indexOf('running'));
    expect(idle).toBeGreaterThan(0);
    expect(states.slice(idle)).toContain('running');
    expect(app.consoleErrors).toEqual([]);
    await screenshot(page, 'barge-in');
  }, 60_000);

  it('says the microphone was unplugged, sends nothing meanwhile, and listens again when it is back', async () => {
    const app = await suite.start({
      caseDir: WEATHER,
      init: async (page) => {
        await page.addInitScript(installAudioProbe);
        await page.addInitScript(installDeviceEmulation);
      },
    });
    const { page } = app;
    const status = page.locator('.audio-status');
    const captureNodes = () => page.evaluate(() => window.__cueAudioProbe?.capture ?? []);
    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => status.getAttribute('data-mic-state'), { timeout: 15_000 }).toBe('capturing');
    const label = (await status.locator('.audio-status-label').textContent()) ?? '';
    expect(label).toMatch(/^Mic: \S/);
    // 25 frames of 20 ms: half a second of microphone reached main.
    await expect.poll(() => app.audioUp.mic, { timeout: 10_000 }).toBeGreaterThan(25);
    // In Chromium the capture worker reads the track (no capture worklet), and it has its own way
    // to main (a socket of its own to the bridge's mic endpoint): once the page gives it the
    // address, the frames do not pass through the page, only the meter's readings do (before it,
    // they take the page's way).
    await expect.poll(async () => (await captureNodes())[0]?.sinks, { timeout: 10_000 }).toBe(1);
    const handedOver = (await captureNodes())[0]!;
    expect(handedOver.kind).toBe('worker');
    expect((await captureNodes()).filter((n) => n.kind === 'worklet')).toEqual([]);
    const micBefore = app.audioUp.mic;
    await expect.poll(() => app.audioUp.mic, { timeout: 10_000 }).toBeGreaterThan(micBefore + 25);
    const first = (await captureNodes())[0]!;
    expect(first.sinks).toBe(1);
    expect(first.levels).toBeGreaterThan(0);
    // Frames already on their way to the page when the port was handed over may still arrive
    // (a busy page lags): a few, against the 25 that reached main meanwhile.
    expect(first.frames - handedOver.frames).toBeLessThanOrEqual(5);
    // With nothing to play, the page's AudioContext is suspended (its audio thread idle), and the
    // microphone, read outside it, keeps reaching main.
    await expect
      .poll(() => page.evaluate(() => window.__cueAudioProbe?.context?.state), { timeout: 10_000 })
      .toBe('suspended');
    const micSuspended = app.audioUp.mic;
    await expect.poll(() => app.audioUp.mic, { timeout: 10_000 }).toBeGreaterThan(micSuspended + 25);
    // The meter shows those readings: its value for assistive technology in 5 dB steps, the bar
    // drawn to the level (−60 dB: empty, 0 dB: full).
    const meter = page.getByRole('meter', { name: 'Microphone level' });
    const meterState = () =>
      meter.evaluate(async (element) => {
        // The share of the bar's canvas that is drawn, read from its pixels (middle row). The
        // canvas hands its pixels to an OffscreenCanvas, so they are read from what it shows.
        const canvas = element.querySelector<HTMLCanvasElement>('canvas.audio-level__bar')!;
        const image = new Image();
        image.src = canvas.toDataURL();
        await image.decode();
        const copy = document.createElement('canvas');
        copy.width = image.width;
        copy.height = image.height;
        const context = copy.getContext('2d')!;
        context.drawImage(image, 0, 0);
        const row = context.getImageData(0, Math.floor(copy.height / 2), copy.width, 1).data;
        let drawn = 0;
        for (let x = 0; x < copy.width; x++) if (row[x * 4 + 3]! > 0) drawn++;
        return {
          min: element.getAttribute('aria-valuemin'),
          max: element.getAttribute('aria-valuemax'),
          now: Number(element.getAttribute('aria-valuenow')),
          text: element.getAttribute('aria-valuetext'),
          scale: drawn / copy.width,
          // A canvas that handed its pixels to an OffscreenCanvas has no context of its own.
          transferred: (() => {
            try {
              canvas.getContext('2d');
              return false;
            } catch {
              return true;
            }
          })(),
        };
      });
    let hearing = await meterState();
    await expect
      .poll(async () => (hearing = await meterState()).now, { timeout: 5_000 })
      .toBeGreaterThan(-60);
    expect([hearing.min, hearing.max]).toEqual(['-60', '0']);
    expect(hearing.transferred).toBe(true);
    expect(Number.isInteger(hearing.now / 5)).toBe(true);
    expect(hearing.text).toBe(`${hearing.now} dB`);
    // ±2.5 dB: the value is in 5 dB steps; one pixel of the ~94 px bar for rounding. The pixels
    // shown may be a reading behind the value (they reach the screen on the next frame).
    await expect
      .poll(async () => {
        const { scale, now } = await meterState();
        return Math.abs(scale - (1 + now / 60));
      })
      .toBeLessThanOrEqual(2.5 / 60 + 0.011);

    await page.evaluate(() => window.__cueDevices!.unplug());
    await expect.poll(() => status.getAttribute('data-mic-state'), { timeout: 5_000 }).toBe('error');
    await expect
      .poll(async () => (await page.locator('.banners').textContent()) ?? '', { timeout: 5_000 })
      .toContain('The microphone was disconnected. Reconnect it or connect another one');
    expect(await status.locator('.audio-status-label').textContent()).toBe('Microphone unavailable');
    // Nothing to hear: the meter is empty (drawn on the next live frame).
    await expect.poll(meterState, { timeout: 2_000 }).toMatchObject({ now: -60, text: 'silent', scale: 0 });
    // The header does not claim to listen without a microphone.
    await expect
      .poll(() => page.locator('.status-label').textContent(), { timeout: 5_000 })
      .toBe('Not hearing you');
    expect(await page.getByRole('button', { name: 'Retry microphone' }).isVisible()).toBe(true);
    // The app tried to reopen a microphone at once (the new default), found none, and while
    // unplugged no microphone audio reaches main: over 0.6 s, not one frame more (give or take
    // one already on its way).
    expect(await page.evaluate(() => window.__cueDevices!.getUserMediaCalls)).toBeGreaterThanOrEqual(2);
    const whileLost = app.audioUp.mic;
    const lostAt = await page.evaluate(() => performance.now());
    await page.waitForFunction((t) => performance.now() > t + 600, lostAt, { timeout: 5_000 });
    expect(app.audioUp.mic - whileLost).toBeLessThanOrEqual(1);
    expect(await status.getAttribute('data-mic-state')).toBe('error');
    await screenshot(page, 'microphone-unplugged');

    // Plugged back in: capture resumes on a new track by itself (no Retry click).
    const nodesBefore = (await captureNodes()).length;
    await page.evaluate(() => window.__cueDevices!.plugIn());
    await expect.poll(() => status.getAttribute('data-mic-state'), { timeout: 5_000 }).toBe('capturing');
    expect(await status.locator('.audio-status-label').textContent()).toBe(label);
    await expect
      .poll(() => page.locator('.status-label').textContent(), { timeout: 5_000 })
      .not.toBe('Not hearing you');
    // A new capture node on the new track, given its own mic port, metering what it hears...
    await expect
      .poll(
        async () => (await captureNodes()).slice(nodesBefore).some((n) => n.sinks === 1 && n.levels > 0),
        {
          timeout: 5_000,
        },
      )
      .toBe(true);
    // ...and whose frames reach main again.
    await expect.poll(() => app.audioUp.mic - whileLost, { timeout: 5_000 }).toBeGreaterThan(25);
    // The error is withdrawn with the problem: no stale "disconnected" notice while it listens.
    await expect
      .poll(async () => (await page.locator('.banners').textContent()) ?? '', { timeout: 5_000 })
      .not.toContain('The microphone was disconnected');
    await screenshot(page, 'microphone-recovered');
    expect(app.consoleErrors).toEqual([]);
  }, 60_000);

  it('troubleshooting: a symptom lists the options that fix it, and each jumps to its field to change it', async () => {
    const app = await suite.start();
    const { page, core } = app;
    const options = await core.request('settings:describe', {});
    const settings = (await core.request('settings:get', {})).settings;
    const byPath = new Map(options.map((o) => [o.path, o]));
    await page.locator('.toolbar').getByRole('button', { name: 'Settings' }).click();
    await page.locator('.drawer-nav').getByRole('button', { name: 'Troubleshooting' }).click();
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.id), { timeout: 5_000 })
      .toBe('settings-troubleshooting-title');
    const symptoms = page.locator('.troubleshooting .symptom');
    expect(await symptoms.locator('.symptom-title').allTextContents()).toEqual(
      TROUBLESHOOTING.map((s) => s.title),
    );

    // "It cuts me off mid-sentence": every option that fixes it, with its current value and advice.
    const symptom = TROUBLESHOOTING.find((s) => s.id === 'cuts-me-off')!;
    const fixes = adviseSymptom(symptom, settings, options);
    expect(fixes.length).toBeGreaterThanOrEqual(4);
    const panel = symptoms.filter({ hasText: symptom.title });
    expect(await panel.locator('.fix').first().isVisible()).toBe(false);
    await panel.locator('summary').click();
    expect(await panel.getAttribute('open')).not.toBeNull();
    expect(await panel.locator('.symptom-count').textContent()).toBe(`${fixes.length} options`);
    expect(await panel.locator('.symptom-cause').textContent()).toBe(symptom.cause);
    const rows = panel.locator('.fix');
    expect(await rows.count()).toBe(fixes.length);
    for (const [i, fix] of fixes.entries()) {
      const option = byPath.get(fix.path)!;
      const row = rows.nth(i);
      expect(await row.isVisible()).toBe(true);
      expect((await row.locator('.fix-option').textContent())?.replace(/\s+/g, ' ').trim()).toBe(
        `${option.label} (now ${formatValue(option, valueAt(settings, fix.path))})`,
      );
      expect(await row.locator('.fix-advice').textContent()).toBe(fix.text);
    }
    await screenshot(page, 'troubleshooting');

    // Jump to Min delay: its field scrolls into view, flashes and has the focus; change it there.
    const path = 'turn_handling.endpointing.min_delay';
    const option = byPath.get(path)!;
    await panel.getByRole('button', { name: `Go to option: ${option.label}` }).click();
    const inputId = fieldId(path);
    const field = page.locator(`#field-${inputId}`);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.id), { timeout: 5_000 })
      .toBe(inputId);
    expect(await field.getAttribute('class')).toContain('field--flash');
    const inView = async () => {
      const box = await field.boundingBox();
      const frame = await page.locator('.drawer-content').boundingBox();
      return !!box && !!frame && box.y >= frame.y && box.y + box.height <= frame.y + frame.height;
    };
    await expect.poll(inView, { timeout: 5_000 }).toBe(true);
    await screenshot(page, 'troubleshooting-jump');
    await page.locator(`#${inputId}`).fill('0.8');
    await page.getByRole('button', { name: /Save changes/ }).click();
    await expect
      .poll(
        async () => (await core.request('settings:get', {})).settings.turn_handling.endpointing.min_delay,
        {
          timeout: 5_000,
        },
      )
      .toBe(0.8);
    // Back in the panel, the symptom shows the new value.
    await page.locator('.drawer-nav').getByRole('button', { name: 'Troubleshooting' }).click();
    const minDelayRow = rows.nth(fixes.findIndex((f) => f.path === path));
    await expect
      .poll(
        async () => (await minDelayRow.locator('.fix-option').textContent())?.replace(/\s+/g, ' ').trim(),
        {
          timeout: 5_000,
        },
      )
      .toBe(`${option.label} (now ${formatValue(option, 0.8)})`);
    expect(app.consoleErrors).toEqual([]);
  }, 60_000);

  it('timeline: hover shows exact times, pause holds the view, scrolling back shows earlier turns, follow resumes', async () => {
    const app = await suite.start({ caseDir: THREE_TURNS, playOnce: true });
    const { page } = app;
    const section = page.locator('section.cue-timeline');
    const card = (n: number) =>
      page.locator('.cue-timeline__card-item').filter({
        has: page.locator('.cue-timeline__card-name', { hasText: new RegExp(`^Turn ${n}$`) }),
      });
    const inView = async (n: number) => (await card(n).getAttribute('data-in-view')) === 'true';
    const hasE2e = async (n: number) =>
      (await card(n).count()) > 0 &&
      /\d+ ms/.test((await card(n).locator('.cue-timeline__card-e2e').textContent()) ?? '');
    await page.getByRole('button', { name: 'Start' }).click();
    // Turn 1's reply is audible; a 5 s window following live soon leaves turn 0 behind.
    await expect.poll(() => hasE2e(1), { timeout: 25_000 }).toBe(true);
    await page.getByRole('combobox', { name: 'Visible window' }).selectOption('5000');
    expect(await section.getAttribute('data-following')).toBe('true');
    await expect.poll(() => inView(0), { timeout: 10_000 }).toBe(false);
    expect(await inView(1)).toBe(true);

    // Pause.
    const follow = page.locator('.cue-timeline__follow');
    await follow.click();
    await expect.poll(() => section.getAttribute('data-following'), { timeout: 5_000 }).toBe('false');
    expect(await follow.getAttribute('aria-pressed')).toBe('false');
    expect(await follow.textContent()).toContain('Paused');

    // Scroll back (horizontal wheel over the plot) until turn 0 is in view again.
    const canvas = page.locator('canvas.cue-timeline__canvas');
    let wheels = 0;
    while (!(await inView(0)) && wheels < 20) {
      // Where the plot is now (the stats above it may wrap as their figures grow).
      const plot = (await canvas.boundingBox())!;
      await page.mouse.move(plot.x + plot.width * 0.6, plot.y + 40);
      await page.mouse.wheel(-250, 0);
      wheels++;
      await page.waitForFunction(() => new Promise((resolve) => requestAnimationFrame(() => resolve(true))));
    }
    expect(await inView(0)).toBe(true);
    expect(wheels).toBeGreaterThan(0);
    expect(await section.getAttribute('data-following')).toBe('false');

    // Hover: an item under the pointer shows its exact times, as the engine sent them. The whole
    // plot in the window first (a small window scrolls the page).
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const found = await hoverFind(page, box, app.timeline);
    expect(found, 'no agent or user speech under the pointer in the view').not.toBeNull();
    expect(found!.rows).toEqual(found!.expected);
    await screenshot(page, 'timeline-hover');

    // While paused the view stays put: turn 2 happens (its reply is heard) out of view, and turn 0
    // stays in view. Cards list the turns up to the view's right edge, so turn 2 has none yet.
    await page.mouse.move(1, 1);
    await expect
      .poll(() => app.timeline.some((e) => e.type === 'agent_speech_started' && e.turn === 2), {
        timeout: 20_000,
      })
      .toBe(true);
    await expect.poll(() => timelineStat(page, 'turns'), { timeout: 5_000 }).toBe('3');
    expect(await inView(0)).toBe(true);
    expect(await card(2).count()).toBe(0);
    expect(await section.getAttribute('data-following')).toBe('false');
    await screenshot(page, 'timeline-paused-scrolled-back');

    // Follow live again: the latest turn comes into view, turn 0 leaves it.
    await follow.click();
    await expect.poll(() => section.getAttribute('data-following'), { timeout: 5_000 }).toBe('true');
    await expect.poll(() => inView(2), { timeout: 5_000 }).toBe(true);
    expect(await inView(0)).toBe(false);
    await screenshot(page, 'timeline-follow-resumed');
    expect(app.consoleErrors).toEqual([]);
  }, 60_000);
});

type Page = E2eApp['page'];

/** A figure of the timeline's stats bar, by its label. */
function timelineStat(page: Page, label: string): Promise<string | null> {
  return page
    .locator('.cue-timeline__stat')
    .filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) })
    .locator('dd')
    .textContent();
}

/**
 * Moves the pointer along the agent speech lane, then the user speech lane, until the tooltip
 * shows one of those items; returns its rows and the rows the engine's events call for.
 */
async function hoverFind(
  page: Page,
  box: { x: number; y: number; width: number; height: number },
  events: readonly TimelineEvent[],
): Promise<{ title: string; rows: string[][]; expected: string[][] } | null> {
  // The lanes are scaled to fit the viewport: find the scale that gives the canvas its height.
  let layout = layoutLanes();
  for (let scale = 0.62; scale <= 1.5; scale += 0.01) {
    const candidate = layoutLanes(undefined, { scale: Math.round(scale * 100) / 100 });
    if (Math.abs(candidate.totalHeight - box.height) < 0.5) layout = candidate;
  }
  const tooltip = page.locator('.cue-timeline__tooltip');
  for (const lane of ['agent', 'speech'] as const) {
    const laneBox = layout.lanes.find((l) => l.id === lane)!;
    // The lanes scroll inside the timeline when it is short: bring this one into the window.
    await page
      .locator('.cue-timeline__viewport')
      .evaluate((el, top) => el.scrollTo({ top: Math.max(0, top - 8) }), laneBox.top);
    await page.locator('canvas.cue-timeline__canvas').scrollIntoViewIfNeeded();
    const plot = (await page.locator('canvas.cue-timeline__canvas').boundingBox())!;
    const y = plot.y + laneBox.top + laneBox.height / 2;
    for (let x = plot.x + 120; x < plot.x + plot.width - 4; x += 6) {
      await page.mouse.move(x, y);
      // The tooltip renders on the page's next frame: wait for it (a busy machine delays it).
      await page.evaluate(
        () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))),
      );
      if ((await tooltip.count()) === 0) continue;
      const title = (await tooltip.locator('.cue-timeline__tooltip-title').textContent()) ?? '';
      const rows = await tooltip
        .locator('dl > div')
        .evaluateAll((divs) =>
          divs.map((d) => [d.querySelector('dt')!.textContent!, d.querySelector('dd')!.textContent!]),
        );
      const agent = /^Agent speech #(\d+)/.exec(title);
      if (agent) {
        const request = Number(agent[1]);
        const started = events.find(
          (e): e is TimelineEventOf<'agent_speech_started'> =>
            e.type === 'agent_speech_started' && e.request === request,
        )!;
        const ended = events.find(
          (e): e is TimelineEventOf<'agent_speech_ended'> =>
            e.type === 'agent_speech_ended' && e.request === request,
        )!;
        return {
          title,
          rows,
          expected: [
            ['audible', formatTime(started.t)],
            [
              ended.interrupted ? 'interrupted' : 'finished',
              `${formatTime(ended.t)} (+${formatDuration(ended.t - started.t)})`,
            ],
            ['played', formatDuration(ended.played_ms)],
          ],
        };
      }
      if (title === 'User speech (VAD)') {
        const began = rows[0]?.[1];
        const start = events.find(
          (e): e is TimelineEventOf<'user_speech_started'> =>
            e.type === 'user_speech_started' && formatTime(e.at) === began,
        );
        if (!start)
          return { title, rows, expected: [['speech began', '(no user_speech_started at that time)']] };
        const end = events.find(
          (e): e is TimelineEventOf<'user_speech_ended'> => e.type === 'user_speech_ended' && e.t > start.t,
        )!;
        return {
          title,
          rows,
          expected: [
            ['speech began', formatTime(start.at)],
            ['VAD decided', `${formatTime(start.t)} (+${formatDuration(start.t - start.at)})`],
            ['speech ended', formatTime(end.at)],
            ['end confirmed', `${formatTime(end.t)} (+${formatDuration(end.t - end.at)})`],
            ['duration', formatDuration(end.duration)],
          ],
        };
      }
    }
  }
  return null;
}
