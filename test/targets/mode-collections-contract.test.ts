// The AccessTarget contract run against Mode collections over the Mode simulator (through the real client and
// people cache). A collection keeps one action per accessor, so the cases that hold two at once are skipped.
import { afterAll } from 'vitest';
import { ModeClient, ModePeople } from '../../src/mode/index.ts';
import { ModeWorkspace, startModeSimulator } from '../../src/sandbox/mode-sim/index.ts';
import { type ModeCollectionsApi, ModeCollectionsTarget } from '../../src/targets/mode-collections/target.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';
import { accessTargetContract } from './contract.ts';

const redis = testRedis();
const prefix = uniquePrefix('mode-coll-contract');
afterAll(async () => {
  await dropPrefix(redis, prefix);
  await redis.quit();
});

accessTargetContract(
  'mode-collections',
  async () => {
    const ws = new ModeWorkspace({ username: 'acme', seed: 9 });
    const c = ws.addCollection({ name: 'Contract Collection' }).token;
    const sim = await startModeSimulator({ workspace: ws });
    const mode = new ModeClient({
      baseUrl: sim.url,
      workspace: 'acme',
      token: sim.token,
      secret: sim.secret,
      maxAttempts: 1,
    });
    const people = new ModePeople({ redis, prefix, client: mode, missRefreshMs: 0 });
    let undo = false;
    const api: ModeCollectionsApi = {
      groups: () => mode.groups(),
      group: (g) => mode.group(g),
      groupMemberships: (g) => mode.groupMemberships(g),
      collections: () => mode.collections(),
      collection: (s) => mode.collection(s),
      permissions: (s) => mode.permissions(s),
      async createPermission(s, p) {
        const out = await mode.createPermission(s, p);
        if (undo) {
          undo = false;
          ws.deletePermission(s, out.token);
        }
        return out;
      },
      updatePermission: (s, p, a) => mode.updatePermission(s, p, a),
      deletePermission: (s, p) => mode.deletePermission(s, p),
    };
    let n = 0;
    const ghost = ws.addMember({ username: 'ghost', name: 'Gone Soon', email: 'gone.soon@corp.example' });
    ws.setMemberState(ghost.memberToken, 'deactivated');
    const resource = { kind: 'collection', name: 'contract COLLECTION' };
    return {
      target: new ModeCollectionsTarget({ instance: 'default', mode: api, people, cacheTtlMs: 0 }),
      async addUser() {
        const i = ++n;
        ws.addMember({ username: `c${i}`, name: `Contract User ${i}`, email: `contract.${i}@corp.example` });
        return `contract.${i}@corp.example`;
      },
      async addGroup() {
        const name = `Contract Group ${++n}`;
        ws.addGroup({ name });
        return name;
      },
      grantable: [
        { name: 'VIEW', resource },
        { name: 'Edit', resource },
      ],
      typo: { query: { name: 'veiw', resource }, suggests: 'view' },
      ghost: { kind: 'user', id: ghost.memberToken, name: 'Gone Soon', email: 'gone.soon@corp.example' },
      undoNextWrite() {
        undo = true;
      },
      rateLimitNextWrite() {
        sim.injectFault({ method: 'POST', path: /\/permissions$/, status: 429 });
      },
      forbidNextWrite() {
        sim.injectFault({ method: 'POST', path: /\/permissions$/, status: 403 });
      },
      async close() {
        void c;
        await mode.close();
        await sim.close();
      },
    };
  },
  { exclusive: true },
);
