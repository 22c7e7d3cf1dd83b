#!/usr/bin/env python3
"""Reference Whisper log-mel values for the TypeScript extractor's tests.

    python3 scripts/log-mel-reference.py            # writes test/fixtures/log-mel-reference.json
    python3 scripts/log-mel-reference.py --check    # recomputes and compares with the committed file

Needs python3 and numpy only (Debian: python3-numpy); no librosa, torch or transformers.

The computation is written here from the published algorithm, in plain numpy, independently of
src/main/engine/turn-detector/log-mel.ts:

  Whisper (Hugging Face WhisperFeatureExtractor, numpy path), 16 kHz:
    periodic Hann window (400), hop 160, centred frames with reflect padding (200 each side),
    power spectrum |rfft|^2, 80 Slaney mel filters 0..8000 Hz with Slaney area normalisation,
    log10(max(mel, 1e-10)), drop the last frame, clamp to max - 8, then (x + 4) / 4.
  Smart Turn v3 (pipecat-ai/smart-turn) around it:
    last 8 s (128000 samples), zero-padded at the start when shorter; zero-mean unit-variance
    normalisation of the whole 8 s window in float32 ((x - mean) / sqrt(var + 1e-7)), as
    WhisperFeatureExtractor(do_normalize=True) does; features 80 x 800.

Signals (the test rebuilds the synthetic ones from the same formulas and checks its input
against the checksums stored here before comparing features):
  lcg(seed):  state = (1664525 * state + 1013904223) mod 2^32, value state / 2^32 in [0, 1);
              noise = 2 * value - 1.
  chirp:      n = 128000, t = i / 16000,
              x = 0.5 sin(2 pi (100 t + (6000 - 100) t^2 / 16)) + 0.05 noise(seed 12345), float32.
  tone burst: n = 48000, env = (1 - exp(-5 t)) exp(-0.5 t),
              x = env (0.3 sin(2 pi 220 t) + 0.2 sin(2 pi 1320 t)) + 0.01 noise(seed 7), int16.
  am noise:   n = 160000, x = 0.3 (0.5 + 0.5 sin(2 pi 3 t)) noise(seed 99), int16.
  int16 quantisation: clip(floor(32767 x + 0.5), -32768, 32767); int16 inputs are divided by 32768.

The JSON keeps, per case, the 80 mel values of a subset of frames (every k-th frame and the
last 5), the mean of every frame, the mean of every mel bin and global min/max/mean, plus the
non-zero entries of the mel filterbank.
"""

import argparse
import json
import math
import os
import sys
import wave

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 80
SMART_TURN_SAMPLES = 8 * SAMPLE_RATE

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUTPUT = os.path.join(ROOT, 'test', 'fixtures', 'log-mel-reference.json')
DECIMALS = 6


# ---------- the reference computation ----------

def hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    linear = 3.0 * hz / 200.0
    logarithmic = 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) * (27.0 / np.log(6.4))
    return np.where(hz >= 1000.0, logarithmic, linear)


def mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    linear = 200.0 * mel / 3.0
    logarithmic = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, logarithmic, linear)


def mel_filterbank():
    """(80, 201) Slaney filterbank, one row per filter."""
    bin_hz = np.fft.rfftfreq(N_FFT, d=1.0 / SAMPLE_RATE)
    edges = mel_to_hz(np.linspace(0.0, float(hz_to_mel(SAMPLE_RATE / 2)), N_MELS + 2))
    bank = np.zeros((N_MELS, bin_hz.size))
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rising = (bin_hz - lo) / (mid - lo)
        falling = (hi - bin_hz) / (hi - mid)
        bank[m] = np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (hi - lo))
    return bank


FILTERS = mel_filterbank()
WINDOW = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann


def whisper_log_mel(audio):
    """Log-mel (80, floor(n / 160)) of float audio, no normalisation."""
    x = np.asarray(audio, dtype=np.float64)
    padded = np.pad(x, (N_FFT // 2, N_FFT // 2), mode='reflect')
    frames = 1 + (padded.size - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    power = np.abs(np.fft.rfft(padded[index] * WINDOW, axis=1)) ** 2  # (frames, 201)
    log_mel = np.log10(np.maximum(power @ FILTERS.T, 1e-10)).T  # (80, frames)
    log_mel = log_mel[:, :-1]
    log_mel = np.maximum(log_mel, log_mel.max() - 8.0)
    return (log_mel + 4.0) / 4.0


def smart_turn_features(audio):
    """Smart Turn v3 input (80, 800) for float32 audio of any length."""
    x = np.asarray(audio, dtype=np.float32)
    if x.size >= SMART_TURN_SAMPLES:
        x = x[x.size - SMART_TURN_SAMPLES:]
    else:
        x = np.concatenate([np.zeros(SMART_TURN_SAMPLES - x.size, dtype=np.float32), x])
    x = (x - x.mean()) / np.sqrt(x.var() + np.float32(1e-7))  # float32, as the HF extractor
    return whisper_log_mel(x)


# ---------- signals ----------

def lcg_noise(n, seed):
    out = np.empty(n, dtype=np.float64)
    state = seed & 0xFFFFFFFF
    for i in range(n):
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
        out[i] = 2.0 * (state / 4294967296.0) - 1.0
    return out


def quantise(x):
    return np.clip(np.floor(x * 32767.0 + 0.5), -32768, 32767).astype(np.int16)


def chirp():
    n = 128000
    noise = lcg_noise(n, 12345)
    x = np.empty(n, dtype=np.float64)
    for i in range(n):
        t = i / SAMPLE_RATE
        x[i] = 0.5 * math.sin(2.0 * math.pi * (100.0 * t + (6000.0 - 100.0) * t * t / 16.0)) + 0.05 * noise[i]
    return x.astype(np.float32)


def tone_burst():
    n = 48000
    noise = lcg_noise(n, 7)
    x = np.empty(n, dtype=np.float64)
    for i in range(n):
        t = i / SAMPLE_RATE
        env = (1.0 - math.exp(-5.0 * t)) * math.exp(-0.5 * t)
        x[i] = env * (0.3 * math.sin(2.0 * math.pi * 220.0 * t) + 0.2 * math.sin(2.0 * math.pi * 1320.0 * t))
        x[i] += 0.01 * noise[i]
    return quantise(x)


def am_noise():
    n = 160000
    noise = lcg_noise(n, 99)
    x = np.empty(n, dtype=np.float64)
    for i in range(n):
        t = i / SAMPLE_RATE
        x[i] = 0.3 * (0.5 + 0.5 * math.sin(2.0 * math.pi * 3.0 * t)) * noise[i]
    return quantise(x)


def read_wav(relative):
    with wave.open(os.path.join(ROOT, relative), 'rb') as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1 or w.getframerate() != SAMPLE_RATE:
            raise SystemExit(f'{relative}: expected 16 kHz mono 16-bit PCM')
        return np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.int16)


def as_float(samples):
    return samples.astype(np.float32) / np.float32(32768.0) if samples.dtype == np.int16 else samples


# ---------- output ----------

def checksum(samples):
    """Sum, sum of squares and a few samples of the input as the test must rebuild it."""
    values = samples.astype(np.float64)
    picks = [0, 1, samples.size // 3, samples.size // 2, samples.size - 1] if samples.size else []
    return {
        'dtype': 'int16' if samples.dtype == np.int16 else 'float32',
        'length': int(samples.size),
        'sum': float(values.sum()),
        'sum_of_squares': float((values * values).sum()),
        'picks': [[int(i), float(values[i])] for i in picks],
    }


def r(v):
    return round(float(v), DECIMALS)


def case(name, description, source, samples, mode):
    features = smart_turn_features(as_float(samples)) if mode == 'smart-turn' else whisper_log_mel(as_float(samples))
    frames = features.shape[1]
    step = max(1, frames // 40)
    picked = sorted(set(range(0, frames, step)) | set(range(max(0, frames - 5), frames)))
    return {
        'name': name,
        'description': description,
        'source': source,
        'mode': mode,
        'input': checksum(samples),
        'frames': int(frames),
        'frame_indices': picked,
        # values[j][m] = feature[mel m][frame frame_indices[j]]
        'values': [[r(v) for v in features[:, f]] for f in picked],
        'frame_means': [r(v) for v in features.mean(axis=0)],
        'mel_means': [r(v) for v in features.mean(axis=1)],
        'min': r(features.min()),
        'max': r(features.max()),
        'mean': r(features.mean()),
    }


def build():
    c = chirp()
    weather = 'test/fixtures/cases/weather-question/audio.wav'
    long_utterance = 'test/fixtures/cases/long-utterance/audio.wav'
    cases = [
        case('chirp-noise-8s', 'Chirp 100 Hz to 6 kHz plus LCG noise, exactly 8 s (float32)', 'chirp', c, 'smart-turn'),
        case('chirp-noise-1s-raw', 'First second of the chirp, plain Whisper log-mel (no normalisation, no padding)',
             'chirp[0:16000]', c[:16000], 'raw'),
        case('tone-burst-3s', '3 s tone burst (int16): 5 s of zero padding in front', 'tone-burst', tone_burst(),
             'smart-turn'),
        case('am-noise-10s', '10 s of amplitude-modulated noise (int16): the first 2 s are dropped', 'am-noise',
             am_noise(), 'smart-turn'),
        case('silence-2s', '2 s of digital silence (int16): every value is (-10 + 4) / 4', 'silence-2s',
             np.zeros(32000, dtype=np.int16), 'smart-turn'),
        case('speech-weather-question', 'Synthesised question, < 8 s: padded', weather, read_wav(weather), 'smart-turn'),
        case('speech-weather-question-raw', 'The same question, plain Whisper log-mel of the whole file', weather,
             read_wav(weather), 'raw'),
        case('speech-long-utterance-last-8s', 'Long synthesised utterance: its last 8 s', long_utterance,
             read_wav(long_utterance), 'smart-turn'),
    ]
    nonzero = [[int(m), int(k), float(FILTERS[m, k])] for m, k in zip(*np.nonzero(FILTERS))]
    return {
        'generator': 'scripts/log-mel-reference.py',
        'numpy': np.__version__,
        'decimals': DECIMALS,
        'parameters': {
            'sample_rate': SAMPLE_RATE,
            'n_fft': N_FFT,
            'hop_length': HOP,
            'n_mels': N_MELS,
            'smart_turn_samples': SMART_TURN_SAMPLES,
        },
        'filterbank_nonzero': nonzero,
        'cases': cases,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--check', action='store_true', help='compare with the committed file instead of writing')
    parser.add_argument('--output', default=OUTPUT)
    args = parser.parse_args()
    data = build()
    text = json.dumps(data, separators=(',', ':')) + '\n'
    if args.check:
        with open(args.output) as f:
            old = json.load(f)
        worst = 0.0
        for a, b in zip(old['cases'], data['cases']):
            worst = max(worst, float(np.max(np.abs(np.array(a['values']) - np.array(b['values'])))))
        print(f'max difference from {args.output}: {worst:.2e}')
        return 0 if worst <= 10 ** -DECIMALS else 1
    with open(args.output, 'w') as f:
        f.write(text)
    print(f'wrote {args.output} ({len(text) / 1024:.0f} KiB, {len(data["cases"])} cases)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
