// The request form's app side: the kinds it offers come from the configured targets; the durations and reason of a
// role from the policy; and suggestions from a cache that always answers within its budget — fresh, stale when the
// system is too slow to read again, or "loading" when nothing is cached — and fills itself in the background.
import { describe, expect, it } from 'vitest';
import { FormOptionsCache, formRule } from '../../../src/app/queries/options.ts';
import { parsePolicy } from '../../../src/domain/policy.ts';
import { H, useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'form-options', spaces: true, extraTenants: ['dev'] });

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const entry = (labels: string[]) => ({
  options: labels.map((l) => ({ label: l, value: l })),
  complete: true,
});

describe('formKinds', () => {
  it('offers one kind per configured target, naming the instance where a kind has several', () => {
    const kinds = h.app.formKinds();
    expect(kinds.map((k) => k.key)).toEqual(['qlik-roles:default', 'qlik-roles:dev', 'qlik-spaces:default']);
    expect(kinds.find((k) => k.key === 'qlik-roles:dev')).toMatchObject({ several: true, system: 'Qlik' });
    expect(kinds.find((k) => k.key === 'qlik-spaces:default')).toMatchObject({
      several: false,
      resourceKind: 'space',
    });
  });
});

describe('formRule', () => {
  it("offers the durations within the role's minimum and cap, the cap itself included", () => {
    h.policyText = `
approvalChannel: C0APPROVALS
approvers: [U0ALICE]
roles:
  TenantAdmin: { reasonRequired: true, maxDuration: 6h }
  Steward: { durationRequired: true, minDuration: 1h }
  Tiny: { minDuration: 1m, maxDuration: 2m }
`;
    const tenantAdmin = h.app.formRule('qlik-roles:default', 'tenantadmin');
    expect(tenantAdmin).toEqual({
      durationsMs: [15 * 60_000, H, 4 * H, 6 * H],
      permanent: false,
      required: false,
      reasonRequired: true,
      maxMs: 6 * H,
    });
    const steward = h.app.formRule('qlik-roles:default', 'Steward');
    expect(steward?.durationsMs[0]).toBe(H);
    expect(steward).toMatchObject({ permanent: false, required: true, reasonRequired: false });
    // No standard duration fits between 1 and 2 minutes: the cap is still a choice.
    expect(h.app.formRule('qlik-roles:default', 'Tiny')?.durationsMs).toEqual([2 * 60_000]);
    // Any other role follows the defaults: permanent allowed.
    expect(h.app.formRule('qlik-roles:default', 'Other')).toMatchObject({ permanent: true, required: false });
    expect(h.app.formRule('no-such:kind')).toBeUndefined();
  });

  it("reads a space role's rule from the space sections", () => {
    const policy = parsePolicy(`
approvalChannel: C0APPROVALS
approvers: [U0ALICE]
spaces:
  Finance Reports:
    roles:
      producer: { maxDuration: 1h, reasonRequired: true }
`);
    const kind = h.app.formKinds().find((k) => k.key === 'qlik-spaces:default')!;
    expect(formRule(kind, policy, 'producer', 'Finance Reports')).toMatchObject({
      durationsMs: [15 * 60_000, H],
      reasonRequired: true,
    });
    expect(formRule(kind, policy, 'producer', 'Elsewhere')).toMatchObject({ reasonRequired: false });
  });
});

describe('formOptions', () => {
  it('suggests the roles matching the text, prefix first, without the ones the policy keeps from Slack', async () => {
    const all = await h.app.formOptions({ kindKey: 'qlik-roles:default', field: 'entitlement', text: '' });
    if (!all.ok) throw new Error(JSON.stringify(all));
    const names = all.options.map((o) => o.value);
    expect(names).toContain('TenantAdmin');
    expect(names).not.toContain('AuditAdmin'); // requestable: false in BASE_POLICY
    const admin = await h.app.formOptions({
      kindKey: 'qlik-roles:default',
      field: 'entitlement',
      text: 'admin',
    });
    if (!admin.ok) throw new Error(JSON.stringify(admin));
    expect(admin.options.length).toBeGreaterThan(1);
    const labels = admin.options.map((o) => o.label.toLowerCase());
    expect(labels.every((l) => l.includes('admin'))).toBe(true);
    // Names starting with the text come before names that only contain it.
    const firstContains = labels.findIndex((l) => !l.startsWith('admin'));
    expect(labels.slice(firstContains).every((l) => !l.startsWith('admin'))).toBe(true);
  });

  it("suggests spaces by name, and refuses a kind that isn't configured", async () => {
    const spaces = await h.app.formOptions({
      kindKey: 'qlik-spaces:default',
      field: 'resource',
      text: 'finance',
    });
    if (!spaces.ok) throw new Error(JSON.stringify(spaces));
    expect(spaces.options.map((o) => o.value)).toEqual(
      expect.arrayContaining(['Finance Reports', 'Finance Reports Archive']),
    );
    expect(
      await h.app.formOptions({ kindKey: 'mode-groups:default', field: 'entitlement', text: '' }),
    ).toEqual({
      ok: false,
      code: 'unknown-kind',
    });
  });
});

describe('FormOptionsCache', () => {
  it('answers within its budget when the read is slow, then from what the read filled in', async () => {
    const cache = new FormOptionsCache({ ttlMs: 60_000, budgetMs: 30 });
    const read = deferred<ReturnType<typeof entry>>();
    let reads = 0;
    const slow = () => {
      reads++;
      return read.promise;
    };
    const first = await cache.get('k', 0, slow, () => 0);
    expect(first).toEqual({ stale: false });
    // A second keystroke while the read is under way joins it rather than asking the system again.
    const second = cache.get('k', 0, slow, () => 0);
    read.resolve(entry(['Steward']));
    expect((await second).entry?.options.map((o) => o.value)).toEqual(['Steward']);
    expect(reads).toBe(1);
    const third = await cache.get('k', 10_000, slow, () => 10_000);
    expect(third.entry?.options.map((o) => o.value)).toEqual(['Steward']);
    expect(reads).toBe(1);
  });

  it('reads again after its lifetime, answering with the old list when the new read is too slow or fails', async () => {
    const cache = new FormOptionsCache({ ttlMs: 1_000, budgetMs: 20 });
    await cache.get(
      'k',
      0,
      async () => entry(['Old']),
      () => 0,
    );
    const never = new Promise<ReturnType<typeof entry>>(() => {});
    const slow = await cache.get(
      'k',
      5_000,
      () => never,
      () => 5_000,
    );
    expect(slow.stale).toBe(true);
    expect(slow.entry?.options.map((o) => o.value)).toEqual(['Old']);

    const other = new FormOptionsCache({ ttlMs: 1_000, budgetMs: 1_000 });
    await other.get(
      'k',
      0,
      async () => entry(['Old']),
      () => 0,
    );
    const failed = await other.get(
      'k',
      5_000,
      async () => {
        throw new Error('Qlik said 503');
      },
      () => 5_000,
    );
    expect(failed.stale).toBe(true);
    expect(failed.entry?.options.map((o) => o.value)).toEqual(['Old']);
    const cold = await new FormOptionsCache().get(
      'k',
      0,
      async () => {
        throw new Error('Qlik said 503');
      },
      () => 0,
    );
    expect(cold.entry).toBeUndefined();
    expect((cold.error as Error).message).toBe('Qlik said 503');
  });
});

describe('formOptions under a slow Qlik', () => {
  it('reads a list through a slow Qlik within the budget, and answers the next keystroke from the cache', async () => {
    h.sim.setLatency(400);
    try {
      const app = h.appWith({});
      // Each app has its own cache: nothing is cached for this one yet.
      const started = Date.now();
      const cold = await app.formOptions({
        kindKey: 'qlik-spaces:default',
        field: 'resource',
        text: 'sales',
      });
      // The default budget is 2 s; the read takes 400 ms per request here, so it lands within it.
      expect(Date.now() - started).toBeLessThan(2_500);
      if (!cold.ok) throw new Error(JSON.stringify(cold));
      expect(cold.loading).toBe(false);
      const warm = Date.now();
      const again = await app.formOptions({
        kindKey: 'qlik-spaces:default',
        field: 'resource',
        text: 'sales',
      });
      expect(Date.now() - warm).toBeLessThan(200);
      expect(again).toEqual(cold);
    } finally {
      h.sim.setLatency(0);
    }
  });
});
