/**
 * renovate.json against package.json: Electron's security releases get their own pull request at
 * any time, every rule names a package the project really has, and every version cap admits the
 * version pinned today (a cap below it would hold the project back silently).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Rule {
  matchPackageNames?: string[];
  matchUpdateTypes?: string[];
  schedule?: string[];
  allowedVersions?: string;
  dependencyDashboardApproval?: boolean;
}

const renovate = JSON.parse(readFileSync('renovate.json', 'utf8')) as {
  rangeStrategy: string;
  packageRules: Rule[];
  vulnerabilityAlerts: { enabled: boolean };
};
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const pinned: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies };

/** a < b for dotted numeric versions ("45.6.0" < "46"). */
function below(a: string, b: string): boolean {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0;
  }
  return false;
}

describe('renovate.json', () => {
  it('pins versions and raises security alerts', () => {
    expect(renovate.rangeStrategy).toBe('pin');
    expect(renovate.vulnerabilityAlerts.enabled).toBe(true);
  });

  it("updates Electron's patch and minor releases at any time, and majors only on request", () => {
    const fast = renovate.packageRules.find(
      (rule) => rule.matchPackageNames?.includes('electron') && rule.matchUpdateTypes?.includes('patch'),
    );
    expect(fast?.schedule).toEqual(['at any time']);
    const major = renovate.packageRules.find(
      (rule) => rule.matchPackageNames?.includes('electron') && rule.matchUpdateTypes?.includes('major'),
    );
    expect(major?.dependencyDashboardApproval).toBe(true);
  });

  it('names only packages the project has, with exact versions', () => {
    for (const rule of renovate.packageRules) {
      for (const name of rule.matchPackageNames ?? []) {
        expect(pinned[name], name).toMatch(/^\d+\.\d+\.\d+$/);
      }
    }
  });

  it('caps that admit the versions pinned today', () => {
    const capped = renovate.packageRules.filter((rule) => rule.allowedVersions);
    expect(capped.length).toBeGreaterThan(0);
    for (const rule of capped) {
      const cap = /^<(\d+(?:\.\d+)*)$/.exec(rule.allowedVersions!);
      expect(cap, rule.allowedVersions).not.toBeNull();
      for (const name of rule.matchPackageNames ?? []) {
        expect(below(pinned[name]!, cap![1]!), `${name} ${pinned[name]} ${rule.allowedVersions}`).toBe(true);
      }
    }
  });
});
