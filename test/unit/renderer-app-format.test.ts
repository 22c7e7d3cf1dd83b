import { describe, expect, it } from 'vitest';
import type { TurnReport } from '../../src/shared/report';
import { defaultSettings } from '../../src/shared/settings';
import {
  describeStatus,
  describeTurnReport,
  formatAccelerator,
  formatMs,
} from '../../src/renderer/src/app/format';
import { pendingLabel } from '../../src/renderer/src/app/Notices';
import { reportFileName } from '../../src/renderer/src/app/report-export';
import { isThemeChoice, nextTheme } from '../../src/renderer/src/app/theme';
import { checkKey, describeKey, openAiKeyOptional } from '../../src/renderer/src/settings/keys';
import { describeOptions } from '../../src/shared/settings';
import { listeningState } from '../helpers/app-state';

const state = listeningState;

describe('status pill', () => {
  it('says when main is not connected, or still connecting', () => {
    expect(describeStatus({ status: 'failed', error: 'x' }, null)).toMatchObject({
      tone: 'offline',
      label: 'Not connected',
    });
    expect(describeStatus({ status: 'connecting' }, null)).toMatchObject({
      tone: 'offline',
      label: 'Connecting…',
    });
  });

  it('names the agent status with muted and push-to-talk qualifiers', () => {
    const ok = { status: 'connected' } as const;
    expect(describeStatus(ok, state())).toEqual({ tone: 'listening', label: 'Listening', detail: null });
    expect(describeStatus(ok, state({ status: 'thinking' })).label).toBe('Thinking');
    expect(describeStatus(ok, state({ status: 'speaking', muted: true, talking: true }))).toEqual({
      tone: 'speaking',
      label: 'Speaking',
      detail: 'microphone muted, push-to-talk held',
    });
    expect(describeStatus(ok, state({ status: 'stopped', running: false }))).toMatchObject({
      tone: 'stopped',
      label: 'Stopped',
    });
  });

  it('does not say Listening while the microphone is unavailable', () => {
    const ok = { status: 'connected' } as const;
    expect(describeStatus(ok, state(), 'error')).toEqual({
      tone: 'offline',
      label: 'Not hearing you',
      detail: 'microphone unavailable',
    });
    expect(describeStatus(ok, state(), 'capturing').label).toBe('Listening');
    // Its reply still plays: speaking is speaking.
    expect(describeStatus(ok, state({ status: 'speaking' }), 'error').label).toBe('Speaking');
  });
});

describe('formatting', () => {
  it('shows the push-to-talk shortcut as pressed on each platform', () => {
    expect(formatAccelerator('CommandOrControl+Shift+Space', 'linux')).toBe('Ctrl+Shift+Space');
    expect(formatAccelerator('CommandOrControl+Shift+Space', 'darwin')).toBe('⌘⇧Space');
    expect(formatAccelerator('Alt+F9', 'win32')).toBe('Alt+F9');
  });

  it('formats durations', () => {
    expect(formatMs(null)).toBe('—');
    expect(formatMs(640.4)).toBe('640 ms');
    expect(formatMs(1234)).toBe('1.2 s');
    expect(formatMs(12_500)).toBe('13 s');
  });

  it('summarises a turn report', () => {
    const report = {
      e2e_latency_ms: 612,
      speculation_reused: true,
      end_of_turn_delay_ms: 300,
      transcript_lag_ms: 100,
      llm_ttft_ms: null,
      tts_ttfb_ms: 150,
      llm_requests: 2,
      llm_requests_wasted: 1,
    } as TurnReport;
    const { short, long } = describeTurnReport(report);
    expect(short).toBe('replied in 612 ms · preemptive reply reused');
    expect(long).toContain('LLM first token: —');
    expect(long).toContain('LLM requests: 2 (1 wasted)');
  });

  it('names the report file by local date and time', () => {
    expect(reportFileName(new Date(2025, 0, 31, 14, 5, 9))).toBe('cue-session-2025-01-31-140509.json');
  });

  it('cycles themes', () => {
    expect(nextTheme('system')).toBe('light');
    expect(nextTheme('light')).toBe('dark');
    expect(nextTheme('dark')).toBe('system');
    expect(isThemeChoice('dark')).toBe(true);
    expect(isThemeChoice('sepia')).toBe(false);
  });

  it('names options waiting for a restart', () => {
    const options = describeOptions();
    expect(pendingLabel('llm.model', options)).toBe('Model (llm.model)');
    expect(pendingLabel('keys.openai', options)).toBe('OpenAI API key');
    expect(pendingLabel('mystery', options)).toBe('mystery');
  });
});

describe('keys', () => {
  it('shows where a key comes from, never the key', () => {
    expect(describeKey('deepgram', { set: false, source: null })).toBe('Not set');
    expect(describeKey('deepgram', { set: true, source: 'environment' })).toBe('Set · from DEEPGRAM_API_KEY');
    expect(describeKey('openai', { set: true, source: 'store' })).toBe('Set · saved by Cue');
    // Without a key store to encrypt with, a key is kept for this run only: never "saved".
    expect(describeKey('openai', { set: true, source: 'store' }, false)).toBe(
      'Set · in memory until Cue quits',
    );
    expect(describeKey('elevenlabs', { set: true, source: 'override' })).toBe('Set · given to this run');
  });

  it('checks a key with the contract’s own rule', () => {
    expect(checkKey('short')).toBe('The key must be at least 8 characters.');
    expect(checkKey('  sk-1234567890  ')).toBeNull();
  });

  it('knows the OpenAI key is optional with a local server', () => {
    const settings = defaultSettings();
    expect(openAiKeyOptional(settings)).toBe(false);
    settings.llm.base_url = 'http://127.0.0.1:11434/v1';
    expect(openAiKeyOptional(settings)).toBe(true);
    settings.llm.base_url = 'https://api.openai.com/v1';
    expect(openAiKeyOptional(settings)).toBe(false);
  });
});
