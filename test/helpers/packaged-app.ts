/**
 * Assembles Cue's packaged Linux layout the way an installer ships it, with electron-builder
 * itself: the project's electron-vite build, its package.json and node_modules, and the project's
 * electron-builder.yml loaded by electron-builder's own config loader (the CLI, as `npm run package`
 * runs it), targeting `--linux dir`. Only two things differ from a release build:
 *
 * - `electronDist` points at a placeholder Electron distribution (Electron's binary cannot be
 *   downloaded here): one file named `electron` that carries Electron's fuse wire (the sentinel
 *   @electron/fuses looks for, then the wire version, its length and one byte per fuse, in the
 *   state Electron ships them), so electron-builder flips the configured fuses in it exactly as in
 *   a real binary and a test can read them back. It is not Electron and never runs.
 * - `directories.output` is a temporary folder.
 *
 * electron-builder packages for the OS it runs on (`${platform}` in electron-builder.yml keeps
 * that OS's onnxruntime binaries), so this runs on Linux only.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

/** The sentinel that precedes the fuse wire in Electron's binary (@electron/fuses' SENTINEL). */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** FuseState.ENABLE and FuseState.DISABLE of @electron/fuses: the ASCII digits '1' and '0'. */
const ON = 0x31;
const OFF = 0x30;
/**
 * Electron's fuses as its binary ships them, in FuseV1Options order: RunAsNode on,
 * EnableCookieEncryption off, EnableNodeOptionsEnvironmentVariable on,
 * EnableNodeCliInspectArguments on, EnableEmbeddedAsarIntegrityValidation off,
 * OnlyLoadAppFromAsar off, LoadBrowserProcessSpecificV8Snapshot off,
 * GrantFileProtocolExtraPrivileges on.
 */
export const ELECTRON_DEFAULT_FUSES = [ON, OFF, ON, ON, OFF, OFF, OFF, ON] as const;

/** Writes the placeholder distribution into `dir` and returns `dir`. */
export function writePlaceholderElectronDist(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'electron');
  const wire = Buffer.from([1, ELECTRON_DEFAULT_FUSES.length, ...ELECTRON_DEFAULT_FUSES]);
  const script = Buffer.from(
    '#!/bin/sh\necho "placeholder for the Electron binary: it cannot run" >&2\nexit 1\n',
  );
  writeFileSync(file, Buffer.concat([script, Buffer.from(FUSE_SENTINEL, 'latin1'), wire]));
  chmodSync(file, 0o755);
  return dir;
}

export interface PackagedApp {
  /** linux-unpacked: what the AppImage and the .deb contain. */
  appDir: string;
  /** <appDir>/resources */
  resources: string;
  /** <appDir>/cue, the placeholder binary with the fuses electron-builder set. */
  executable: string;
  /** electron-builder's merged configuration as it used it (builder-effective-config.yaml). */
  effectiveConfig: string;
}

/** Builds with electron-vite and packages with electron-builder into `work` (~40 s on 2 cores). */
export function assemblePackagedApp(work: string): PackagedApp {
  const project = join(work, 'project');
  const output = join(work, 'dist');
  mkdirSync(project, { recursive: true });
  const electronVite = join(
    dirname(require.resolve('electron-vite/package.json')),
    'bin',
    'electron-vite.js',
  );
  execFileSync(
    process.execPath,
    [electronVite, 'build', '--outDir', join(project, 'out'), '--logLevel', 'error'],
    { cwd: root, stdio: 'pipe', timeout: 90_000 },
  );
  copyFileSync(join(root, 'package.json'), join(project, 'package.json'));
  copyFileSync(join(root, 'electron-builder.yml'), join(project, 'electron-builder.yml'));
  for (const entry of ['node_modules', 'resources', 'build']) {
    symlinkSync(join(root, entry), join(project, entry), 'junction');
  }
  const electronDist = writePlaceholderElectronDist(join(work, 'electron-dist'));
  const cli = join(dirname(require.resolve('electron-builder/package.json')), 'cli.js');
  execFileSync(
    process.execPath,
    [
      cli,
      '--linux',
      'dir',
      '--x64',
      '--publish',
      'never',
      '--projectDir',
      project,
      `-c.electronDist=${electronDist}`,
      `-c.directories.output=${output}`,
    ],
    { cwd: project, stdio: 'pipe', timeout: 240_000, env: { ...process.env, CI: 'true' } },
  );
  const appDir = join(output, 'linux-unpacked');
  return {
    appDir,
    resources: join(appDir, 'resources'),
    executable: join(appDir, 'cue'),
    effectiveConfig: join(output, 'builder-effective-config.yaml'),
  };
}
