/**
 * The generator's two small C helpers (espeak-words.c, flite-words.c), compiled with gcc on first
 * use into a cache folder under the system's temp folder, keyed by a hash of the source and how
 * it is built, so a changed helper is rebuilt and an unchanged one is not.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HelperSource {
  /** The C file, next to this module. */
  file: string;
  /** A header the helper includes and the Debian package that provides it. */
  header: { path: string; aptPackage: string };
  libraries: string[];
}

export const ESPEAK_HELPER: HelperSource = {
  file: 'espeak-words.c',
  header: { path: 'espeak-ng/speak_lib.h', aptPackage: 'libespeak-ng-dev' },
  libraries: ['espeak-ng'],
};

export const FLITE_HELPER: HelperSource = {
  file: 'flite-words.c',
  header: { path: 'flite/flite.h', aptPackage: 'flite1-dev' },
  libraries: [
    'flite_cmu_us_slt',
    'flite_cmu_us_rms',
    'flite_cmu_us_awb',
    'flite_cmu_us_kal16',
    'flite_usenglish',
    'flite_cmulex',
    'flite',
    'm',
  ],
};

/** Path of the helper's executable, compiling it first if this source has not been built yet. */
export function helperExecutable(helper: HelperSource): string {
  const source = readFileSync(join(import.meta.dirname, helper.file));
  const args = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror'];
  const hash = createHash('sha256')
    .update(source)
    .update(JSON.stringify([args, helper.header, helper.libraries]))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), 'cue-corpus-gen');
  const executable = join(dir, `${helper.file.replace(/\.c$/, '')}-${hash}`);
  if (!existsSync(executable)) {
    requireBuildTools(helper);
    mkdirSync(dir, { recursive: true });
    // Build under a private name, then rename: parallel test workers never run a half-written file.
    const partial = `${executable}.${process.pid}.partial`;
    const gcc = spawnSync(
      'gcc',
      [...args, '-x', 'c', '-', '-o', partial, ...helper.libraries.map((lib) => `-l${lib}`)],
      { input: source, encoding: 'utf8' },
    );
    if (gcc.status !== 0) throw new Error(`gcc could not build ${helper.file}:\n${gcc.stderr}`);
    renameSync(partial, executable);
  }
  return executable;
}

/** Fails with the apt packages to install when gcc or the helper's header is missing. */
function requireBuildTools(helper: HelperSource): void {
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error || gcc.status !== 0)
    throw new Error(`gcc is needed to build ${helper.file} (apt-get install -y gcc)`);
  const header = spawnSync('gcc', ['-E', '-x', 'c', '-', '-o', '/dev/null'], {
    input: `#include <${helper.header.path}>\n`,
    encoding: 'utf8',
  });
  if (header.status !== 0) {
    throw new Error(
      `${helper.header.path} not found: ${helper.file} needs ${helper.header.aptPackage} ` +
        `(apt-get install -y ${helper.header.aptPackage})`,
    );
  }
}
