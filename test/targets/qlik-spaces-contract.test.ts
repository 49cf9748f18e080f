// The AccessTarget contract for Qlik space roles, against the Qlik simulator over HTTP through the real client: every
// entitlement the suite asks for is a role in one seeded managed space, named in another case than Qlik's.
import { QlikClient } from '../../src/qlik/index.ts';
import { startQlikSimulator } from '../../src/sandbox/qlik-sim/index.ts';
import { type QlikSpacesApi, QlikSpacesTarget } from '../../src/targets/qlik-spaces/target.ts';
import { accessTargetContract } from './contract.ts';

accessTargetContract(
  'qlik-spaces',
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
    const owner = sim.tenant.addUser({ name: 'Space Owner', email: 'contract.owner@corp.example' });
    const space = sim.tenant.addSpace({ name: 'Contract Space', type: 'managed', ownerId: owner.id });
    let undo = false;
    /** After the write, "another admin" puts the assignee's roles back as they were, before the read-back. */
    const undoing = async <T>(assigneeId: string, write: () => Promise<T>): Promise<T> => {
      const before = sim.tenant.spaceRolesOf(space.id, assigneeId);
      const out = await write();
      if (undo) {
        undo = false;
        sim.tenant.setSpaceRoles(space.id, assigneeId, before);
      }
      return out;
    };
    const qlik: QlikSpacesApi = {
      findUsersByEmail: (email) => client.findUsersByEmail(email),
      findGroupByName: (name) => client.findGroupByName(name),
      getUser: (id) => client.getUser(id),
      getGroup: (id) => client.getGroup(id),
      usersByIds: (ids) => client.usersByIds(ids),
      groupsByIds: (ids) => client.groupsByIds(ids),
      usersInGroup: (id) => client.usersInGroup(id),
      listSpaces: (opts) => client.listSpaces(opts),
      allSpaces: (opts) => client.allSpaces(opts),
      getSpace: (id) => client.getSpace(id),
      listSpaceAssignments: (id, filter) => client.listSpaceAssignments(id, filter),
      spaceAssignmentsPage: (id, filter) => client.spaceAssignmentsPage(id, filter),
      findSpaceAssignment: (id, assigneeId) => client.findSpaceAssignment(id, assigneeId),
      createSpaceAssignment: (id, input) =>
        undoing(input.assigneeId, () => client.createSpaceAssignment(id, input)),
      async updateSpaceAssignment(id, assignmentId, roles) {
        const a = sim.tenant.spaceAssignments(id).find((x) => x.id === assignmentId);
        return undoing(a?.assigneeId ?? '', () => client.updateSpaceAssignment(id, assignmentId, roles));
      },
      deleteSpaceAssignment: (id, assignmentId) => client.deleteSpaceAssignment(id, assignmentId),
    };
    let n = 0;
    const ghost = sim.tenant.addUser({ name: 'Gone Soon', email: 'gone.soon@corp.example' });
    sim.tenant.deleteUser(ghost.id);
    const resource = { kind: 'space', name: 'contract SPACE' };
    return {
      target: new QlikSpacesTarget({ instance: 'default', qlik }),
      async addUser() {
        const u = sim.tenant.addUser({ name: `Contract User ${++n}`, email: `contract.${n}@corp.example` });
        return u.email!;
      },
      async addGroup() {
        return sim.tenant.addGroup({ name: `Contract Group ${++n}` }).name;
      },
      grantable: [
        { name: 'CONSUMER', resource },
        { name: 'Publisher', resource },
      ],
      typo: { query: { name: 'Can veiw', resource }, suggests: 'Can view' },
      ghost: { kind: 'user', id: ghost.id, name: ghost.name, email: 'gone.soon@corp.example' },
      undoNextWrite() {
        undo = true;
      },
      rateLimitNextWrite() {
        sim.injectFault({ method: 'POST', path: /\/assignments$/, status: 429, retryAfterSec: 1 });
      },
      forbidNextWrite() {
        sim.injectFault({ method: 'POST', path: /\/assignments$/, status: 403 });
      },
      async close() {
        await client.close();
        await sim.close();
      },
    };
  },
  { batches: true },
);
