/**
 * What the page's two sockets to the bridge (the contract's and the microphone's) share about
 * losing their connection.
 */

/** The bridge closes a page replaced by a newer one with this code: do not come back. */
export const CLOSE_REPLACED = 4000;

/** The wait before reconnect attempt `failures` (0 first): doubling from `initialMs` up to `maxMs`. */
export function reconnectDelayMs(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(failures, 16));
}
