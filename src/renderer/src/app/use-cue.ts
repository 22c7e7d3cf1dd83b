/**
 * useCue(): the React view of the app over the CueApi (see CueStore for what it holds).
 *
 *   const cue = useCue();
 *   cue.connection.status            'connecting' | 'connected' | 'failed' (with .error)
 *   cue.state                        AppState (status, running, muted, talking, mode, pendingRestart)
 *   cue.info                         AppInfo (version, platform, secretStorage, shortcut)
 *   cue.settings, cue.options        Settings and every option's description
 *   cue.keys                         key status per provider (set, source; never the key)
 *   cue.notices                      deduplicated, dismissable notices
 *   cue.conversation                 transcript built from timeline events (live interim included)
 *   cue.turns                        the current session's turn reports
 *   cue.actions.start() / stop() / restart() / setMuted(m) / pushToTalk(pressed) / exportReport()
 *   cue.actions.updateSettings(patch) / resetSettings() / setKey(p, key) / clearKey(p)
 *   cue.actions.pushNotice(n) / dismissNotice(id) / subscribeTimeline(listener) / connect()
 *
 * One store per mounted app; it connects on mount and stops listening on unmount.
 */
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { getCueApi } from '../platform';
import { downloadText, reportFileName, reportJson } from './report-export';
import { CueStore, type CueActions, type CueSnapshot } from './store';

export type { ConnectionState, CueActions, CueSnapshot, KeyResult } from './store';

export type Cue = CueSnapshot & { actions: CueActions };

export function createCueStore(): CueStore {
  return new CueStore({
    getApi: getCueApi,
    saveReport: (report) => downloadText(reportJson(report), reportFileName(new Date())),
  });
}

export function useCue(): Cue {
  const [store] = useState(createCueStore);
  useEffect(() => {
    void store.connect();
    return () => store.disconnect();
  }, [store]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return useMemo(() => ({ ...snapshot, actions: store.actions }), [snapshot, store]);
}
