/**
 * The settings form's state: raw inputs as typed (kept when invalid or refused), validated
 * locally with the shared schema on every change, saved as one settings:update patch, with
 * main's problems shown under the fields they name. Lives in App, so closing the panel keeps
 * what was typed.
 */
import { useCallback, useMemo, useState } from 'react';
import type { SettingsUpdateResult } from '../../../shared/contract';
import type { OptionInfo, Settings } from '../../../shared/settings';
import {
  flattenPatch,
  splitProblems,
  validateDraft,
  type Draft,
  type RawValue,
  type Validation,
} from './fields';

export interface Problems {
  byPath: Record<string, string[]>;
  general: string[];
}

const NO_PROBLEMS: Problems = { byPath: {}, general: [] };

export interface SettingsDraft {
  draft: Draft;
  validation: Validation | null;
  /** Local and main's problems together. */
  problems: Problems;
  /** Paths with something to save or fix. */
  dirty: string[];
  saving: boolean;
  setField(path: string, raw: RawValue): void;
  /** Forgets the typed value (the field shows the saved setting again). */
  revertField(path: string): void;
  save(): Promise<boolean>;
  discard(): void;
  /** Sends a patch at once (presets); problems land like a save's. */
  applyPatch(patch: Record<string, unknown>): Promise<boolean>;
}

export function useSettingsDraft(
  settings: Settings | null,
  options: readonly OptionInfo[],
  update: (patch: Record<string, unknown>) => Promise<SettingsUpdateResult>,
): SettingsDraft {
  const [draft, setDraft] = useState<Draft>({});
  const [server, setServer] = useState<Problems>(NO_PROBLEMS);
  const [saving, setSaving] = useState(false);

  const validation = useMemo(
    () => (settings ? validateDraft(settings, draft, options) : null),
    [settings, draft, options],
  );

  const problems = useMemo<Problems>(() => {
    const byPath: Record<string, string[]> = {};
    for (const source of [validation?.byPath ?? {}, server.byPath]) {
      for (const [path, messages] of Object.entries(source)) {
        byPath[path] = [...new Set([...(byPath[path] ?? []), ...messages])];
      }
    }
    return { byPath, general: [...new Set([...(validation?.general ?? []), ...server.general])] };
  }, [validation, server]);

  const dirty = useMemo(
    () =>
      Object.keys(draft).filter(
        (path) => validation?.changed.includes(path) || problems.byPath[path] !== undefined,
      ),
    [draft, validation, problems],
  );

  const setField = useCallback((path: string, raw: RawValue) => {
    setDraft((current) => ({ ...current, [path]: raw }));
    setServer((current) => {
      if (!current.byPath[path]) return current;
      const { [path]: _gone, ...byPath } = current.byPath;
      return { ...current, byPath };
    });
  }, []);

  const revertField = useCallback((path: string) => {
    setDraft((current) => {
      if (!(path in current)) return current;
      const { [path]: _gone, ...rest } = current;
      return rest;
    });
    setServer((current) => {
      if (!current.byPath[path]) return current;
      const { [path]: _gone, ...byPath } = current.byPath;
      return { ...current, byPath };
    });
  }, []);

  const send = useCallback(
    async (patch: Record<string, unknown>, sent: Draft): Promise<boolean> => {
      setSaving(true);
      try {
        const result = await update(patch);
        if (!result.ok) {
          setServer(splitProblems(result.problems, options));
          return false;
        }
        setServer(NO_PROBLEMS);
        // Forget what was saved, but not what was typed meanwhile.
        setDraft((current) => {
          const next: Record<string, RawValue> = {};
          for (const [path, raw] of Object.entries(current)) if (sent[path] !== raw) next[path] = raw;
          return next;
        });
        return true;
      } finally {
        setSaving(false);
      }
    },
    [update, options],
  );

  const save = useCallback(async () => {
    if (!validation || !validation.valid) return false;
    return send(validation.patch, draft);
  }, [validation, draft, send]);

  const applyPatch = useCallback(
    async (patch: Record<string, unknown>) => {
      // Typed values for the options the patch sets would hide its effect: drop them first.
      const ok = await send(patch, {});
      if (ok) {
        const touched = new Set(Object.keys(flattenPatch(patch)));
        setDraft((current) =>
          Object.fromEntries(Object.entries(current).filter(([path]) => !touched.has(path))),
        );
      }
      return ok;
    },
    [send],
  );

  const discard = useCallback(() => {
    setDraft({});
    setServer(NO_PROBLEMS);
  }, []);

  return useMemo(
    () => ({ draft, validation, problems, dirty, saving, setField, revertField, save, discard, applyPatch }),
    [draft, validation, problems, dirty, saving, setField, revertField, save, discard, applyPatch],
  );
}
