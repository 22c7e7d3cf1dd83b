import { describe, expect, it } from 'vitest';
import { EndpointingPolicy } from '../../src/main/engine/endpointing';
import { defaultSettings, type EndpointingSettings } from '../../src/shared/settings';

function endpointing(overrides: Partial<EndpointingSettings> = {}): EndpointingSettings {
  return { ...defaultSettings().turn_handling.endpointing, ...overrides };
}

describe('EndpointingPolicy', () => {
  it('fixed: a likely end waits min_delay, an unlikely end max_delay (defaults 0.9 s / 3 s)', () => {
    const policy = new EndpointingPolicy(endpointing());
    expect(policy.delayMs(true)).toBe(900);
    expect(policy.delayMs(false)).toBe(3000);
  });

  it('fixed: uses the configured delays', () => {
    const policy = new EndpointingPolicy(endpointing({ min_delay: 0.2, max_delay: 1.5 }));
    expect(policy.delayMs(true)).toBe(200);
    expect(policy.delayMs(false)).toBe(1500);
  });

  it('fixed: ignores observed pauses for its delays', () => {
    const policy = new EndpointingPolicy(endpointing({ mode: 'fixed' }));
    policy.observePause(1200);
    policy.observePause(1600);
    expect(policy.delayMs(true)).toBe(900);
    expect(policy.delayMs(false)).toBe(3000);
  });

  it('dynamic: uses min_delay until a pause has been observed', () => {
    const policy = new EndpointingPolicy(endpointing({ mode: 'dynamic' }));
    expect(policy.learnedPauseMs).toBeNull();
    expect(policy.pauseSamples).toBe(0);
    expect(policy.delayMs(true)).toBe(900);
    expect(policy.delayMs(false)).toBe(3000);
  });

  it('dynamic: learns the typical pause and waits a little longer than it for a likely end', () => {
    const policy = new EndpointingPolicy(endpointing({ mode: 'dynamic' }));
    policy.observePause(800);
    expect(policy.learnedPauseMs).toBe(800);
    const first = policy.delayMs(true);
    expect(first).toBeGreaterThan(800);
    expect(first).toBeLessThanOrEqual(3000);
    expect(first).toBeCloseTo(1000, 6);

    // A longer pause moves the estimate up, smoothed (not jumping to the new value).
    policy.observePause(1600);
    const learned = policy.learnedPauseMs!;
    expect(learned).toBeGreaterThan(800);
    expect(learned).toBeLessThan(1600);
    expect(policy.delayMs(true)).toBeGreaterThan(first);
    expect(policy.pauseSamples).toBe(2);
    // An unlikely end still waits max_delay.
    expect(policy.delayMs(false)).toBe(3000);
  });

  it('dynamic: never goes below min_delay or above max_delay', () => {
    const short = new EndpointingPolicy(endpointing({ mode: 'dynamic', min_delay: 0.5, max_delay: 3 }));
    for (let i = 0; i < 10; i++) short.observePause(50);
    expect(short.learnedPauseMs).toBeLessThan(500);
    expect(short.delayMs(true)).toBe(500);

    const long = new EndpointingPolicy(endpointing({ mode: 'dynamic', min_delay: 0.5, max_delay: 3 }));
    for (let i = 0; i < 10; i++) long.observePause(9000);
    expect(long.learnedPauseMs).toBeGreaterThan(3000);
    expect(long.delayMs(true)).toBe(3000);
  });

  it('dynamic: ignores non-positive pauses', () => {
    const policy = new EndpointingPolicy(endpointing({ mode: 'dynamic' }));
    policy.observePause(0);
    policy.observePause(-100);
    expect(policy.pauseSamples).toBe(0);
    expect(policy.learnedPauseMs).toBeNull();
    expect(policy.delayMs(true)).toBe(900);
  });

  it('update() applies new delays and mode, keeping what was learned', () => {
    const policy = new EndpointingPolicy(endpointing({ mode: 'fixed' }));
    policy.observePause(1600);
    expect(policy.delayMs(true)).toBe(900);

    policy.update(endpointing({ mode: 'fixed', min_delay: 0.8, max_delay: 2 }));
    expect(policy.delayMs(true)).toBe(800);
    expect(policy.delayMs(false)).toBe(2000);

    policy.update(endpointing({ mode: 'dynamic', min_delay: 0.8, max_delay: 2 }));
    expect(policy.delayMs(true)).toBe(2000);

    policy.update(endpointing({ mode: 'dynamic', min_delay: 0.8, max_delay: 5 }));
    const dynamic = policy.delayMs(true);
    expect(dynamic).toBeGreaterThan(1600);
    expect(dynamic).toBeLessThan(5000);
  });
});
