// The AccessTarget contract for Qlik tenant roles, against the Qlik simulator over HTTP through the real client.
import { QlikClient } from '../../../src/qlik/index.ts';
import { startQlikSimulator } from '../../../src/sandbox/qlik-sim/index.ts';
import { type QlikRolesApi, QlikRolesTarget } from '../../../src/targets/qlik-roles/target.ts';
import { accessTargetContract } from '../contract.ts';

accessTargetContract(
  'qlik-roles',
  async () => {
    const sim = await startQlikSimulator({});
    // No client retries: a 429 must reach the target's classification instead of being waited out.
    const client = new QlikClient({
      tenantUrl: sim.url,
      apiKey: sim.apiKey,
      readsPerMinute: 600_000,
      writesPerMinute: 600_000,
      maxRetries: 0,
    });
    let undo = false;
    // The real client, except that a write may be undone by "another admin" before the read-back.
    const qlik: QlikRolesApi = {
      findUsersByEmail: (email) => client.findUsersByEmail(email),
      findGroupByName: (name) => client.findGroupByName(name),
      getUser: (id) => client.getUser(id),
      getGroup: (id) => client.getGroup(id),
      async replaceUserRoles(id, roleIds) {
        const before = sim.tenant.userRoleNames(id);
        await client.replaceUserRoles(id, roleIds);
        if (undo) {
          undo = false;
          sim.tenant.setUserRoles(id, before);
        }
      },
      replaceGroupRoles: (id, roleIds) => client.replaceGroupRoles(id, roleIds),
      findRole: (name) => client.findRole(name),
      listRoles: (opts) => client.listRoles(opts),
      usersWithRolePage: (name) => client.usersWithRolePage(name),
      usersWithRoleAll: (name, start) => client.usersWithRoleAll(name, start),
      usersWithRoleThroughGroupsPage: (name) => client.usersWithRoleThroughGroupsPage(name),
      groupsWithRolePage: (name) => client.groupsWithRolePage(name),
    };
    let n = 0;
    const ghost = sim.tenant.addUser({ name: 'Gone Soon', email: 'gone.soon@corp.example' });
    sim.tenant.deleteUser(ghost.id);
    return {
      target: new QlikRolesTarget({ instance: 'default', qlik }),
      async addUser() {
        const u = sim.tenant.addUser({ name: `Contract User ${++n}`, email: `contract.${n}@corp.example` });
        return u.email!;
      },
      async addGroup() {
        return sim.tenant.addGroup({ name: `Contract Group ${++n}` }).name;
      },
      grantable: [{ name: 'sharedspacecreator' }, { name: 'DATASPACECREATOR' }],
      typo: { query: { name: 'SharedSpaceCreater' }, suggests: 'SharedSpaceCreator' },
      ghost: { kind: 'user', id: ghost.id, name: ghost.name, email: 'gone.soon@corp.example' },
      undoNextWrite() {
        undo = true;
      },
      rateLimitNextWrite() {
        sim.injectFault({ method: 'PATCH', status: 429, retryAfterSec: 1 });
      },
      forbidNextWrite() {
        sim.injectFault({ method: 'PATCH', status: 403 });
      },
      async close() {
        await client.close();
        await sim.close();
      },
    };
  },
  { batches: true },
);
