/**
 * Hold to talk: pointer down/up on the button, or Space held while it has focus. Enter toggles
 * (for keyboards and switches that cannot hold a key). Losing focus or the pointer releases.
 */
import { useRef, type KeyboardEvent, type MouseEvent, type PointerEvent } from 'react';
import { MicIcon } from './icons';

export interface PushToTalkButtonProps {
  talking: boolean;
  disabled: boolean;
  onChange: (pressed: boolean) => void;
  /** Id of the element describing how to use it (the shortcut hint). */
  describedBy?: string;
}

export function PushToTalkButton({ talking, disabled, onChange, describedBy }: PushToTalkButtonProps) {
  const held = useRef(false);

  const press = () => {
    if (held.current) return;
    held.current = true;
    onChange(true);
  };
  const release = () => {
    if (!held.current) return;
    held.current = false;
    onChange(false);
  };

  const onPointerDown = (event: PointerEvent<HTMLButtonElement>) => {
    if (event.button !== 0 || disabled) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    press();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key !== ' ') return;
    event.preventDefault();
    if (!event.repeat && !disabled) press();
  };
  const onKeyUp = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key !== ' ') return;
    // Prevented, so the browser does not turn the key-up into a click.
    event.preventDefault();
    release();
  };
  const onClick = (event: MouseEvent<HTMLButtonElement>) => {
    // Pointer clicks have detail ≥ 1 and were handled as press/release; Enter clicks have 0.
    if (event.detail !== 0 || disabled) return;
    if (talking || held.current) {
      held.current = false;
      onChange(false);
    } else {
      held.current = true;
      onChange(true);
    }
  };

  return (
    <button
      type="button"
      className={`btn ptt${talking ? ' ptt--active' : ''}`}
      aria-pressed={talking}
      aria-describedby={describedBy}
      disabled={disabled}
      onPointerDown={onPointerDown}
      onPointerUp={release}
      onPointerCancel={release}
      onLostPointerCapture={release}
      onKeyDown={onKeyDown}
      onKeyUp={onKeyUp}
      onBlur={release}
      onClick={onClick}
      onContextMenu={(event) => event.preventDefault()}
    >
      <MicIcon />
      <span>{talking ? 'Talking…' : 'Hold to talk'}</span>
    </button>
  );
}
