/**
 * API keys: write-only password fields. The panel shows whether a key is set and where it
 * comes from, never the key (main never sends it back). What was typed stays when it is refused.
 */
import { useState, type FormEvent } from 'react';
import { KEY_IDS, type KeyStatus, type KeyId, type SecretStorageInfo } from '../../../shared/contract';
import type { Settings } from '../../../shared/settings';
import { AlertIcon, KeyIcon } from '../app/icons';
import type { KeyResult } from '../app/store';
import { checkKey, describeKey, openAiKeyOptional, PROVIDER_INFO } from './keys';

export interface KeysPanelProps {
  keys: Readonly<Record<KeyId, KeyStatus>> | null;
  secretStorage: SecretStorageInfo | null;
  settings: Settings | null;
  onSet: (provider: KeyId, key: string) => Promise<KeyResult>;
  onClear: (provider: KeyId) => Promise<KeyResult>;
}

export function KeysPanel({ keys, secretStorage, settings, onSet, onClear }: KeysPanelProps) {
  // The custom endpoint's own key is offered while llm.base_url names an endpoint other than OpenAI's.
  const customEndpoint = openAiKeyOptional(settings);
  return (
    <div className="keys">
      <h3 className="group-title">API keys</h3>
      {secretStorage?.warning ? (
        <div className="callout callout--warning" role="note">
          <AlertIcon />
          <p>
            <strong>Keys are not encrypted on this system ({secretStorage.backend}).</strong>{' '}
            {secretStorage.warning}
          </p>
        </div>
      ) : secretStorage ? (
        <p className="group-desc">
          Keys are encrypted with the system’s key store ({secretStorage.backend}) and never shown again.
        </p>
      ) : null}
      <div className="key-list">
        {KEY_IDS.filter((id) => id !== 'llm_endpoint' || customEndpoint).map((provider) => (
          <KeyRow
            key={provider}
            provider={provider}
            status={keys?.[provider]}
            encrypted={secretStorage?.encrypted ?? true}
            optional={provider === 'llm_endpoint' || (provider === 'openai' && customEndpoint)}
            onSet={onSet}
            onClear={onClear}
          />
        ))}
      </div>
    </div>
  );
}

function KeyRow(props: {
  provider: KeyId;
  status: KeyStatus | undefined;
  /** Keys are encrypted on disk (else Cue keeps them in memory only). */
  encrypted: boolean;
  optional: boolean;
  onSet: KeysPanelProps['onSet'];
  onClear: KeysPanelProps['onClear'];
}) {
  const { provider, status, optional } = props;
  const info = PROVIDER_INFO[provider];
  const id = `key-${provider}`;
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = checkKey(value);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    const result = await props.onSet(provider, value.trim());
    setBusy(false);
    if (result.ok) {
      setValue('');
      setError(null);
      setMessage(`${info.name} key saved.`);
    } else {
      setError(result.error);
      setMessage(null);
    }
  };

  const clear = async () => {
    setBusy(true);
    const result = await props.onClear(provider);
    setBusy(false);
    if (result.ok) setMessage(`${info.name} key removed.`);
    else setError(result.error);
  };

  return (
    <form className={`key-row${error ? ' key-row--invalid' : ''}`} onSubmit={submit} noValidate>
      <div className="key-head">
        <label htmlFor={id} className="field-label">
          <KeyIcon /> {info.name} <span className="muted">· {info.role}</span>
        </label>
        <span className={`tag${status?.set ? ' tag--ok' : optional ? '' : ' tag--warn'}`}>
          {status?.set
            ? describeKey(provider, status, props.encrypted)
            : optional
              ? 'Not needed for this base URL'
              : 'Not set'}
        </span>
      </div>
      <div className="key-input">
        <input
          id={id}
          className="input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={value}
          placeholder={status?.set ? 'Enter a new key to replace it' : `Paste your ${info.name} API key`}
          onChange={(e) => {
            setValue(e.currentTarget.value);
            setError(null);
            setMessage(null);
          }}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-status`}
        />
        <button type="submit" className="btn btn--primary btn--small" disabled={busy || value.length === 0}>
          Save key
        </button>
        {status?.set && status.source === 'store' ? (
          <button type="button" className="btn btn--small" onClick={() => void clear()} disabled={busy}>
            Remove
          </button>
        ) : null}
      </div>
      <p
        id={`${id}-status`}
        className={error ? 'field-error' : 'field-desc'}
        role={error ? 'alert' : 'status'}
      >
        {error ??
          message ??
          (status?.source === 'environment'
            ? `Read from the ${info.env} environment variable; a key saved here takes its place.`
            : `Or set ${info.env} in the environment.`)}
      </p>
    </form>
  );
}
