/**
 * Runs before `npm test` (and so before `npm run check`): makes sure the e2e tests have a
 * Chromium-based browser. Found: done. Missing on Debian as root: `apt-get install chromium`.
 * Otherwise it stops with a message naming what to install (scripts/chromium.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findChromium, provisionStep } from './chromium';

const hasApt = existsSync('/usr/bin/apt-get') && existsSync('/etc/debian_version');
const isRoot = process.getuid?.() === 0;

let aptTried = false;
for (;;) {
  const step = provisionStep({
    found: findChromium(),
    platform: process.platform,
    env: process.env,
    isRoot,
    hasApt,
    aptTried,
  });
  if (step.kind === 'ready') {
    console.log(`e2e browser: ${step.path}`);
    break;
  }
  if (step.kind === 'explain') {
    console.error(step.message);
    process.exit(1);
  }
  aptTried = true;
  console.log('No Chromium found: installing Debian’s chromium with apt-get (running as root)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], {
      stdio: 'inherit',
      env,
    });
  } catch (error) {
    console.error(`apt-get failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
