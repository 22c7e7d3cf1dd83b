/**
 * The settings panel: a modal drawer (native <dialog>: focus kept inside, Esc closes, focus
 * returns to where it was). Presets and troubleshooting first, then every option, generated
 * from the option descriptions and grouped by section.
 */
import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { AppState, KeyStatus, KeyId, SecretStorageInfo, TurnModelView } from '../../../shared/contract';
import type { OptionInfo, Settings } from '../../../shared/settings';
import { describeTurnModel } from '../app/format';
import { CloseIcon } from '../app/icons';
import { RestartBanner } from '../app/Notices';
import type { KeyResult } from '../app/store';
import { fieldId, rawOf, valueAt } from './fields';
import { KeysPanel } from './KeysPanel';
import { OptionField } from './OptionField';
import { PresetsPanel } from './PresetsPanel';
import { groupOptions } from './sections';
import { TroubleshootingPanel } from './TroubleshootingPanel';
import type { SettingsDraft } from './use-settings-draft';

/** Where the panel opens: a section id (e.g. "providers", "troubleshooting") or an option path. */
export interface SettingsTarget {
  section?: string;
  path?: string;
}

export interface SettingsDrawerProps {
  settings: Settings;
  options: readonly OptionInfo[];
  keys: Readonly<Record<KeyId, KeyStatus>> | null;
  secretStorage: SecretStorageInfo | null;
  state: AppState | null;
  form: SettingsDraft;
  restarting: boolean;
  target: SettingsTarget | null;
  onSetKey: (provider: KeyId, key: string) => Promise<KeyResult>;
  onClearKey: (provider: KeyId) => Promise<KeyResult>;
  onReset: () => Promise<void>;
  onRestart: () => void;
  onClose: () => void;
}

export const SettingsDrawer = memo(function SettingsDrawer(props: SettingsDrawerProps) {
  const { settings, options, form, target } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const sections = useMemo(() => groupOptions(options), [options]);
  const nav = useMemo(
    () => [
      { id: 'presets', title: 'Presets' },
      { id: 'troubleshooting', title: 'Troubleshooting' },
      ...sections.map((s) => ({ id: s.id, title: s.title })),
    ],
    [sections],
  );
  const [active, setActive] = useState<string>(nav[0]!.id);
  const [confirmReset, setConfirmReset] = useState(false);
  const [confirmClose, setConfirmClose] = useState(false);
  const keepEditing = useRef<HTMLButtonElement>(null);
  // Closing with unsaved changes asks first (Escape included).
  const requestClose = useCallback(() => {
    if (form.dirty.length > 0) setConfirmClose(true);
    else props.onClose();
  }, [form.dirty.length, props]);
  useEffect(() => {
    if (confirmClose) keepEditing.current?.focus();
  }, [confirmClose]);

  // Open as a modal; on unmount close it and give focus back.
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const el = dialog.current;
    if (el && !el.open) el.showModal();
    return () => {
      el?.close();
      previous?.focus();
    };
  }, []);

  const jump = useCallback((path: string) => {
    const field = document.getElementById(`field-${fieldId(path)}`);
    if (!field) return;
    field.scrollIntoView({ block: 'center', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    // The selected radio of a choice, else the field's first control.
    const control =
      field.querySelector<HTMLElement>('input:checked') ??
      field.querySelector<HTMLElement>('input, select, textarea');
    control?.focus({ preventScroll: true });
    field.classList.add('field--flash');
    field.addEventListener('animationend', () => field.classList.remove('field--flash'), { once: true });
  }, []);

  const goToSection = useCallback((id: string) => {
    const heading = document.getElementById(`settings-${id}-title`);
    if (!heading) return;
    heading.scrollIntoView({ block: 'start', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    heading.focus({ preventScroll: true });
  }, []);

  // Open at the requested place.
  useEffect(() => {
    if (target?.path) jump(target.path);
    else if (target?.section) goToSection(target.section);
  }, [target, jump, goToSection]);

  // Highlight the section being read in the side navigation.
  useEffect(() => {
    const root = content.current;
    if (!root || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        const visible = entries
          .filter((e) => e.isIntersecting)
          .sort((a, b) => a.boundingClientRect.top - b.boundingClientRect.top);
        const id = visible[0]?.target.getAttribute('data-section');
        if (id) setActive(id);
      },
      { root, rootMargin: '0px 0px -70% 0px' },
    );
    for (const el of root.querySelectorAll('[data-section]')) observer.observe(el);
    return () => observer.disconnect();
  }, [sections]);

  const onKeyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
      event.preventDefault();
      void form.save();
    }
  };

  const problemCount = Object.keys(form.problems.byPath).length + form.problems.general.length;
  const canSave = form.dirty.length > 0 && (form.validation?.valid ?? false) && !form.saving;

  return (
    <dialog
      ref={dialog}
      className="drawer"
      aria-labelledby="settings-title"
      onCancel={(event) => {
        event.preventDefault();
        requestClose();
      }}
      onKeyDown={onKeyDown}
    >
      <div className="drawer-frame">
        <header className="drawer-head">
          <div>
            <h2 id="settings-title">Settings</h2>
            <p className="muted">
              Turn handling applies at once, even mid-conversation; providers apply at the next start.
            </p>
          </div>
          <button
            type="button"
            className="btn btn--ghost btn--icon"
            onClick={requestClose}
            aria-label="Close settings"
            title="Close (Esc)"
          >
            <CloseIcon />
          </button>
        </header>
        <RestartBanner
          state={props.state}
          options={options}
          restarting={props.restarting}
          onRestart={props.onRestart}
        />

        <div className="drawer-body">
          <nav className="drawer-nav" aria-label="Settings sections">
            <ul>
              {nav.map((item, index) => (
                <li key={item.id} className={index === 2 ? 'nav-break' : undefined}>
                  <button
                    type="button"
                    className="nav-item"
                    aria-current={active === item.id ? 'location' : undefined}
                    onClick={() => goToSection(item.id)}
                  >
                    {item.title}
                  </button>
                </li>
              ))}
            </ul>
          </nav>

          <div className="drawer-content" ref={content}>
            <section
              className="settings-section"
              data-section="presets"
              aria-labelledby="settings-presets-title"
            >
              <h3 id="settings-presets-title" tabIndex={-1}>
                Presets
              </h3>
              <p className="section-summary">
                Starting points for turn-taking, applied as one change. Each card shows its values and, struck
                through, what it would replace.
              </p>
              <PresetsPanel
                settings={settings}
                options={options}
                busy={form.saving}
                onApply={(patch) => void form.applyPatch(patch)}
                onJump={jump}
              />
            </section>

            <section
              className="settings-section"
              data-section="troubleshooting"
              aria-labelledby="settings-troubleshooting-title"
            >
              <h3 id="settings-troubleshooting-title" tabIndex={-1}>
                Troubleshooting
              </h3>
              <p className="section-summary">What you notice, and the options that change it.</p>
              <TroubleshootingPanel settings={settings} options={options} onJump={jump} />
            </section>

            {sections.map((section) => (
              <section
                key={section.id}
                className="settings-section"
                data-section={section.id}
                aria-labelledby={`settings-${section.id}-title`}
              >
                <h3 id={`settings-${section.id}-title`} tabIndex={-1}>
                  {section.title}
                </h3>
                <p className="section-summary">{section.summary}</p>
                {section.id === 'providers' ? (
                  <KeysPanel
                    keys={props.keys}
                    secretStorage={props.secretStorage}
                    settings={settings}
                    onSet={props.onSetKey}
                    onClear={props.onClearKey}
                  />
                ) : null}
                {section.groups.map((group) => (
                  <div key={group.id} className="group">
                    {section.groups.length > 1 || group.title !== section.title ? (
                      <h4 className="group-title">{group.title}</h4>
                    ) : null}
                    {group.description ? <p className="group-desc">{group.description}</p> : null}
                    {group.id === 'turn-detector' ? <TurnModelStatus view={props.state?.turnModel} /> : null}
                    <div className="fields">
                      {group.options.map((option) => {
                        const saved = valueAt(settings, option.path);
                        const typed = form.draft[option.path];
                        return (
                          <OptionField
                            key={option.path}
                            option={option}
                            raw={typed ?? rawOf(option, saved)}
                            saved={saved}
                            modified={typed !== undefined && form.dirty.includes(option.path)}
                            errors={form.problems.byPath[option.path]}
                            onChange={form.setField}
                            onRevert={form.revertField}
                          />
                        );
                      })}
                    </div>
                  </div>
                ))}
              </section>
            ))}
          </div>
        </div>

        {confirmClose ? (
          <div className="drawer-confirm" role="alertdialog" aria-labelledby="confirm-close-text">
            <p id="confirm-close-text">
              {form.dirty.length} unsaved change{form.dirty.length === 1 ? '' : 's'}: discard and close?
            </p>
            <button
              type="button"
              className="btn btn--small btn--danger"
              onClick={() => {
                form.discard();
                setConfirmClose(false);
                props.onClose();
              }}
            >
              Discard and close
            </button>
            <button
              ref={keepEditing}
              type="button"
              className="btn btn--small"
              onClick={() => setConfirmClose(false)}
            >
              Keep editing
            </button>
          </div>
        ) : null}
        <footer className="drawer-foot">
          <div className="foot-reset">
            {confirmReset ? (
              <>
                <span>Reset every option to its default?</span>
                <button
                  type="button"
                  className="btn btn--small btn--danger"
                  onClick={() => {
                    setConfirmReset(false);
                    form.discard();
                    void props.onReset();
                  }}
                >
                  Reset all
                </button>
                <button
                  type="button"
                  className="btn btn--small btn--ghost"
                  onClick={() => setConfirmReset(false)}
                >
                  Cancel
                </button>
              </>
            ) : (
              <button
                type="button"
                className="btn btn--small btn--ghost"
                onClick={() => setConfirmReset(true)}
              >
                Reset to defaults…
              </button>
            )}
          </div>
          <div className="foot-status" role="status" aria-live="polite">
            {form.problems.general.length ? (
              <span className="field-error">{form.problems.general.join(' · ')}</span>
            ) : problemCount > 0 ? (
              <span className="field-error">
                {problemCount} field{problemCount === 1 ? ' needs' : 's need'} fixing before saving
              </span>
            ) : form.dirty.length > 0 ? (
              <span>
                {form.dirty.length} unsaved change{form.dirty.length === 1 ? '' : 's'}
              </span>
            ) : (
              <span className="muted">All changes saved</span>
            )}
          </div>
          <div className="foot-actions">
            <button
              type="button"
              className="btn btn--small"
              onClick={form.discard}
              disabled={Object.keys(form.draft).length === 0 || form.saving}
            >
              Discard
            </button>
            <button
              type="button"
              className="btn btn--small btn--primary"
              onClick={() => void form.save()}
              disabled={!canSave}
              title="Save (Ctrl+S)"
            >
              {form.saving ? 'Saving…' : 'Save changes'}
            </button>
          </div>
        </footer>
      </div>
    </dialog>
  );
});

/** Where the end-of-turn audio model stands: downloading, ready, or unavailable and why. */
function TurnModelStatus({ view }: { view: TurnModelView | undefined }) {
  const line = describeTurnModel(view);
  if (!line) return null;
  return (
    <p className={`group-desc turn-model-status turn-model-status--${line.tone}`} role="status">
      {line.text}
      {line.detail ? <span className="turn-model-detail">{line.detail}</span> : null}
    </p>
  );
}

function prefersReducedMotion(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}
