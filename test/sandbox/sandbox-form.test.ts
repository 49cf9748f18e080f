// The request form from the sandbox terminal: `npm run sandbox` as a child process fed a script — `form` as a person
// walks the form's fields as prompts (a role found by typing part of its name, a duration from the ones the policy
// allows, a reason), submits it, and the request is filed and announced as `/qlik grant` files it; a wrong answer
// stops the script like any failing step.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/redis.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function runSandbox(script: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['src/sandbox/sandbox.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('exit', (code) => resolve({ code, out }));
    child.stdin.end(script);
  });
}

describe('the sandbox terminal walks the request form', () => {
  it('opens it as a person, asks each field, submits it and shows the request filed', async () => {
    // As frank: for me (empty), tenant roles (empty), TenantAdmin found by typing, 2nd duration, a reason.
    const { code, out } = await runSandbox(
      ['as frank', 'form', '', '', 'TenantAd', '2', 'incident 42', 'wait waiting for approval'].join('\n'),
    );
    expect(code, out).toBe(0);
    expect(out).toContain('(the request form opened');
    expect(out).toContain('frank form> Role (type part of the name, empty for all): TenantAd');
    expect(out).toContain('→ TenantAdmin');
    // TenantAdmin: at most 4 hours in the sandbox's policy, so only durations up to that are offered.
    expect(out).toMatch(
      /For how long\? 1\. 15 minutes {2}2\. 1 hour {2}3\. 4 hours \(empty: the default\): 2/,
    );
    expect(out).toContain('Reason (required): incident 42');
    expect(out).toContain('The form now shows:');
    expect(out).toMatch(/Grant TenantAdmin: request R-[2-9A-HJKMNP-Z]+/);
    expect(out).toMatch(/Grant for 1 hour/);
  }, 90_000);

  it('stops a script at an answer the form does not offer', async () => {
    const { code, out } = await runSandbox(['form', '', '9'].join('\n'));
    expect(code).toBe(1);
    expect(out).toContain('! Pick one of 1. Qlik tenant role');
    expect(out).toContain('! the script stops here');
  }, 90_000);
});
