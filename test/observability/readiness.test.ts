// Readiness over several Qlik tenants: ready when every tenant's credential is; with one tenant its reason word for
// word, with several each failing tenant named.
import { describe, expect, it } from 'vitest';
import { type ReadinessResult, tenantsReadiness } from '../../src/observability/http.ts';

const ok = (): ReadinessResult => ({ ok: true });
const failing = (reason: string) => (): ReadinessResult => ({ ok: false, reason });

describe('tenantsReadiness', () => {
  it('one tenant: its own answer, as it always was', () => {
    expect(tenantsReadiness([{ name: 'default', state: failing('the Qlik API key was refused') }])()).toEqual(
      {
        ok: false,
        reason: 'the Qlik API key was refused',
      },
    );
    expect(tenantsReadiness([{ name: 'default', state: ok }])()).toEqual({ ok: true });
  });

  it('several tenants: ready only when all are, naming every one that is not', () => {
    const tenants = [
      { name: 'prod', state: ok },
      { name: 'dev', state: failing('the Qlik API key was refused') },
      { name: 'qa', state: failing('the Qlik credential has not been verified yet') },
    ];
    expect(tenantsReadiness(tenants)()).toEqual({
      ok: false,
      reason:
        'tenant dev: the Qlik API key was refused; tenant qa: the Qlik credential has not been verified yet',
    });
    expect(tenantsReadiness([tenants[0]!, { name: 'dev', state: ok }])()).toEqual({ ok: true });
  });

  it('reads each state when asked, so a key verified later makes it ready', () => {
    let devState: ReadinessResult = { ok: false, reason: 'not yet' };
    const ready = tenantsReadiness([
      { name: 'prod', state: ok },
      { name: 'dev', state: () => devState },
    ]);
    expect(ready().ok).toBe(false);
    devState = { ok: true };
    expect(ready().ok).toBe(true);
  });
});
