/**
 * Cue's window: the top bar (status, start/stop, mute, push-to-talk, report, tuning, theme,
 * settings), what is in force, notices and the pending-restart banner, then the conversation and
 * the live timeline with the tuning panel beside them (under them in a narrow window), and the
 * full settings drawer for providers and keys. All state comes from useCue()
 * (src/renderer/src/app/use-cue.ts).
 *
 * src/renderer/src/app/mounts.tsx holds <AudioMount> (microphone and speaker through the audio
 * engine) and <TimelineMount> (the live turn timeline).
 */
import { memo, useCallback, useEffect, useState } from 'react';
import { Conversation } from './app/Conversation';
import { Disconnected } from './app/Disconnected';
import { Header } from './app/Header';
import { AudioMount, TimelineMount } from './app/mounts';
import { Notices, RestartBanner } from './app/Notices';
import type { NoticeAction } from './app/notices';
import { applyTheme, loadTheme, type ThemeChoice } from './app/theme';
import { useCue } from './app/use-cue';
import { SettingsDrawer, type SettingsTarget } from './settings/SettingsDrawer';
import { TuningPanel } from './settings/TuningPanel';
import { SessionsDialog } from './sessions/SessionsDialog';
import { useSettingsDraft } from './settings/use-settings-draft';
import { InForce } from './app/InForce';
import type { AudioEngineState } from './audio/audio-engine';
import { loadTuningOpen, saveTuningOpen } from './app/tuning-open';

// The snapshot changes with every transcript while a conversation runs: the parts that do not
// show the conversation skip those renders (their props stay the same objects).
const StableHeader = memo(Header);
const StableInForce = memo(InForce);
const StableRestartBanner = memo(RestartBanner);
const StableNotices = memo(Notices);
const StableAudioMount = memo(AudioMount);
const StableTimelineMount = memo(TimelineMount);
const StableTuningPanel = memo(TuningPanel);

export function App() {
  const cue = useCue();
  const { actions, connection, state } = cue;
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
  const [settingsTarget, setSettingsTarget] = useState<SettingsTarget | null>(null);
  const [tuningOpen, setTuningOpen] = useState<boolean>(loadTuningOpen);
  const [sessionsOpen, setSessionsOpen] = useState(false);
  const [microphone, setMicrophone] = useState<AudioEngineState>('idle');
  const form = useSettingsDraft(cue.settings, cue.options, actions.updateSettings);

  useEffect(() => applyTheme(theme), [theme]);
  useEffect(() => saveTuningOpen(tuningOpen), [tuningOpen]);

  const openSettings = useCallback((target: SettingsTarget = {}) => setSettingsTarget(target), []);
  const closeSettings = useCallback(() => setSettingsTarget(null), []);
  const onNoticeAction = useCallback(
    (action: NoticeAction) => {
      if (action.kind === 'open-settings') openSettings({ section: action.section });
    },
    [openSettings],
  );
  const restart = useCallback(() => void actions.restart(), [actions]);
  const openAllSettings = useCallback(() => openSettings(), [openSettings]);
  const openProviders = useCallback(() => openSettings({ section: 'providers' }), [openSettings]);
  const toggleTuning = useCallback(() => setTuningOpen((open) => !open), []);
  const openSessions = useCallback(() => setSessionsOpen(true), []);
  const reconnect = useCallback(() => void actions.connect(), [actions]);
  const restarting = cue.busy.starting || cue.busy.stopping;
  const connected = connection.status === 'connected';

  return (
    <div className="app">
      <StableHeader
        connection={connection}
        info={cue.info}
        state={state}
        busy={cue.busy}
        userSpeaking={cue.conversation.userSpeaking}
        actions={actions}
        theme={theme}
        onTheme={setTheme}
        onOpenSettings={openAllSettings}
        tuningOpen={tuningOpen}
        onToggleTuning={toggleTuning}
        onOpenSessions={openSessions}
        microphone={microphone}
      />
      <StableInForce settings={cue.settings} state={state} />

      <div className="banners">
        <StableRestartBanner
          state={state}
          options={cue.options}
          restarting={restarting}
          onRestart={restart}
        />
        <StableNotices notices={cue.notices} onDismiss={actions.dismissNotice} onAction={onNoticeAction} />
      </div>

      <main className="main" id="main" data-tuning={tuningOpen && connected ? 'open' : 'closed'}>
        {connection.status === 'failed' ? (
          <Disconnected error={connection.error} onRetry={reconnect} retrying={false} />
        ) : (
          <>
            <Conversation
              conversation={cue.conversation}
              state={state}
              info={cue.info}
              keys={cue.keys}
              llmBaseUrl={cue.settings?.llm.base_url ?? ''}
              onOpenProviders={
                cue.notices.some((n) => n.action?.kind === 'open-settings') ? null : openProviders
              }
            />
            {/* Microphone capture and playback, with the input level, once connected. */}
            {connected && cue.api && state ? (
              <StableAudioMount
                api={cue.api}
                state={state}
                settings={cue.settings}
                onNotice={actions.pushNotice}
                onDismissNotice={actions.dismissNotice}
                onMicrophone={setMicrophone}
              />
            ) : null}
            <section className="timeline-region" aria-label="Live timeline">
              {connected && cue.api ? (
                <StableTimelineMount
                  api={cue.api}
                  subscribeTimeline={actions.subscribeTimeline}
                  turns={cue.turns}
                  running={state?.running ?? false}
                  vadThreshold={cue.settings?.vad.activation_threshold ?? null}
                />
              ) : null}
            </section>
            {tuningOpen && connected && cue.settings ? (
              <aside className="tuning-region" id="tuning-panel" aria-label="Tuning">
                {/* The full settings are modal: their fields stand in for these meanwhile. */}
                {settingsTarget ? null : (
                  <StableTuningPanel
                    settings={cue.settings}
                    options={cue.options}
                    form={form}
                    onOpenSettings={openAllSettings}
                  />
                )}
              </aside>
            ) : null}
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
      {sessionsOpen && cue.api ? (
        <SessionsDialog
          api={cue.api}
          settings={cue.settings}
          options={cue.options}
          onApply={actions.updateSettings}
          onClose={() => setSessionsOpen(false)}
        />
      ) : null}
    </div>
  );
}
