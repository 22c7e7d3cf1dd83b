/**
 * The LiveKit Agents 1.9 configurations the benchmark runs: what a LiveKit user would set up for
 * a low-latency voice agent with Deepgram, OpenAI and ElevenLabs, within what can run here.
 *
 * Common to all (set in livekit.ts, each commented where it is set):
 * - Silero VAD at its defaults; `interruption.mode: 'vad'` (left unset, LiveKit may pick
 *   "adaptive", which calls a hosted interruption model); preemptive generation on (LiveKit's
 *   default, stated); everything else LiveKit's default (endpointing mode "fixed", interruption
 *   min duration 500 ms, false-interruption resume, AEC warm-up, ElevenLabs' multi-stream-input
 *   WebSocket with auto_mode).
 * - Never LiveKit's own turn-detector models (`inference.TurnDetector`, the text EOU models):
 *   their weights are licensed for use inside LiveKit Agents only and the hosted one needs LiveKit
 *   Cloud. Left unset, `turnDetection` would build the hosted one, so it is always pinned.
 * - Deepgram as Cue asks for it, wherever LiveKit's plugin has the option: the values are read
 *   from the Cue settings of the run (`stt.nova`, `stt.flux`), so the two systems send the same.
 *
 * The configurations:
 * - "livekit": Nova (v1) with `endpointing` = Cue's (25 ms, the plugin's default too),
 *   `utterance_end_ms` = Cue's 1000, `smart_format` and `interim_results` on (the plugin's
 *   defaults too; it always sends `vad_events=true`, as Cue does). The plugin also sends its own
 *   defaults `punctuate=true`, `no_delay=true` and `language=en-US`, which Cue does not send and
 *   which change nothing here (smart formatting already punctuates). Turns end on the VAD
 *   (`turnDetection: 'vad'`) at Silero's end of speech (`minSilenceDuration` 550 ms): LiveKit's
 *   `endpointing.minDelay` (500 ms, its default when no audio turn model is used) counts from
 *   the last speech, so it adds nothing after that.
 * - "livekit-text": "livekit" with Cue's transcript heuristic as LiveKit's turn detector, through
 *   LiveKit's text turn-detector interface (livekit-turn-detector.ts), with Cue's threshold
 *   (`turn_handling.turn_detector.threshold`) as the unlikely threshold. LiveKit gives a text
 *   detector its default endpointing delays, 500 ms when the end is likely and 3000 ms when not
 *   (`resolveEndpointing` in voice/turn_config/utils.ts; only the audio model gets 300 / 2500),
 *   the same as Cue's `min_delay` / `max_delay`. This compares the pipelines with one detector.
 * - "livekit-flux": Deepgram Flux (`deepgram.STTv2`, /v2/listen) with Cue's thresholds
 *   (`eot_threshold`, `eager_eot_threshold`, `eot_timeout_ms`), LiveKit's STT turn detection
 *   (`turnDetection: 'stt'`: the turn ends on Flux's EndOfTurn) and preemptive generation on
 *   EagerEndOfTurn (the plugin turns it into a PREFLIGHT_TRANSCRIPT, which LiveKit speculates on;
 *   it sends `eager_eot_threshold` only when set). Endpointing stays LiveKit's default, which in
 *   STT mode waits `minDelay` (500 ms) after Flux's EndOfTurn: LiveKit flushes the VAD on the
 *   STT's end of speech, so the wait counts from then (audio_recognition.ts, END_OF_SPEECH). That
 *   wait is what stops LiveKit cutting in when Flux ends a turn at a pause that sounds complete:
 *   with `minDelay: 0`, 8 corpus cases went from p50 1046 to 739 ms but gained a false cut-in and
 *   two wrong replies. A user would not set it to 0, and any other value would be tuned on the corpus.
 * - "livekit-fast": what LiveKit users who chase latency set, as the Smart Turn plugin for LiveKit
 *   Agents is documented to run: Silero's `minSilenceDuration` 250 ms (from 550) and
 *   `endpointing.minDelay` 300 ms (from 500), with Cue's transcript heuristic as the turn detector
 *   (as in "livekit-text"; its unlikely ends still wait the 3000 ms `maxDelay`).
 * - "livekit-tts" (extra, on request): "livekit" with `preemptiveTts: true`, LiveKit's option to
 *   synthesise the speculative reply before the turn is committed. Not a default system: LiveKit
 *   still speaks only once the VAD has ended the turn, and on 22 turns of the corpus (fast and slow
 *   profiles) it was no faster than "livekit" (per-turn median difference -2 ms, from -125 to
 *   +161 ms), while synthesising every speculation that is then thrown away.
 */
import * as deepgram from '@livekit/agents-plugin-deepgram';
import type { stt, voice } from '@livekit/agents';
import type { Settings } from '../../src/shared/settings';
import { LiveKitCueTurnDetector } from './livekit-turn-detector';

export const LIVEKIT_CONFIGS = [
  'livekit',
  'livekit-text',
  'livekit-flux',
  'livekit-fast',
  'livekit-tts',
] as const;
export type LiveKitConfigName = (typeof LIVEKIT_CONFIGS)[number];

export type LiveKitTurnHandling = NonNullable<voice.AgentSessionOptions['turnHandling']>;

export interface LiveKitConfig {
  stt: stt.STT;
  turnHandling: LiveKitTurnHandling;
}

export interface LiveKitConfigInput {
  /** The Deepgram simulator's base URL (http://127.0.0.1:PORT). */
  deepgramUrl: string;
  apiKey: string;
  /** Cue's settings for the run: their Deepgram parameters and turn threshold are copied. */
  cueSettings: Settings;
}

export function liveKitConfig(name: LiveKitConfigName, input: LiveKitConfigInput): LiveKitConfig {
  const preemptiveGeneration = { enabled: true, preemptiveTts: name === 'livekit-tts' };
  const interruption = { mode: 'vad' as const };
  switch (name) {
    case 'livekit':
    case 'livekit-tts':
      return {
        stt: novaStt(input),
        turnHandling: { turnDetection: 'vad', interruption, preemptiveGeneration },
      };
    case 'livekit-text':
    case 'livekit-fast': {
      const detector = new LiveKitCueTurnDetector(input.cueSettings.turn_handling.turn_detector.threshold);
      return {
        stt: novaStt(input),
        turnHandling: {
          turnDetection: detector,
          interruption,
          preemptiveGeneration,
          ...(name === 'livekit-fast' ? { endpointing: { minDelay: FAST_MIN_DELAY_MS } } : {}),
        },
      };
    }
    case 'livekit-flux':
      return {
        stt: fluxStt(input),
        turnHandling: { turnDetection: 'stt', interruption, preemptiveGeneration },
      };
  }
}

/** livekit-fast: Silero's end of speech after this much silence (LiveKit's default 550 ms). */
const FAST_MIN_SILENCE_MS = 250;
/** livekit-fast: `endpointing.minDelay` (LiveKit's default 500 ms). */
const FAST_MIN_DELAY_MS = 300;

/** Silero VAD options of a configuration (LiveKit's defaults but for livekit-fast). */
export function liveKitVad(name: LiveKitConfigName): { minSilenceDuration?: number } {
  return name === 'livekit-fast' ? { minSilenceDuration: FAST_MIN_SILENCE_MS } : {};
}

/** A configuration in a sentence, for the report. */
export function liveKitDescription(name: LiveKitConfigName): string {
  const common =
    "LiveKit Agents 1.9 with its own Deepgram, OpenAI, ElevenLabs and Silero plugins, Deepgram parameters as Cue's, interruption mode vad, preemptive generation on";
  switch (name) {
    case 'livekit':
      return `${common}; turns end on the VAD (550 ms of silence, min delay 500 ms).`;
    case 'livekit-text':
      return `${common}; Cue's transcript heuristic as its turn detector (500 ms if the end is likely, 3000 ms if not).`;
    case 'livekit-flux':
      return `${common.replace('Deepgram parameters', 'Deepgram Flux with thresholds')}; turns end on Flux's EndOfTurn plus its 500 ms min delay, speculation on EagerEndOfTurn.`;
    case 'livekit-fast':
      return `${common}; tuned for latency as the Smart Turn plugin is documented to run: VAD silence 250 ms, min delay 300 ms, Cue's transcript heuristic as its turn detector.`;
    case 'livekit-tts':
      return `${common} with preemptive TTS; turns end on the VAD (550 ms of silence, min delay 500 ms).`;
  }
}

/** The plugin's `baseUrl` is the WebSocket origin; it appends /v1/listen. */
function novaStt({ deepgramUrl, apiKey, cueSettings }: LiveKitConfigInput): deepgram.STT {
  const nova = cueSettings.stt.nova;
  return new deepgram.STT({
    apiKey,
    baseUrl: websocketUrl(deepgramUrl),
    model: nova.model,
    interimResults: true,
    endpointing: nova.endpointing_ms,
    utteranceEndMs: nova.utterance_end_ms,
    smartFormat: nova.smart_format,
  });
}

/** STTv2's `endpointUrl` is the whole listen URL. */
function fluxStt({ deepgramUrl, apiKey, cueSettings }: LiveKitConfigInput): deepgram.STTv2 {
  const flux = cueSettings.stt.flux;
  return new deepgram.STTv2({
    apiKey,
    endpointUrl: `${websocketUrl(deepgramUrl)}/v2/listen`,
    model: flux.model,
    eotThreshold: flux.eot_threshold,
    eagerEotThreshold: flux.eager_eot_threshold,
    eotTimeoutMs: flux.eot_timeout_ms,
  });
}

function websocketUrl(url: string): string {
  return url.replace(/^http/, 'ws');
}
