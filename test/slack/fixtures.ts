// The request the Slack view and word tests render: one builder, each test file overriding what it is about.
import type { RoleChangeRequest } from '../../src/domain/request.ts';

export const T0 = Date.UTC(2024, 4, 1, 12, 0);
export const H = 3_600_000;

/** A pending 4-hour grant of TenantAdmin to Alice, filed by Bob, needing 2 approvals; `over` replaces fields. */
export function viewRequest(over: Partial<RoleChangeRequest> = {}): RoleChangeRequest {
  return {
    id: 'R-7KQ2',
    action: 'grant',
    target: {
      kind: 'user',
      id: 'q-alice',
      name: 'Alice',
      email: 'alice@corp.com',
      person: { front: 'slack', id: 'U0ALICE' },
    },
    entitlement: { id: 'role-ta', name: 'TenantAdmin' },
    requester: { front: 'slack', id: 'U0BOB' },
    reason: 'incident 4711',
    durationMs: 4 * H,
    state: 'pending',
    createdAt: T0,
    updatedAt: T0,
    expiresAt: T0 + 24 * H,
    approvalsRequired: 2,
    approvals: [],
    ...over,
  };
}
