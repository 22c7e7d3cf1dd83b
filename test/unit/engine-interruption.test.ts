import { describe, expect, it } from 'vitest';
import { settle, VirtualClock } from '../../src/main/engine/clock';
import { InterruptionHandler, type AgentControl } from '../../src/main/engine/interruption';
import type { InterruptionClassifier } from '../../src/main/engine/ports';
import { TimelineBus } from '../../src/main/engine/timeline-bus';
import { defaultSettings, type InterruptionSettings } from '../../src/shared/settings';
import type { TimelineEventOf } from '../../src/shared/timeline';

class FakeAgent implements AgentControl {
  active = true;
  playing = true;
  readonly calls: string[] = [];

  constructor(private readonly clock: VirtualClock) {}

  isActive(): boolean {
    return this.active;
  }
  isPlaying(): boolean {
    return this.playing;
  }
  pause(): void {
    this.calls.push(`pause @${this.clock.now()}`);
  }
  resume(): void {
    this.calls.push(`resume @${this.clock.now()}`);
  }
  interrupt(reason: string): void {
    this.calls.push(`interrupt(${reason}) @${this.clock.now()}`);
    this.active = false;
    this.playing = false;
  }
}

function setup(
  overrides: Partial<InterruptionSettings> = {},
  classifier?: InterruptionClassifier,
  agentState: { active?: boolean; playing?: boolean } = {},
) {
  const clock = new VirtualClock();
  const bus = new TimelineBus(clock);
  const events: TimelineEventOf<'interruption'>[] = [];
  bus.subscribe((e) => {
    if (e.type === 'interruption') events.push(e);
  });
  const agent = new FakeAgent(clock);
  agent.active = agentState.active ?? true;
  agent.playing = agentState.playing ?? true;
  const settings = { ...defaultSettings().turn_handling.interruption, ...overrides };
  const handler = new InterruptionHandler(settings, { clock, bus, agent, classifier });
  /** `kind @t` of every interruption event. */
  const kinds = () => events.map((e) => `${e.kind} @${e.t}`);
  /** Drives the handler as the session does: speech start, speech progress per 10 ms speech frame, speech end. */
  let speechMs = 0;
  const user = {
    /** The user starts speaking now. */
    start(): void {
      speechMs = 0;
      handler.onUserSpeechStarted();
    },
    /** The user keeps speaking until clock time `t`: progress is reported after each 10 ms of speech. */
    async speakUntil(t: number): Promise<void> {
      while (clock.now() + 10 <= t) {
        await clock.advanceTo(clock.now() + 10);
        speechMs += 10;
        handler.onUserSpeechProgress(speechMs);
      }
      // Let async work (an adaptive classifier) settle, without moving the clock.
      await settle();
    },
    /** Silent frames within the utterance (before the VAD calls the speech ended): no progress. */
    async silentUntil(t: number): Promise<void> {
      await clock.advanceTo(t);
    },
    end(): void {
      handler.onUserSpeechEnded();
    },
  };
  return { clock, agent, handler, events, kinds, user };
}

describe('InterruptionHandler', () => {
  it('uses LiveKit defaults: vad mode, 0.5 s min_duration, 0 min_words, 2 s timeout, resume on', () => {
    const s = defaultSettings().turn_handling.interruption;
    expect(s).toEqual({
      enabled: true,
      mode: 'vad',
      min_duration: 0.5,
      min_words: 0,
      false_interruption_timeout: 2,
      resume_false_interruption: true,
    });
  });

  it('speech shorter than min_duration is ignored and leaves the agent alone', async () => {
    const { clock, agent, events, kinds, user } = setup();
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1490);
    user.end();
    expect(kinds()).toEqual(['ignored @1490']);
    expect(events[0]!.reason).toContain('min_duration');
    await clock.runAll();
    expect(agent.calls).toEqual([]);
    expect(kinds()).toEqual(['ignored @1490']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('speech of min_duration with words is a true interruption: the agent is interrupted at once', async () => {
    const { clock, agent, handler, events, kinds, user } = setup();
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1300);
    handler.onUserTranscript('stop please', 2);
    await user.speakUntil(1490);
    expect(agent.calls).toEqual([]);
    expect(kinds()).toEqual([]);
    await user.speakUntil(1500);
    expect(kinds()).toEqual(['detected @1500', 'true @1500']);
    expect(events[1]!.reason).toContain('stop please');
    expect(agent.calls).toEqual(['interrupt(barge-in) @1500']);
    await user.speakUntil(1800);
    user.end();
    await clock.runAll();
    expect(kinds()).toEqual(['detected @1500', 'true @1500']);
    expect(agent.calls).toHaveLength(1);
  });

  it('min_duration counts speech, not silent frames within the utterance', async () => {
    const { clock, agent, kinds, user } = setup();
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1300); // 300 ms of speech
    await user.silentUntil(2300); // a long pause the VAD has not yet called the end
    expect(kinds()).toEqual([]);
    await user.speakUntil(2490); // 490 ms of speech
    expect(kinds()).toEqual([]);
    await user.speakUntil(2500); // 500 ms
    expect(kinds()).toEqual(['detected @2500']);
    expect(agent.calls).toEqual(['pause @2500']);
  });

  it('speech already longer than min_duration when first reported is decided at once', async () => {
    const { clock, agent, handler, kinds } = setup();
    await clock.advanceTo(1000);
    handler.onUserSpeechStarted();
    handler.onUserTranscript('no', 1);
    expect(kinds()).toEqual([]);
    handler.onUserSpeechProgress(600);
    expect(kinds()).toEqual(['detected @1000', 'true @1000']);
    expect(agent.calls).toEqual(['interrupt(barge-in) @1000']);
  });

  it('speech without words pauses the agent, and no words for the timeout after the speech ended is false: resume', async () => {
    const { clock, agent, events, kinds, user } = setup();
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1500);
    expect(kinds()).toEqual(['detected @1500']);
    expect(agent.calls).toEqual(['pause @1500']);
    // The timer runs from the end of the speech, not from the detection.
    await user.speakUntil(1800);
    user.end();
    await clock.advanceTo(3799);
    expect(kinds()).toEqual(['detected @1500']);
    expect(agent.calls).toEqual(['pause @1500']);
    await clock.advanceTo(3800);
    expect(kinds()).toEqual(['detected @1500', 'false @3800', 'resumed @3800']);
    expect(events[1]!.reason).toContain('false_interruption_timeout');
    expect(agent.calls).toEqual(['pause @1500', 'resume @3800']);
    await clock.runAll();
    expect(clock.pendingTimers).toBe(0);
  });

  it('honours a custom false_interruption_timeout', async () => {
    const { clock, agent, kinds, user } = setup({ false_interruption_timeout: 0.7 });
    user.start();
    await user.speakUntil(600);
    user.end();
    await clock.advanceTo(1299);
    expect(kinds()).toEqual(['detected @500']);
    await clock.advanceTo(1300);
    expect(kinds()).toEqual(['detected @500', 'false @1300', 'resumed @1300']);
    expect(agent.calls).toEqual(['pause @500', 'resume @1300']);
  });

  it('honours a custom min_duration', async () => {
    const { agent, kinds, user } = setup({ min_duration: 1.2 });
    user.start();
    await user.speakUntil(1190);
    expect(kinds()).toEqual([]);
    await user.speakUntil(1200);
    expect(kinds()).toEqual(['detected @1200']);
    expect(agent.calls).toEqual(['pause @1200']);
  });

  it('words arriving while paused make it a true interruption: the agent is interrupted, not resumed', async () => {
    const { clock, agent, handler, events, kinds, user } = setup();
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1800);
    user.end();
    // The transcript lags the audio: it arrives after the speech ended, within the timeout.
    await clock.advanceTo(2100);
    handler.onUserTranscript('actually no', 2);
    expect(kinds()).toEqual(['detected @1500', 'true @2100']);
    expect(events[1]!.reason).toContain('actually no');
    expect(agent.calls).toEqual(['pause @1500', 'interrupt(barge-in) @2100']);
    await clock.runAll();
    expect(kinds()).toEqual(['detected @1500', 'true @2100']);
    expect(agent.calls).toEqual(['pause @1500', 'interrupt(barge-in) @2100']);
  });

  it('words while the user is still speaking over the paused agent also make it true', async () => {
    const { agent, handler, kinds, user } = setup();
    user.start();
    await user.speakUntil(700);
    handler.onUserTranscript('wait a second', 3);
    expect(kinds()).toEqual(['detected @500', 'true @700']);
    expect(agent.calls).toEqual(['pause @500', 'interrupt(barge-in) @700']);
  });

  it('an empty transcript while paused does not decide anything', async () => {
    const { clock, agent, handler, kinds, user } = setup();
    user.start();
    await user.speakUntil(600);
    user.end();
    handler.onUserTranscript('', 0);
    await clock.advanceTo(2600);
    expect(kinds()).toEqual(['detected @500', 'false @2600', 'resumed @2600']);
    expect(agent.calls).toEqual(['pause @500', 'resume @2600']);
  });

  it('the user speaking again while paused cancels the false-interruption timer until that speech ends', async () => {
    const { clock, agent, kinds, user } = setup();
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1800);
    user.end(); // the false timer would fire at 3800
    await clock.advanceTo(3000);
    user.start();
    await user.speakUntil(5000);
    expect(kinds()).toEqual(['detected @1500']);
    expect(agent.calls).toEqual(['pause @1500']);
    user.end();
    await clock.advanceTo(6999);
    expect(kinds()).toEqual(['detected @1500']);
    await clock.advanceTo(7000);
    expect(kinds()).toEqual(['detected @1500', 'false @7000', 'resumed @7000']);
    expect(agent.calls).toEqual(['pause @1500', 'resume @7000']);
  });

  it('resume_false_interruption off: the agent is stopped at once, and a silent interruption is reported false without resuming', async () => {
    const { clock, agent, events, kinds, user } = setup({ resume_false_interruption: false });
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1500);
    expect(kinds()).toEqual(['detected @1500']);
    expect(agent.calls).toEqual(['interrupt(barge-in) @1500']);
    await user.speakUntil(1800);
    user.end();
    await clock.advanceTo(3799);
    expect(kinds()).toEqual(['detected @1500']);
    await clock.advanceTo(3800);
    expect(kinds()).toEqual(['detected @1500', 'false @3800']);
    expect(events[1]!.reason).toContain('resume_false_interruption');
    await clock.runAll();
    expect(agent.calls).toEqual(['interrupt(barge-in) @1500']);
  });

  it('resume_false_interruption off: words after the stop are reported true without a second interrupt', async () => {
    const { clock, agent, handler, kinds, user } = setup({ resume_false_interruption: false });
    user.start();
    await user.speakUntil(900);
    user.end();
    await clock.advanceTo(1200);
    handler.onUserTranscript('hang on', 2);
    expect(kinds()).toEqual(['detected @500', 'true @1200']);
    await clock.runAll();
    expect(kinds()).toEqual(['detected @500', 'true @1200']);
    expect(agent.calls).toEqual(['interrupt(barge-in) @500']);
  });

  it('min_words holds the decision until enough words are transcribed', async () => {
    const { clock, agent, handler, events, kinds, user } = setup({ min_words: 3 });
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1200);
    handler.onUserTranscript('hold', 1);
    await user.speakUntil(1500);
    expect(kinds()).toEqual([]);
    expect(agent.calls).toEqual([]);
    await user.speakUntil(1700);
    handler.onUserTranscript('hold on', 2);
    expect(kinds()).toEqual([]);
    expect(agent.calls).toEqual([]);
    await user.speakUntil(1900);
    handler.onUserTranscript('hold on please', 3);
    expect(kinds()).toEqual(['detected @1900', 'true @1900']);
    expect(events[1]!.reason).toContain('hold on please');
    expect(agent.calls).toEqual(['interrupt(barge-in) @1900']);
  });

  it('min_words: enough words before min_duration still wait for min_duration', async () => {
    const { agent, handler, kinds, user } = setup({ min_words: 2 });
    user.start();
    await user.speakUntil(200);
    handler.onUserTranscript('no wait', 2);
    expect(kinds()).toEqual([]);
    await user.speakUntil(490);
    expect(kinds()).toEqual([]);
    await user.speakUntil(500);
    expect(kinds()).toEqual(['detected @500', 'true @500']);
    expect(agent.calls).toEqual(['interrupt(barge-in) @500']);
  });

  it('min_words: speech that ends with too few words is ignored', async () => {
    const { clock, agent, handler, events, kinds, user } = setup({ min_words: 3 });
    user.start();
    await user.speakUntil(400);
    handler.onUserTranscript('uh huh', 2);
    await user.speakUntil(900);
    user.end();
    expect(kinds()).toEqual(['ignored @900']);
    expect(events[0]!.reason).toContain('min_words');
    await clock.runAll();
    expect(agent.calls).toEqual([]);
    expect(kinds()).toEqual(['ignored @900']);
  });

  it('enabled false: user speech never touches the agent and emits nothing', async () => {
    const { clock, agent, handler, kinds, user } = setup({ enabled: false });
    user.start();
    await user.speakUntil(300);
    handler.onUserTranscript('stop stop stop', 3);
    await user.speakUntil(1500);
    user.end();
    await clock.runAll();
    expect(kinds()).toEqual([]);
    expect(agent.calls).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('updateSettings can turn interruptions off', async () => {
    const { clock, agent, handler, kinds, user } = setup();
    handler.updateSettings({ ...defaultSettings().turn_handling.interruption, enabled: false });
    user.start();
    await user.speakUntil(1500);
    user.end();
    await clock.runAll();
    expect(kinds()).toEqual([]);
    expect(agent.calls).toEqual([]);
  });

  it('no reply in progress: nothing to interrupt', async () => {
    const { clock, agent, handler, kinds, user } = setup({}, undefined, { active: false, playing: false });
    user.start();
    await user.speakUntil(1500);
    handler.onUserTranscript('hello there', 2);
    user.end();
    await clock.runAll();
    expect(kinds()).toEqual([]);
    expect(agent.calls).toEqual([]);
  });

  it('agent still thinking (not yet playing): the reply is held silent at once, then a true interruption', async () => {
    const { clock, agent, events, kinds, user } = setup({}, undefined, { active: true, playing: false });
    await clock.advanceTo(1000);
    user.start();
    expect(agent.calls).toEqual(['pause @1000']);
    await user.speakUntil(1500);
    expect(kinds()).toEqual(['detected @1500', 'true @1500']);
    expect(events[1]!.reason).toContain('before the reply was heard');
    expect(agent.calls).toEqual(['pause @1000', 'interrupt(user spoke before the reply was heard) @1500']);
    await user.speakUntil(1800);
    user.end();
    await clock.runAll();
    expect(kinds()).toEqual(['detected @1500', 'true @1500']);
    expect(agent.calls).toHaveLength(2);
  });

  it('a short sound before the reply is heard holds it only until the sound ends', async () => {
    const { clock, agent, kinds, user } = setup({}, undefined, { active: true, playing: false });
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1200);
    user.end();
    await clock.runAll();
    expect(kinds()).toEqual(['ignored @1200']);
    expect(agent.calls).toEqual(['pause @1000', 'resume @1200']);
  });

  it('the reply ending during a candidate interruption drops it', async () => {
    const { clock, agent, handler, kinds, user } = setup();
    user.start();
    await user.speakUntil(300);
    agent.active = false;
    agent.playing = false;
    handler.onAgentIdle();
    await user.speakUntil(900);
    user.end();
    await clock.runAll();
    expect(kinds()).toEqual([]);
    expect(agent.calls).toEqual([]);
  });

  it('adaptive: a classifier saying "backchannel" makes the speech ignored', async () => {
    const asked: string[] = [];
    const classifier: InterruptionClassifier = {
      isInterruption: async (input) => {
        asked.push(input.transcript);
        return false;
      },
    };
    const { clock, agent, handler, events, kinds, user } = setup({ mode: 'adaptive' }, classifier);
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1200);
    handler.onUserTranscript('uh-huh', 1);
    await user.speakUntil(1500);
    expect(asked).toEqual(['uh-huh']);
    expect(kinds()).toEqual(['ignored @1500']);
    expect(events[0]!.reason).toContain('backchannel');
    await user.speakUntil(1700);
    user.end();
    await clock.runAll();
    expect(kinds()).toEqual(['ignored @1500']);
    expect(agent.calls).toEqual([]);
  });

  it('adaptive: a classifier saying "interruption" interrupts as in vad mode', async () => {
    const classifier: InterruptionClassifier = { isInterruption: async () => true };
    const { agent, handler, kinds, user } = setup({ mode: 'adaptive' }, classifier);
    user.start();
    await user.speakUntil(200);
    handler.onUserTranscript('no stop', 2);
    await user.speakUntil(500);
    expect(kinds()).toEqual(['detected @500', 'true @500']);
    expect(agent.calls).toEqual(['interrupt(barge-in) @500']);
  });

  it('adaptive: a classifier that fails counts as an interruption', async () => {
    const classifier: InterruptionClassifier = {
      isInterruption: () => Promise.reject(new Error('model missing')),
    };
    const { agent, kinds, user } = setup({ mode: 'adaptive' }, classifier);
    user.start();
    await user.speakUntil(500);
    expect(kinds()).toEqual(['detected @500']);
    expect(agent.calls).toEqual(['pause @500']);
  });

  it('adaptive: a classifier still deciding when the speech ends decides anyway, with speech-only duration', async () => {
    const asked: number[] = [];
    const classifier: InterruptionClassifier = {
      isInterruption: async (input) => {
        asked.push(input.speechMs);
        await new Promise<void>((resolve) => clockRef.clock!.setTimeout(resolve, 100));
        return true;
      },
    };
    const clockRef: { clock?: VirtualClock } = {};
    const { clock, agent, kinds, user } = setup({ mode: 'adaptive' }, classifier);
    clockRef.clock = clock;
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1300);
    await user.silentUntil(1500); // silence inside the utterance is not speech
    await user.speakUntil(1700);
    expect(asked).toEqual([500]);
    user.end(); // before the classifier has answered
    await clock.advanceTo(1800);
    expect(kinds()).toEqual(['detected @1800']);
    expect(agent.calls).toEqual(['pause @1800']);
    await clock.advanceTo(3800);
    expect(kinds()).toEqual(['detected @1800', 'false @3800', 'resumed @3800']);
  });

  it('after a stop without resume, speech over a new reply is judged afresh', async () => {
    const { clock, agent, handler, kinds, user } = setup({ resume_false_interruption: false });
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1500);
    expect(agent.calls).toEqual(['interrupt(barge-in) @1500']);
    user.end();
    // A new reply starts playing before the old interruption's timeout.
    await clock.advanceTo(2000);
    agent.active = true;
    agent.playing = true;
    user.start();
    handler.onUserTranscript('wait', 1);
    await user.speakUntil(2500);
    expect(kinds()).toEqual(['detected @1500', 'detected @2500', 'true @2500']);
    expect(agent.calls).toEqual(['interrupt(barge-in) @1500', 'interrupt(barge-in) @2500']);
  });

  it('adaptive without a classifier behaves as vad', async () => {
    const { clock, agent, kinds, user } = setup({ mode: 'adaptive' });
    await clock.advanceTo(1000);
    user.start();
    await user.speakUntil(1500);
    expect(kinds()).toEqual(['detected @1500']);
    expect(agent.calls).toEqual(['pause @1500']);
    await user.speakUntil(1800);
    user.end();
    await clock.advanceTo(3800);
    expect(kinds()).toEqual(['detected @1500', 'false @3800', 'resumed @3800']);
    expect(agent.calls).toEqual(['pause @1500', 'resume @3800']);
  });

  it('vad mode never consults the classifier', async () => {
    let asked = 0;
    const classifier: InterruptionClassifier = {
      isInterruption: async () => {
        asked++;
        return false;
      },
    };
    const { agent, kinds, user } = setup({ mode: 'vad' }, classifier);
    user.start();
    await user.speakUntil(500);
    expect(asked).toBe(0);
    expect(kinds()).toEqual(['detected @500']);
    expect(agent.calls).toEqual(['pause @500']);
  });
});
