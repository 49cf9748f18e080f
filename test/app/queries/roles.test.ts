// roles, driven directly: the tenant's roles as the tenant-roles target lists them.
import { describe, expect, it } from 'vitest';
import { rolesMessage } from '../../../src/slack/views.ts';
import { useAppHarness } from '../harness.ts';

const h = useAppHarness({ label: 'app-roles' });

describe('roles', () => {
  it('lists every role of the tenant with its type, level and description as Qlik has them', async () => {
    const res = await h.app.listRoles();
    if (!res.ok) throw new Error(`refused: ${JSON.stringify(res)}`);
    const names = res.roles.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['Steward', 'TenantAdmin', 'SharedSpaceCreator']));
    expect(res.roles.find((r) => r.name === 'TenantAdmin')).toEqual({
      name: 'TenantAdmin',
      type: 'default',
      level: 'admin',
      description: 'Full administration of the tenant.',
    });
    expect(JSON.stringify(rolesMessage(res.roles).blocks)).toContain('*TenantAdmin*');
  });

  it('refuses a tenant that is not configured, naming the one that is', async () => {
    expect(await h.app.listRoles({ instance: 'dev' })).toEqual({
      ok: false,
      code: 'unknown-instance',
      instance: 'dev',
      system: 'Qlik',
      noun: 'tenant',
      configured: ['default'],
    });
  });
});
