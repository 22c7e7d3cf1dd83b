/**
 * One option: label, control, meaning, default, unit and range, and its problems in place.
 * The control always shows the raw input (what the user typed), never a corrected value.
 */
import { memo, type KeyboardEvent } from 'react';
import type { OptionInfo } from '../../../shared/settings';
import { DeviceSelect } from './DeviceSelect';
import {
  describeRange,
  fieldId,
  fieldKind,
  formatValue,
  isInteger,
  parseRaw,
  rawOf,
  stepRaw,
  unitWord,
  type RawValue,
} from './fields';

export interface OptionFieldProps {
  option: OptionInfo;
  /** The raw input: the typed value, or the saved setting shown as input. */
  raw: RawValue;
  /** The saved value. */
  saved: unknown;
  modified: boolean;
  errors: readonly string[] | undefined;
  onChange: (path: string, raw: RawValue) => void;
  onRevert: (path: string) => void;
  /** For a narrow panel: no option path, the meaning for screen readers only. */
  compact?: boolean;
}

export const OptionField = memo(function OptionField(props: OptionFieldProps) {
  const { option, raw, saved, modified, errors, onChange, onRevert, compact = false } = props;
  const id = fieldId(option.path);
  const kind = fieldKind(option);
  const range = describeRange(option);
  const invalid = errors !== undefined && errors.length > 0;
  const describedBy = [`${id}-desc`, `${id}-meta`, invalid ? `${id}-err` : ''].filter(Boolean).join(' ');
  const atDefault = Object.is(parseRaw(option, raw), option.default);
  const set = (value: RawValue) => onChange(option.path, value);

  let control;
  if (kind === 'boolean') {
    control = (
      <label className="switch">
        <input
          id={id}
          type="checkbox"
          role="switch"
          aria-labelledby={`${id}-label`}
          checked={raw === true}
          onChange={(e) => set(e.currentTarget.checked)}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
        />
        <span className="switch-track" aria-hidden="true">
          <span className="switch-thumb" />
        </span>
        <span className="switch-label" aria-hidden="true">
          {raw === true ? 'On' : 'Off'}
        </span>
      </label>
    );
  } else if (option.path === 'audio.input_device') {
    control = (
      <DeviceSelect id={id} value={String(raw)} onChange={set} describedBy={describedBy} invalid={invalid} />
    );
  } else if (kind === 'choice' && option.choices && option.choices.length <= 4) {
    control = (
      <div
        className="segmented"
        role="radiogroup"
        aria-labelledby={`${id}-label`}
        aria-describedby={describedBy}
      >
        {option.choices.map((choice, index) => (
          <label key={choice} className={`segment${raw === choice ? ' segment--on' : ''}`}>
            <input
              id={index === 0 ? id : undefined}
              type="radio"
              name={id}
              value={choice}
              checked={raw === choice}
              onChange={() => set(choice)}
            />
            <span>{choice}</span>
          </label>
        ))}
      </div>
    );
  } else if (kind === 'choice' && option.choices) {
    control = (
      <select
        id={id}
        className="input"
        value={String(raw)}
        onChange={(e) => set(e.currentTarget.value)}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
      >
        {option.choices.includes(String(raw)) ? null : <option value={String(raw)}>{String(raw)}</option>}
        {option.choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    );
  } else if (kind === 'number') {
    const value = parseRaw(option, raw);
    const unit = unitWord(option);
    const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
      const big = e.shiftKey || e.key === 'PageUp' || e.key === 'PageDown' ? 10 : 1;
      if (e.key === 'ArrowUp' || e.key === 'PageUp') {
        e.preventDefault();
        set(stepRaw(option, raw, 1, big));
      } else if (e.key === 'ArrowDown' || e.key === 'PageDown') {
        e.preventDefault();
        set(stepRaw(option, raw, -1, big));
      }
    };
    control = (
      <div className="number-input">
        <input
          id={id}
          className="input"
          type="text"
          inputMode={isInteger(option) ? 'numeric' : 'decimal'}
          role="spinbutton"
          autoComplete="off"
          spellCheck={false}
          value={String(raw)}
          aria-valuemin={option.minimum}
          aria-valuemax={option.maximum}
          aria-valuenow={typeof value === 'number' ? value : undefined}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          onChange={(e) => set(e.currentTarget.value)}
          onKeyDown={onKeyDown}
        />
        {unit ? (
          <span className="number-unit" aria-hidden="true">
            {unit}
          </span>
        ) : null}
        <span className="number-steppers">
          <button
            type="button"
            tabIndex={-1}
            aria-hidden="true"
            className="stepper"
            onClick={() => set(stepRaw(option, raw, 1))}
          >
            +
          </button>
          <button
            type="button"
            tabIndex={-1}
            aria-hidden="true"
            className="stepper"
            onClick={() => set(stepRaw(option, raw, -1))}
          >
            −
          </button>
        </span>
      </div>
    );
  } else if (kind === 'longtext') {
    control = (
      <textarea
        id={id}
        className="input textarea"
        rows={option.path === 'agent.instructions' ? 5 : 2}
        value={String(raw)}
        onChange={(e) => set(e.currentTarget.value)}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
      />
    );
  } else {
    control = (
      <input
        id={id}
        className="input"
        type={option.path.endsWith('base_url') ? 'url' : 'text'}
        autoComplete="off"
        spellCheck={false}
        value={String(raw)}
        placeholder={typeof option.default === 'string' && option.default ? option.default : undefined}
        onChange={(e) => set(e.currentTarget.value)}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
      />
    );
  }

  return (
    <div
      className={`field${invalid ? ' field--invalid' : ''}${modified ? ' field--modified' : ''}`}
      id={`field-${id}`}
    >
      <div className="field-head">
        {kind === 'choice' && option.choices && option.choices.length <= 4 ? (
          <span className="field-label" id={`${id}-label`}>
            {option.label}
          </span>
        ) : (
          <label className="field-label" htmlFor={id} id={`${id}-label`}>
            {option.label}
          </label>
        )}
        {compact ? null : <code className="field-path">{option.path}</code>}
        {modified ? <span className="tag tag--accent">unsaved</span> : null}
      </div>
      <div className="field-control">{control}</div>
      <p className={compact ? 'visually-hidden' : 'field-desc'} id={`${id}-desc`}>
        {option.description}
      </p>
      <p className="field-meta" id={`${id}-meta`}>
        <span>
          Default <strong>{formatValue(option, option.default)}</strong>
        </span>
        {range ? (
          <span>
            {option.choices ? 'Choices' : 'Range'} <strong>{range}</strong>
          </span>
        ) : null}
        {modified ? (
          <span>
            Saved <strong>{formatValue(option, saved)}</strong>
          </span>
        ) : null}
        {modified ? (
          <button type="button" className="link" onClick={() => onRevert(option.path)}>
            Undo
          </button>
        ) : null}
        {!atDefault ? (
          <button type="button" className="link" onClick={() => set(rawOf(option, option.default))}>
            Use default
          </button>
        ) : null}
      </p>
      {invalid ? (
        <p className="field-error" id={`${id}-err`} role="alert">
          {errors.map((message) => `${option.label} ${message}`).join(' · ')}
        </p>
      ) : null}
    </div>
  );
});
