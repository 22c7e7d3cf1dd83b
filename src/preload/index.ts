/**
 * Preload for the sandboxed renderer: implements the contract's CueApi over Electron IPC and
 * exposes it as `window.cue` through contextBridge, nothing else (no ipcRenderer, no Electron
 * object, no event object ever reaches the page).
 *
 * Built as one self-contained CommonJS file (out/preload/index.cjs): a sandboxed preload cannot
 * be ESM and may only require 'electron'. It imports the contract's names from
 * src/shared/contract-names.ts, which has no zod (contract.ts would bundle all of zod here).
 *
 * - request(name, payload): refuses names that are not in the contract before sending; main
 *   checks the sender frame and validates the payload, and its errors come back as Errors
 *   carrying main's name and message.
 * - on(event, listener): contract event names only; the listener receives the payload alone.
 * - sendAudio / onAudio: over the MessagePort main sends on ipcChannel.audioPort once the page
 *   has loaded. Messages sent before it arrives are queued (the oldest dropped past a bound).
 *   Mic samples cross as transferred ArrayBuffers (the buffer is the preload's own copy, made
 *   by contextBridge, so the page's array is untouched).
 * - requestMicPort(): a port for the page's capture worker (or worklet) to send microphone
 *   frames straight to main. contextBridge cannot carry a MessagePort, so (as Electron documents for ports to
 *   the main world) the preload makes a channel, sends one end to main on ipcChannel.micPort and
 *   posts the other to this window, tagged with the id it returns; the page takes the port from
 *   that message (platform/electron-mic-port.ts).
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { AudioDown, AudioUp, CueApi, EventName, Events } from '../shared/contract';
import { ipcChannel, isEventName, isRequestName, MIC_PORT_MESSAGE } from '../shared/contract-names';

/** App version, injected at build time from package.json (electron.vite.config.ts). */
declare const __CUE_VERSION__: string;

/** Audio messages kept while the port has not arrived (about 16 s of 32 ms mic frames). */
const MAX_QUEUED_AUDIO = 512;

type AnyListener = (payload: never) => void;

const eventListeners = new Map<EventName, Set<AnyListener>>();
const audioListeners = new Set<(message: AudioDown) => void>();
let audioPort: MessagePort | undefined;
let audioQueue: AudioUp[] = [];
let nextMicPortId = 1;

function report(what: string, error: unknown): void {
  console.error(`cue: ${what}:`, error);
}

ipcRenderer.on(ipcChannel.event, (_event, name: unknown, payload: unknown) => {
  if (!isEventName(name)) return;
  for (const listener of [...(eventListeners.get(name) ?? [])]) {
    try {
      (listener as (payload: unknown) => void)(payload);
    } catch (error) {
      report(`a listener of "${name}" failed`, error);
    }
  }
});

ipcRenderer.on(ipcChannel.audioPort, (event) => {
  const port = event.ports[0];
  if (!port) return;
  audioPort?.close();
  audioPort = port;
  port.onmessage = (message: MessageEvent) => deliverAudio(message.data);
  port.start();
  const queued = audioQueue;
  audioQueue = [];
  for (const message of queued) postAudio(port, message);
});

function deliverAudio(data: unknown): void {
  if (typeof data !== 'object' || data === null || typeof (data as { type?: unknown }).type !== 'string')
    return;
  for (const listener of [...audioListeners]) {
    try {
      listener(data as AudioDown);
    } catch (error) {
      report('an audio listener failed', error);
    }
  }
}

function postAudio(port: MessagePort, message: AudioUp): void {
  const samples = message.type === 'mic' ? message.samples : undefined;
  // Transfer the samples' buffer when the array owns all of it (a view on part of a larger buffer is copied).
  const transfer =
    samples instanceof Int16Array &&
    samples.buffer instanceof ArrayBuffer &&
    samples.byteOffset === 0 &&
    samples.byteLength === samples.buffer.byteLength
      ? [samples.buffer]
      : [];
  port.postMessage(message, transfer);
}

/** Main's errors arrive as "Error invoking remote method '<channel>': <Name>: <message>". */
function unwrapRemoteError(error: unknown): Error {
  const message = (error as { message?: unknown } | null)?.message;
  const text = typeof message === 'string' ? message : String(error);
  const match = /^Error invoking remote method '[^']*': (?:([A-Za-z]*Error): )?([\s\S]*)$/.exec(text);
  if (!match) return error instanceof Error ? error : new Error(text);
  const unwrapped = new Error(match[2]);
  if (match[1]) unwrapped.name = match[1];
  return unwrapped;
}

const cue: CueApi & { readonly version: string; requestMicPort(): number } = Object.freeze({
  version: __CUE_VERSION__,

  request(name: unknown, payload: unknown): Promise<never> {
    if (!isRequestName(name)) return Promise.reject(new Error(`unknown request "${String(name)}"`));
    return ipcRenderer.invoke(ipcChannel.request(name), payload).catch((error: unknown) => {
      throw unwrapRemoteError(error);
    }) as Promise<never>;
  },

  on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void {
    if (!isEventName(name)) throw new TypeError(`unknown event "${String(name)}"`);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    let listeners = eventListeners.get(name);
    if (!listeners) eventListeners.set(name, (listeners = new Set()));
    listeners.add(listener as AnyListener);
    return () => {
      listeners.delete(listener as AnyListener);
    };
  },

  sendAudio(message: AudioUp): void {
    if (audioPort) {
      postAudio(audioPort, message);
      return;
    }
    audioQueue.push(message);
    if (audioQueue.length > MAX_QUEUED_AUDIO) audioQueue.splice(0, audioQueue.length - MAX_QUEUED_AUDIO);
  },

  onAudio(listener: (message: AudioDown) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    audioListeners.add(listener);
    return () => {
      audioListeners.delete(listener);
    };
  },

  requestMicPort(): number {
    const id = nextMicPortId++;
    const channel = new MessageChannel();
    ipcRenderer.postMessage(ipcChannel.micPort, null, [channel.port1]);
    window.postMessage({ [MIC_PORT_MESSAGE]: id }, '*', [channel.port2]);
    return id;
  },
});

contextBridge.exposeInMainWorld('cue', cue);
