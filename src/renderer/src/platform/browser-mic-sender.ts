/**
 * A mic sender (mic-sender.ts) on the browser's own WebSocket and timers, for the workers that
 * hold the bridge's mic socket: the mic worker, and the capture worker in the browser build.
 */
import { encodeAudioUp } from '../../../shared/audio-wire';
import { createMicSender, type MicSender, type MicSenderSocket } from './mic-sender';

export function createBrowserMicSender(onState?: (open: boolean) => void): MicSender {
  return createMicSender({
    createSocket: (url) => {
      const socket = new WebSocket(url);
      socket.binaryType = 'arraybuffer';
      return socket as MicSenderSocket;
    },
    encode: encodeAudioUp,
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
    ...(onState && { onState }),
  });
}
