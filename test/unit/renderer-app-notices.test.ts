import { describe, expect, it } from 'vitest';
import { addNotice, dismissNotice, MAX_NOTICES, type NoticeItem } from '../../src/renderer/src/app/notices';

describe('notices', () => {
  it('shows an equal notice once, counting repeats and moving it to the newest place', () => {
    let list: readonly NoticeItem[] = [];
    list = addNotice(list, { level: 'warning', message: 'Deepgram: connection lost' }, 1);
    list = addNotice(list, { level: 'info', message: 'Reconnected' }, 2);
    list = addNotice(list, { level: 'warning', message: '  Deepgram: connection lost ' }, 3);
    expect(list.map((n) => [n.message, n.count, n.id])).toEqual([
      ['Reconnected', 1, 2],
      ['Deepgram: connection lost', 2, 1],
    ]);
  });

  it('keeps notices of different levels apart', () => {
    let list: readonly NoticeItem[] = [];
    list = addNotice(list, { level: 'warning', message: 'x' }, 1);
    list = addNotice(list, { level: 'error', message: 'x' }, 2);
    expect(list).toHaveLength(2);
  });

  it('does not count a repeat when told not to (start-up reads)', () => {
    const list = addNotice([], { level: 'warning', message: 'no key store' }, 1);
    expect(addNotice(list, { level: 'warning', message: 'no key store' }, 2, { countRepeat: false })).toBe(
      list,
    );
  });

  it('ignores empty messages', () => {
    const list: readonly NoticeItem[] = [];
    expect(addNotice(list, { level: 'info', message: '  ' }, 1)).toBe(list);
  });

  it('dismisses by id, and a dismissed notice can come back', () => {
    let list = addNotice([], { level: 'error', message: 'boom' }, 1);
    list = dismissNotice(list, 1);
    expect(list).toEqual([]);
    expect(dismissNotice(list, 42)).toBe(list);
    list = addNotice(list, { level: 'error', message: 'boom' }, 2);
    expect(list).toEqual([expect.objectContaining({ id: 2, count: 1 })]);
  });

  it('drops the oldest non-error notice past the bound, never the newest', () => {
    let list: readonly NoticeItem[] = addNotice([], { level: 'error', message: 'e0' }, 0);
    for (let i = 1; i <= MAX_NOTICES; i++) list = addNotice(list, { level: 'info', message: `i${i}` }, i);
    expect(list).toHaveLength(MAX_NOTICES);
    expect(list[0]!.message).toBe('e0');
    expect(list.at(-1)!.message).toBe(`i${MAX_NOTICES}`);
    let errors: readonly NoticeItem[] = [];
    for (let i = 0; i < MAX_NOTICES; i++) errors = addNotice(errors, { level: 'error', message: `e${i}` }, i);
    errors = addNotice(errors, { level: 'info', message: 'newest' }, 99);
    expect(errors.at(-1)!.message).toBe('newest');
    expect(errors).toHaveLength(MAX_NOTICES);
  });

  it('offers the provider settings for key problems', () => {
    const [item] = addNotice(
      [],
      {
        level: 'error',
        message: 'Could not start: Deepgram: no API key; set the Deepgram API key in settings',
      },
      1,
    );
    expect(item!.action).toEqual({
      kind: 'open-settings',
      section: 'providers',
      label: 'Open provider settings',
    });
  });
});
