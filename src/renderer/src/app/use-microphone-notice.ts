/**
 * The microphone's message (an error such as "unplugged", or a note such as "using the default
 * microphone") as a notice, for as long as it stands: withdrawn when the message changes or
 * clears (the microphone is back) and when the audio stops, so no stale error says Cue cannot
 * hear while it does.
 */
import { useEffect } from 'react';
import type { Notice } from '../../../shared/contract';
import type { AudioEngineState } from '../audio/audio-engine';

export function useMicrophoneNotice(
  state: AudioEngineState,
  message: string | undefined,
  show: (notice: Notice) => number | undefined,
  withdraw: (id: number) => void,
): void {
  useEffect(() => {
    if (!message) return undefined;
    const id = show({ level: state === 'error' ? 'error' : 'info', message });
    return () => {
      if (id !== undefined) withdraw(id);
    };
  }, [state, message, show, withdraw]);
}
