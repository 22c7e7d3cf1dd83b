/**
 * The names of the renderer ↔ main contract without its schemas: request names, event names
 * and Electron IPC channel names, with no zod and no types from elsewhere. The preload bundles
 * this module alone (importing contract.ts would bundle zod into it); everyone else imports
 * contract.ts, which re-exports these and checks at compile time that the lists match its
 * request schemas and its Events interface exactly.
 */

/** Every request name, in the order of contract.ts's requestSchemas. */
export const REQUEST_NAMES = [
  'app:info',
  'app:state',
  'settings:get',
  'settings:describe',
  'settings:update',
  'settings:reset',
  'keys:status',
  'keys:set',
  'keys:clear',
  'session:start',
  'session:stop',
  'session:push-to-talk',
  'session:mute',
  'session:report',
  'recordings:list',
  'recordings:open',
  'recordings:replay',
  'recordings:delete',
  'recordings:delete-all',
] as const;

export type RequestName = (typeof REQUEST_NAMES)[number];

/** Every event name (main → renderer), in the order of contract.ts's Events. */
export const EVENT_NAMES = [
  'timeline',
  'timeline:batch',
  'state',
  'notice',
  'settings:changed',
  'turn',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];

const requestNames: ReadonlySet<string> = new Set(REQUEST_NAMES);
const eventNames: ReadonlySet<string> = new Set(EVENT_NAMES);

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && requestNames.has(name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && eventNames.has(name);
}

/** Channel names on Electron IPC, derived from the contract (never written by hand elsewhere). */
export const ipcChannel = {
  request: (name: RequestName) => `cue:request:${name}`,
  event: 'cue:event',
  audioPort: 'cue:audio-port',
  /** Renderer → main: a port for microphone frames only (see CueApi.openMicPort). */
  micPort: 'cue:mic-port',
} as const;

/** The key of the window message that hands the page a microphone port in Electron (its value: the request's id). */
export const MIC_PORT_MESSAGE = 'cueMicPort';
