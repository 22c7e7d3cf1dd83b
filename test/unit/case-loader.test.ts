import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/main/engine/audio/wav';
import {
  CaseFormatError,
  defaultProfile,
  finalTranscript,
  loadCase,
  loadCorpus,
  turnEnd,
  type ScriptCase,
} from '../../src/main/engine/scripted/case';

const SAMPLE_RATE = 16_000;

function validCase(id = 'flight-hesitation') {
  return {
    version: 1,
    id,
    description: 'pauses before the destination',
    profile: { llm_ttft_ms: 420 },
    turns: [
      {
        words: [
          { text: 'book', start: 0.62, end: 0.85 },
          { text: 'a', start: 0.86, end: 0.93 },
          { text: 'flight', start: 0.95, end: 1.3 },
          { text: 'to', start: 1.32, end: 1.45 },
          { text: 'paris', start: 2.45, end: 2.9 },
        ],
        holds: [{ after: 3, eot_confidence: 0.45 }],
        interims: [{ after: 2, text: 'book a fly' }],
        reply: 'Sure. Where are you flying from?',
      },
    ],
  };
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cue-case-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function writeCase(folder: string, json: unknown, audio: Uint8Array | null = wav(4), parent = root): string {
  const dir = join(parent, folder);
  mkdirSync(dir, { recursive: true });
  if (json !== null)
    writeFileSync(join(dir, 'case.json'), typeof json === 'string' ? json : JSON.stringify(json));
  if (audio) writeFileSync(join(dir, 'audio.wav'), audio);
  return dir;
}

function wav(seconds: number, sampleRate = SAMPLE_RATE, channels = 1): Uint8Array {
  const samples = new Int16Array(Math.round(seconds * sampleRate) * channels).map((_, i) => (i % 50) - 25);
  return encodeWav({ sampleRate, channels, samples });
}

async function loadError(dir: string): Promise<CaseFormatError> {
  const error = await loadCase(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CaseFormatError);
  return error as CaseFormatError;
}

describe('loadCase', () => {
  it('loads a valid case and fills every default', async () => {
    const loaded: ScriptCase = await loadCase(writeCase('flight-hesitation', validCase()));
    expect(loaded.id).toBe('flight-hesitation');
    expect(loaded.dir).toBe(join(root, 'flight-hesitation'));
    expect(loaded.description).toBe('pauses before the destination');
    expect(loaded.profile).toEqual({ ...defaultProfile(), llm_ttft_ms: 420 });
    expect(loaded.profile.stt_interim_lag_ms).toBe(150);
    expect(loaded.profile.tts_realtime_factor).toBe(0.25);
    expect(loaded.audio).toBeInstanceOf(Int16Array);
    expect(loaded.audio.length).toBe(4 * SAMPLE_RATE);
    expect(loaded.durationMs).toBe(4000);
    const turn = loaded.turns[0]!;
    expect(turn.end_eot_confidence).toBe(0.9);
    expect(turn.holds).toEqual([{ after: 3, eot_confidence: 0.45 }]);
    expect(finalTranscript(turn)).toBe('book a flight to paris');
    expect(turnEnd(turn)).toBe(2.9);
  });

  it('defaults the optional turn fields to empty lists', async () => {
    const json = validCase();
    const { holds: _h, interims: _i, ...bare } = json.turns[0]!;
    const { profile: _p, ...noProfile } = json;
    const loaded = await loadCase(writeCase('flight-hesitation', { ...noProfile, turns: [bare] }));
    expect(loaded.turns[0]!.holds).toEqual([]);
    expect(loaded.turns[0]!.interims).toEqual([]);
    expect(loaded.profile).toEqual(defaultProfile());
  });

  it('names the case and the field of a value of the wrong type', async () => {
    const json = validCase();
    (json.turns[0]!.words[2] as Record<string, unknown>).end = '1.3';
    const error = await loadError(writeCase('flight-hesitation', json));
    expect(error.message).toBe(
      'case "flight-hesitation": turns.0.words.2.end: expected a number (got "1.3")',
    );
    expect(error.caseName).toBe('flight-hesitation');
  });

  it('names a missing required field', async () => {
    const json = validCase();
    delete (json.turns[0] as Partial<(typeof json.turns)[0]>).reply;
    const error = await loadError(writeCase('flight-hesitation', json));
    expect(error.message).toBe('case "flight-hesitation": turns.0.reply: expected a string (missing)');
  });

  it('rejects unknown fields, in the case and in the profile', async () => {
    const json = { ...validCase(), profile: { llm_ttft: 300 }, extra: true };
    const error = await loadError(writeCase('flight-hesitation', json));
    expect(error.problems).toEqual(
      expect.arrayContaining(['profile.llm_ttft: unknown field', 'extra: unknown field']),
    );
  });

  it('rejects a profile value out of range', async () => {
    const json = { ...validCase(), profile: { llm_tokens_per_s: 0 } };
    const error = await loadError(writeCase('flight-hesitation', json));
    expect(error.message).toContain('profile.llm_tokens_per_s: must be more than 0');
  });

  it('rejects an unknown version before anything else', async () => {
    const error = await loadError(writeCase('flight-hesitation', { ...validCase(), version: 2, turns: 'x' }));
    expect(error.message).toBe(
      'case "flight-hesitation": version: unsupported version (got 2); this reader knows version 1',
    );
  });

  it('names each missing file', async () => {
    const noAudio = await loadError(writeCase('no-audio', validCase('no-audio'), null));
    expect(noAudio.message).toMatch(/^case "no-audio": audio\.wav: missing file/);
    const noScript = await loadError(writeCase('no-script', null));
    expect(noScript.message).toMatch(/^case "no-script": case\.json: missing file/);
  });

  it('rejects case.json that is not JSON', async () => {
    const error = await loadError(writeCase('flight-hesitation', '{ "version": 1,'));
    expect(error.message).toMatch(/^case "flight-hesitation": case\.json: not valid JSON/);
  });

  it('says what audio format is required', async () => {
    const stereo = await loadError(writeCase('flight-hesitation', validCase(), wav(4, 44_100, 2)));
    expect(stereo.message).toBe(
      'case "flight-hesitation": audio.wav: must be a 16 kHz, mono, 16-bit signed PCM WAV (got 44100 Hz, 2 channels)',
    );
    const eightBit = wav(4);
    new DataView(eightBit.buffer).setUint16(34, 8, true);
    const bits = await loadError(writeCase('flight-hesitation', validCase(), eightBit));
    expect(bits.message).toMatch(/audio\.wav: must be a 16 kHz, mono, 16-bit signed PCM WAV \(.*8 bits\)/);
    const notWav = await loadError(writeCase('flight-hesitation', validCase(), new Uint8Array(100)));
    expect(notWav.message).toContain('audio.wav: must be a 16 kHz, mono, 16-bit signed PCM WAV');
  });

  it('requires the id to equal the folder name', async () => {
    const error = await loadError(writeCase('other-name', validCase()));
    expect(error.message).toBe(
      'case "other-name": id: "flight-hesitation" must equal the case\'s folder name "other-name"',
    );
  });

  it('rejects words out of time order, within and across turns', async () => {
    const json = validCase();
    json.turns[0]!.words[3] = { text: 'to', start: 1.2, end: 1.45 };
    const within = await loadError(writeCase('flight-hesitation', json));
    expect(within.message).toContain('turns.0.words.3.start: words not in time order');

    const twoTurns = validCase();
    twoTurns.turns.push({
      ...twoTurns.turns[0]!,
      words: [{ text: 'yes', start: 2.5, end: 3 }],
      holds: [],
      interims: [],
    });
    const across = await loadError(writeCase('flight-hesitation', twoTurns));
    expect(across.message).toContain('turns.1.words.0.start: words not in time order');

    const backwards = validCase();
    backwards.turns[0]!.words[0] = { text: 'book', start: 0.62, end: 0.5 };
    const reversed = await loadError(writeCase('flight-hesitation', backwards));
    expect(reversed.message).toContain('turns.0.words.0.end: 0.5 s is before its start (0.62 s)');
  });

  it('rejects words past the end of the audio', async () => {
    const error = await loadError(writeCase('flight-hesitation', validCase(), wav(2.5)));
    expect(error.message).toContain('turns.0.words.4.end: 2.9 s is past the end of audio.wav (2.5 s)');
  });

  it('rejects holds and interims whose `after` is out of range', async () => {
    const json = validCase();
    json.turns[0]!.holds = [{ after: 4, eot_confidence: 0.3 }];
    json.turns[0]!.interims = [{ after: 5, text: 'book a flight to parish' }];
    const error = await loadError(writeCase('flight-hesitation', json));
    expect(error.problems).toEqual([
      'turns.0.holds.0.after: 4 is out of range (a hold follows a word that has another after it: 0 to 3)',
      "turns.0.interims.0.after: 5 is out of range (the turn's words are 0 to 4)",
    ]);
    const negative = validCase();
    negative.turns[0]!.holds = [{ after: -1, eot_confidence: 0.3 }];
    const error2 = await loadError(writeCase('flight-hesitation', negative));
    expect(error2.message).toContain('turns.0.holds.0.after: must be at least 0');
  });

  it('rejects a confidence outside [0, 1] and a word with spaces', async () => {
    const json = validCase();
    json.turns[0]!.holds = [{ after: 3, eot_confidence: 1.5 }];
    json.turns[0]!.words[0]!.text = 'book a';
    const error = await loadError(writeCase('flight-hesitation', json));
    expect(error.problems).toEqual(
      expect.arrayContaining([
        'turns.0.holds.0.eot_confidence: must be between 0 and 1',
        'turns.0.words.0.text: must be one word (no spaces, not empty)',
      ]),
    );
  });
});

describe('loadCorpus', () => {
  it('loads every sub-folder holding a case.json, sorted by name', async () => {
    writeCase('b-case', validCase('b-case'));
    writeCase('a-case', validCase('a-case'));
    mkdirSync(join(root, 'not-a-case'));
    const cases = await loadCorpus(root);
    expect(cases.map((c) => c.id)).toEqual(['a-case', 'b-case']);
  });

  it('fails on a bad case and on a missing folder', async () => {
    writeCase('a-case', validCase('wrong-id'));
    await expect(loadCorpus(root)).rejects.toThrow('case "a-case": id:');
    await expect(loadCorpus(join(root, 'nope'))).rejects.toThrow(CaseFormatError);
  });

  it('fails on a folder without cases, naming its sub-folders that are corpora (the benchmark splits)', async () => {
    const split = join(root, 'tune');
    mkdirSync(split);
    writeCase('a-case', validCase('a-case'), wav(4), split);
    mkdirSync(join(root, 'notes'));
    await expect(loadCorpus(root)).rejects.toThrow(
      `no case folders (each holding case.json) in ${root}; its sub-folders tune are corpora: give one of them (${split})`,
    );
    expect((await loadCorpus(split)).map((c) => c.id)).toEqual(['a-case']);
  });
});

describe('the fixture corpus', () => {
  const fixtures = join(import.meta.dirname, '..', 'fixtures', 'cases');

  it('holds the five fixture cases, and each loads', async () => {
    const cases = await loadCorpus(fixtures);
    expect(cases.map((c) => c.id)).toEqual([
      'flight-hesitation',
      'long-utterance',
      'misheard-interim',
      'three-turns',
      'weather-question',
    ]);
    const total = cases.reduce((sum, c) => sum + c.durationMs, 0);
    expect(total).toBeLessThan(61_000);
  });

  it('has speech where the words are and silence before the first word', async () => {
    for (const c of await loadCorpus(fixtures)) {
      const rms = (from: number, to: number) => {
        const a = Math.round(from * SAMPLE_RATE);
        const b = Math.round(to * SAMPLE_RATE);
        let sum = 0;
        for (let i = a; i < b; i++) sum += c.audio[i]! ** 2;
        return Math.sqrt(sum / Math.max(1, b - a));
      };
      const first = c.turns[0]!.words[0]!;
      expect(rms(0, first.start), c.id).toBe(0);
      for (const turn of c.turns) {
        for (const word of turn.words)
          expect(rms(word.start, word.end), `${c.id} "${word.text}"`).toBeGreaterThan(300);
      }
    }
  });

  it('shapes each case as its name says', async () => {
    const byId = new Map((await loadCorpus(fixtures)).map((c) => [c.id, c]));
    const speech = (c: ScriptCase) => turnEnd(c.turns[0]!) - c.turns[0]!.words[0]!.start;

    const flight = byId.get('flight-hesitation')!.turns[0]!;
    const to = flight.words.findIndex((w) => w.text === 'to');
    expect(finalTranscript(flight)).toBe('book a flight to paris');
    expect(flight.holds).toEqual([{ after: to, eot_confidence: 0.3 }]);
    expect(flight.words[to + 1]!.start - flight.words[to]!.end).toBeCloseTo(1.0, 2);

    expect(byId.get('misheard-interim')!.turns[0]!.interims.length).toBeGreaterThan(0);
    expect(speech(byId.get('long-utterance')!)).toBeGreaterThan(10);
    expect(byId.get('weather-question')!.turns).toHaveLength(1);

    const three = byId.get('three-turns')!;
    expect(three.turns).toHaveLength(3);
    for (let k = 1; k < three.turns.length; k++) {
      const gap = three.turns[k]!.words[0]!.start - turnEnd(three.turns[k - 1]!);
      expect(gap).toBeGreaterThanOrEqual((three.turns[k - 1]!.reply.length * 60) / 1000 + 2);
    }
  });
});
