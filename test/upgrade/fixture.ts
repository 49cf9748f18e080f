// The shape of an upgrade fixture (fixtures/<name>.json: v<version>, or a commit such as a12d65d) and of its manifest
// (fixtures/<name>.manifest.json), as scripts/capture-upgrade-fixture*.ts write them and test/upgrade/upgrade.test.ts
// reads them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeySnapshot } from './redis-snapshot.ts';
import { FIXTURE_DIR, type SlackMessageDump } from './world.ts';

export interface UpgradeFixture {
  /** The version of the bot that wrote the records. */
  version: string;
  note: string;
  /** The generator's fake clock: where it started, and its time when the last record was written. */
  clock: { start: number; capturedAt: number };
  /** Qlik keeps its state across an upgrade: the demo tenant with these users' direct roles (by user id). */
  qlik: { tenant: 'demo'; users: { id: string; email: string; roles: string[] }[] };
  /** Slack keeps its messages across an upgrade: the ones the requests' message refs point at. */
  slack: { messages: SlackMessageDump[] };
  /** Every key under the old QUEUE_PREFIX. */
  keys: KeySnapshot[];
}

/** A BullMQ job the old version queued, by queue name and job id. */
export interface QueuedJob {
  queue: string;
  id: string;
}

/** How the test moves a request on after the upgrade. */
export type NextStep =
  /** Approvers press Approve on its approval message. */
  | { kind: 'approve'; by: string[] }
  /** Its jobs are queued already (waiting or delayed): the new worker runs them to completion. */
  | { kind: 'run'; jobs: QueuedJob[] }
  /** The reconciler expires it once its TTL has passed. */
  | { kind: 'expire' }
  /** Its delayed revoke job (queued by the old version) ends it once its time has come. */
  | { kind: 'revoke-due'; jobs: QueuedJob[] }
  /** Finished: nothing may change. */
  | { kind: 'none' };

export interface UpgradeManifest {
  version: string;
  capturedAt: number;
  requests: {
    id: string;
    label: string;
    /** Its state, and approvals, at capture. */
    state: string;
    approvals: number;
    approvalsRequired: number;
    next: NextStep;
    endsAs: string;
    /** What Qlik must show at the end. */
    qlik?: { email: string; role: string; holds: boolean };
  }[];
}

/** Reads fixtures/<name>.json and its manifest, e.g. `v0.1.0` or `a12d65d`. */
export function readFixture(name: string): { fixture: UpgradeFixture; manifest: UpgradeManifest } {
  const read = (name: string) => JSON.parse(readFileSync(join(FIXTURE_DIR, name), 'utf8')) as unknown;
  return {
    fixture: read(`${name}.json`) as UpgradeFixture,
    manifest: read(`${name}.manifest.json`) as UpgradeManifest,
  };
}
