// The packed tarball, installed into a scratch project as `@payloops/sdk`, through `import` and `require`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let project;

function tarball() {
  if (process.env.PAYLOOPS_SDK_TARBALL) return process.env.PAYLOOPS_SDK_TARBALL;
  const into = mkdtempSync(path.join(tmpdir(), 'payloops-sdk-pack-'));
  execFileSync(npm, ['pack', '--silent', '--pack-destination', into], { cwd: root, timeout: 120_000 });
  return path.join(into, readdirSync(into).find((name) => name.endsWith('.tgz')));
}

before(() => {
  project = mkdtempSync(path.join(tmpdir(), 'payloops-sdk-consumer-'));
  writeFileSync(path.join(project, 'package.json'), '{"name":"consumer","private":true}\n');
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball()], {
    cwd: project,
    timeout: 120_000,
  });
});

after(() => rmSync(project, { recursive: true, force: true }));

function run(file, source) {
  writeFileSync(path.join(project, file), source);
  return execFileSync(process.execPath, [file], { cwd: project, env: process.env, timeout: 120_000 }).toString();
}

const SNIPPET = `
const client = new PayLoops(process.env.PAYLOOPS_API_KEY);
const order = await client.orders.create({ amount: 1999, currency: 'USD', customerEmail: 'customer@example.com' });
const result = await client.orders.pay(order.id, { paymentMethod: { type: 'card', token: 'pm_card_visa' } });
console.log(JSON.stringify({ id: order.id, paid: result.id, status: result.status }));
`;

function assertPaid(output) {
  const answer = JSON.parse(output);
  assert.match(answer.id, /^ord_/);
  assert.equal(answer.paid, answer.id);
  assert.equal(answer.status, 'SUCCEEDED');
}

test('import from the installed package runs the snippet', () => {
  assertPaid(run('snippet.mjs', `import PayLoops from '@payloops/sdk';\n${SNIPPET}`));
});

test('require of the installed package runs the snippet', () => {
  const source = `const { PayLoops, InvalidRequestError } = require('@payloops/sdk');
if (require('@payloops/sdk').default !== PayLoops || typeof InvalidRequestError !== 'function') process.exit(3);
(async () => {${SNIPPET}})().catch((error) => { console.error(error); process.exit(1); });`;
  assertPaid(run('snippet.cjs', source));
});
