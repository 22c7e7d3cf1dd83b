/**
 * A microphone picker for the input-device option: the page's audio inputs (labels appear once
 * microphone access has been granted), the system default as "", and the saved id kept as an
 * entry of its own when that device is not plugged in.
 */
import { useEffect, useState } from 'react';

export interface DeviceSelectProps {
  id: string;
  value: string;
  onChange: (value: string) => void;
  describedBy: string;
  invalid: boolean;
}

interface Device {
  id: string;
  label: string;
}

export function DeviceSelect({ id, value, onChange, describedBy, invalid }: DeviceSelectProps) {
  const [devices, setDevices] = useState<Device[] | null>(null);

  useEffect(() => {
    const media = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
    if (!media?.enumerateDevices) return;
    let live = true;
    const load = () => {
      media.enumerateDevices().then(
        (all) => {
          if (!live) return;
          const inputs = all.filter((d) => d.kind === 'audioinput' && d.deviceId && d.deviceId !== 'default');
          setDevices(inputs.map((d, i) => ({ id: d.deviceId, label: d.label || `Microphone ${i + 1}` })));
        },
        () => live && setDevices([]),
      );
    };
    load();
    media.addEventListener('devicechange', load);
    return () => {
      live = false;
      media.removeEventListener('devicechange', load);
    };
  }, []);

  const known = value === '' || (devices ?? []).some((d) => d.id === value);
  return (
    <select
      id={id}
      className="input"
      value={value}
      onChange={(e) => onChange(e.currentTarget.value)}
      aria-describedby={describedBy}
      aria-invalid={invalid || undefined}
    >
      <option value="">System default</option>
      {(devices ?? []).map((device) => (
        <option key={device.id} value={device.id}>
          {device.label}
        </option>
      ))}
      {known ? null : <option value={value}>Not connected ({value.slice(0, 12)}…)</option>}
    </select>
  );
}
