// The registry finds a target by (kind, instance), so several tenants are configuration; lock keys never meet
// across instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TARGET, targetOf } from '../../src/domain/request.ts';
import { QlikClient } from '../../src/qlik/index.ts';
import { type QlikSimulator, startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import { QlikRolesTarget } from '../../src/targets/qlik-roles/target.ts';
import { changeLockKey, TargetRegistry, UnknownTargetError } from '../../src/targets/registry.ts';
import type { AccessChange } from '../../src/targets/types.ts';

let sim: QlikSimulator;
let qlik: QlikClient;
beforeAll(async () => {
  sim = await startQlikSimulator({});
  qlik = new QlikClient({ tenantUrl: sim.url, apiKey: sim.apiKey });
});
afterAll(async () => {
  await qlik?.close();
  await sim?.close();
});

const change: AccessChange = {
  action: 'grant',
  principal: { kind: 'user', id: 'u-1', name: 'Ann' },
  entitlement: { id: 'r-1', name: 'SharedSpaceCreator' },
};

describe('TargetRegistry', () => {
  it('finds each configured instance by kind and instance', () => {
    const main = new QlikRolesTarget({ instance: 'default', qlik });
    const eu = new QlikRolesTarget({ instance: 'eu', qlik });
    const targets = new TargetRegistry([main, eu]);
    expect(targets.get({ kind: 'qlik-roles', instance: 'default' })).toBe(main);
    expect(targets.get({ kind: 'qlik-roles', instance: 'eu' })).toBe(eu);
    expect(targets.list()).toEqual([main, eu]);
  });

  it('a request that records no target gets the default tenant', () => {
    const main = new QlikRolesTarget({ instance: 'default', qlik });
    expect(new TargetRegistry([main]).get(targetOf({}))).toBe(main);
    expect(targetOf({})).toEqual(DEFAULT_TARGET);
  });

  it('with named tenants (QLIK_TENANTS), the first is the default: a request naming `default` gets it', () => {
    const prod = new QlikRolesTarget({ instance: 'prod', qlik });
    const dev = new QlikRolesTarget({ instance: 'dev', qlik });
    const targets = new TargetRegistry([prod, dev]);
    expect(targets.get(targetOf({}))).toBe(prod);
    expect(targets.get({ kind: 'qlik-roles', instance: 'default' })).toBe(prod);
    expect(targets.get({ kind: 'qlik-roles', instance: 'dev' })).toBe(dev);
    expect(targets.defaultOf('qlik-roles')).toBe(prod);
    // The lock is the target's own instance, so `default` and `prod` requests on one principal share one lock.
    const viaDefault = targets.get({ kind: 'qlik-roles', instance: 'default' });
    expect(changeLockKey(viaDefault, change)).toBe(changeLockKey(prod, change));
    expect(changeLockKey(prod, change)).toBe('qlik-roles:prod:user:u-1');
    expect(changeLockKey(dev, change)).toBe('qlik-roles:dev:user:u-1');
    // Only `default` is an alias: another kind has no default of this one's.
    expect(() => targets.get({ kind: 'mode-groups', instance: 'default' })).toThrow(UnknownTargetError);
  });

  it('says which target is not configured', () => {
    const targets = new TargetRegistry([new QlikRolesTarget({ instance: 'default', qlik })]);
    expect(() => targets.get({ kind: 'qlik-roles', instance: 'us' })).toThrow(UnknownTargetError);
    expect(() => targets.get({ kind: 'mode-groups', instance: 'default' })).toThrow(
      /mode-groups on "default"/,
    );
  });

  it('refuses two targets configured as the same instance', () => {
    expect(
      () =>
        new TargetRegistry([
          new QlikRolesTarget({ instance: 'eu', qlik }),
          new QlikRolesTarget({ instance: 'eu', qlik }),
        ]),
    ).toThrow(/Two targets/);
  });
});

describe('changeLockKey', () => {
  it("names the target's kind and instance, so the same principal id on two tenants is two locks", () => {
    const main = new QlikRolesTarget({ instance: 'default', qlik });
    const eu = new QlikRolesTarget({ instance: 'eu', qlik });
    expect(changeLockKey(main, change)).toBe('qlik-roles:default:user:u-1');
    expect(changeLockKey(eu, change)).toBe('qlik-roles:eu:user:u-1');
  });
});
