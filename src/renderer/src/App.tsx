/**
 * Cue's window: the top bar (status, start/stop, mute, push-to-talk, report, theme, settings),
 * notices and the pending-restart banner, the conversation, the live timeline's region, and the
 * settings drawer. All state comes from useCue() (src/renderer/src/app/use-cue.ts).
 *
 * src/renderer/src/app/mounts.tsx holds <AudioMount> (microphone and speaker through the audio
 * engine) and <TimelineMount> (the live turn timeline).
 */
import { useCallback, useEffect, useState } from 'react';
import { Conversation } from './app/Conversation';
import { Disconnected } from './app/Disconnected';
import { Header } from './app/Header';
import { AudioMount, TimelineMount } from './app/mounts';
import { Notices, RestartBanner } from './app/Notices';
import type { NoticeAction } from './app/notices';
import { applyTheme, loadTheme, type ThemeChoice } from './app/theme';
import { useCue } from './app/use-cue';
import { SettingsDrawer, type SettingsTarget } from './settings/SettingsDrawer';
import { useSettingsDraft } from './settings/use-settings-draft';

export function App() {
  const cue = useCue();
  const { actions, connection, state } = cue;
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
  const [settingsTarget, setSettingsTarget] = useState<SettingsTarget | null>(null);
  const form = useSettingsDraft(cue.settings, cue.options, actions.updateSettings);

  useEffect(() => applyTheme(theme), [theme]);

  const openSettings = useCallback((target: SettingsTarget = {}) => setSettingsTarget(target), []);
  const closeSettings = useCallback(() => setSettingsTarget(null), []);
  const onNoticeAction = useCallback(
    (action: NoticeAction) => {
      if (action.kind === 'open-settings') openSettings({ section: action.section });
    },
    [openSettings],
  );
  const restart = useCallback(() => void actions.restart(), [actions]);
  const restarting = cue.busy.starting || cue.busy.stopping;
  const connected = connection.status === 'connected';

  return (
    <div className="app">
      <Header
        connection={connection}
        info={cue.info}
        state={state}
        busy={cue.busy}
        userSpeaking={cue.conversation.userSpeaking}
        actions={actions}
        theme={theme}
        onTheme={setTheme}
        onOpenSettings={() => openSettings()}
      />

      <div className="banners">
        <RestartBanner state={state} options={cue.options} restarting={restarting} onRestart={restart} />
        <Notices notices={cue.notices} onDismiss={actions.dismissNotice} onAction={onNoticeAction} />
      </div>

      <main className="main" id="main">
        {connection.status === 'failed' ? (
          <Disconnected error={connection.error} onRetry={() => void actions.connect()} retrying={false} />
        ) : (
          <>
            <Conversation conversation={cue.conversation} state={state} info={cue.info} />
            {/* Microphone capture and playback, with the input level, once connected. */}
            {connected && cue.api && state ? (
              <AudioMount
                api={cue.api}
                state={state}
                settings={cue.settings}
                onNotice={actions.pushNotice}
                onDismissNotice={actions.dismissNotice}
              />
            ) : null}
            <section className="timeline-region" aria-label="Live timeline">
              {connected && cue.api ? (
                <TimelineMount
                  api={cue.api}
                  subscribeTimeline={actions.subscribeTimeline}
                  turns={cue.turns}
                  running={state?.running ?? false}
                  vadThreshold={cue.settings?.vad.activation_threshold ?? null}
                />
              ) : null}
            </section>
          </>
        )}
      </main>

      {settingsTarget && cue.settings ? (
        <SettingsDrawer
          settings={cue.settings}
          options={cue.options}
          keys={cue.keys}
          secretStorage={cue.info?.secretStorage ?? null}
          state={state}
          form={form}
          restarting={restarting}
          target={settingsTarget}
          onSetKey={actions.setKey}
          onClearKey={actions.clearKey}
          onReset={actions.resetSettings}
          onRestart={restart}
          onClose={closeSettings}
        />
      ) : null}
    </div>
  );
}
