/**
 * Notices shown above the conversation: deduplicated (the same level and message shown once,
 * with a repeat count), dismissable, and bounded. Pure functions over an immutable list.
 */
import type { Notice } from '../../../shared/contract';

/** Something the user can do about a notice, handled by the app shell. */
export type NoticeAction = { kind: 'open-settings'; section: string; label: string };

export interface NoticeItem extends Notice {
  id: number;
  /** How many times this notice arrived (shown as "×3"). */
  count: number;
  action?: NoticeAction;
}

/** Notices kept at once; the oldest are dropped first (errors outlive infos and warnings). */
export const MAX_NOTICES = 5;

export function noticeKey(notice: Notice): string {
  return `${notice.level}\u0000${notice.message.trim()}`;
}

export interface AddNoticeOptions {
  max?: number;
  /** Count an equal notice as a repeat (false for the same state read from two places at start-up). */
  countRepeat?: boolean;
}

/**
 * Adds a notice. One equal to a shown notice (same level, same message) is not repeated: the
 * shown one counts it and moves to the newest place. Returns the same list when `message` is empty
 * or when it is already shown and `countRepeat` is false.
 */
export function addNotice(
  list: readonly NoticeItem[],
  notice: Notice & { action?: NoticeAction },
  id: number,
  { max = MAX_NOTICES, countRepeat = true }: AddNoticeOptions = {},
): readonly NoticeItem[] {
  const message = notice.message.trim();
  if (!message) return list;
  const key = noticeKey(notice);
  const existing = list.find((item) => noticeKey(item) === key);
  if (existing && !countRepeat) return list;
  const action = notice.action ?? existing?.action ?? suggestAction(message);
  const item: NoticeItem = existing
    ? { ...existing, count: existing.count + 1, ...(action ? { action } : {}) }
    : { level: notice.level, message, id, count: 1, ...(action ? { action } : {}) };
  const next = [...list.filter((n) => n !== existing), item];
  return trim(next, max);
}

export function dismissNotice(list: readonly NoticeItem[], id: number): readonly NoticeItem[] {
  const next = list.filter((item) => item.id !== id);
  return next.length === list.length ? list : next;
}

/** A missing key: offer to open the provider settings (the notice about key encryption needs no button). */
function suggestAction(message: string): NoticeAction | undefined {
  if (/api key/i.test(message))
    return { kind: 'open-settings', section: 'providers', label: 'Open provider settings' };
  return undefined;
}

function trim(list: NoticeItem[], max: number): NoticeItem[] {
  while (list.length > max) {
    // The newest is never the one dropped.
    const index = list.slice(0, -1).findIndex((item) => item.level !== 'error');
    list.splice(index >= 0 ? index : 0, 1);
  }
  return list;
}
