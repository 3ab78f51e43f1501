// A test in another language than Go that drives `iamport fake` as any
// merchant's test suite would: start the binary, charge a billing key over
// the wire, inject a lost reply through the control API, and check the
// ledger. Node's own test runner, no npm packages.
//
//   go build -o /tmp/iamport ./cmd/iamport
//   IAMPORT_BIN=/tmp/iamport node --test cmd/iamport/testdata/fake_test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const BIN = process.env.IAMPORT_BIN;
if (!BIN) throw new Error('set IAMPORT_BIN to the built iamport binary');

let fake; // the child process
let info; // what it printed: url, api_key, api_secret, …

before(async () => {
  fake = spawn(BIN, ['fake', '--addr', '127.0.0.1:0', '--key', 'node_key', '--secret', 'node_secret', '-o', 'json'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: fake.stdout });
  info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fake did not start')), 10000);
    fake.once('exit', (code) => reject(new Error(`the fake exited with ${code}`)));
    lines.once('line', (line) => { clearTimeout(timer); resolve(JSON.parse(line)); });
  });
});

after(async () => {
  if (!fake || fake.exitCode !== null) return;
  const exited = new Promise((resolve) => fake.once('exit', (code, signal) => resolve({ code, signal })));
  fake.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 0, 'the fake stops cleanly on SIGTERM');
});

async function api(method, path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(info.url + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: await res.json() };
}

async function token() {
  const { status, body } = await api('POST', '/users/getToken', { imp_key: info.api_key, imp_secret: info.api_secret });
  assert.equal(status, 200);
  assert.equal(body.code, 0);
  const life = body.response.expired_at - body.response.now;
  assert.ok(life > 1700 && life <= 1800, `token lifetime ${life}`);
  return body.response.access_token;
}

function cli(args) {
  return new Promise((resolve) => {
    execFile(BIN, args, {
      env: { ...process.env, IAMPORT_BASE_URL: info.url, IAMPORT_API_KEY: 'node_key', IAMPORT_API_SECRET: 'node_secret' },
    }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

test('the fake prints its address and credentials', () => {
  assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(info.api_key, 'node_key');
  assert.equal(info.clock, 'wall');
  assert.ok(info.billing_keys.includes('demo_customer'));
});

test('charge a billing key, then a lost reply: the ledger has each charge once', async () => {
  await api('POST', '/__fake/reset');
  const tok = await token();

  const first = await api('POST', '/subscribe/payments/again',
    { customer_uid: 'demo_customer', merchant_uid: 'node_1', amount: 9900, name: 'Pro 플랜' }, tok);
  assert.equal(first.status, 200);
  assert.equal(first.body.code, 0, 'a charge answers code 0');
  assert.equal(first.body.response.status, 'paid');
  assert.equal(first.body.response.amount, 9900);

  // The next charge of node_2 is committed, and its reply dropped.
  const inj = await api('POST', '/__fake/faults', { kind: 'drop_after_commit', merchant_uid: 'node_2' });
  assert.equal(inj.status, 200);
  await assert.rejects(api('POST', '/subscribe/payments/again',
    { customer_uid: 'demo_customer', merchant_uid: 'node_2', amount: 4900 }, tok), 'the reply is lost');

  // What a careful client does next: look the merchant_uid up.
  const found = await api('GET', '/payments/find/node_2', null, tok);
  assert.equal(found.status, 200);
  assert.equal(found.body.response.status, 'paid');

  // Charging node_2 again is refused by the fake, as by Iamport.
  const again = await api('POST', '/subscribe/payments/again',
    { customer_uid: 'demo_customer', merchant_uid: 'node_2', amount: 4900 }, tok);
  assert.notEqual(again.body.code, 0);

  const ledger = await api('GET', '/__fake/ledger');
  assert.equal(ledger.status, 200);
  assert.deepEqual(ledger.body.payments.map((p) => [p.merchant_uid, p.status, p.amount]),
    [['node_1', 'paid', 9900], ['node_2', 'paid', 4900]]);
  assert.deepEqual(ledger.body.charged, { count: 2, amounts: { KRW: 14800 } });

  const counters = await api('GET', '/__fake/counters');
  assert.equal(counters.body.charges.node_2, 1);
  assert.equal(counters.body.requests['POST /subscribe/payments/again'], 3);
  assert.equal(counters.body.token_calls, 1);
});

test('the CLI against the same fake: exit codes for cron', async () => {
  await api('POST', '/__fake/reset');
  let r = await cli(['charge', '--customer-uid', 'demo_customer', '--merchant-uid', 'node_cli_1', '--amount', '1000', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).status, 'paid');

  r = await cli(['charge', '--customer-uid', 'demo_declined', '--merchant-uid', 'node_cli_2', '--amount', '1000']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^iamport: declined: 잔액부족/);

  // A lost reply: the CLI (the SDK) reconciles it and reports the payment.
  await api('POST', '/__fake/faults', { kind: 'drop_after_commit', merchant_uid: 'node_cli_3' });
  r = await cli(['charge', '--customer-uid', 'demo_customer', '--merchant-uid', 'node_cli_3', '--amount', '3000', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).status, 'paid');

  const ledger = await api('GET', '/__fake/ledger?merchant_uid=node_cli_3');
  assert.equal(ledger.body.payments.length, 1, 'charged once');
});

test('a declining card registered through the control API', async () => {
  await api('POST', '/__fake/billing-keys', { customer_uid: 'node_poor' });
  await api('POST', '/__fake/declines', { customer_uid: 'node_poor', reason: '한도초과' });
  const tok = await token();
  const r = await api('POST', '/subscribe/payments/again', { customer_uid: 'node_poor', merchant_uid: 'node_d', amount: 100 }, tok);
  assert.equal(r.body.code, 0, 'a decline is code 0…');
  assert.equal(r.body.response.status, 'failed', '…with status failed');
  assert.equal(r.body.response.fail_reason, '한도초과');
});

test('expired tokens and the clock', async () => {
  const tok = await token();
  await api('POST', '/__fake/tokens/expire');
  const r = await api('GET', '/payments/find/nothing', null, tok);
  assert.equal(r.status, 401);
  const c1 = (await api('GET', '/__fake/clock')).body;
  const c2 = (await api('POST', '/__fake/clock', { advance: '24h' })).body;
  assert.ok(c2.unix - c1.unix >= 86400 && c2.unix - c1.unix < 86400 + 60);
});

test('the stand-in iamport.js issues a key through the payment window', async () => {
  const src = await (await fetch(info.url + '/iamport.js')).text();
  // A page's window, as much as the script uses.
  const window = { location: { href: 'http://127.0.0.1:3000/checkout', assign() {} }, navigator: { userAgent: 'node' }, fetch };
  const document = { currentScript: { src: info.url + '/iamport.js' } };
  vm.runInNewContext(src, { window, document, URL, URLSearchParams });
  window.IMP.init('imp00000000');
  const rsp = await new Promise((resolve) => window.IMP.request_pay({
    pg: 'jtnet', pay_method: 'card', merchant_uid: 'node_window_1', name: '정기결제', amount: 0,
    customer_uid: 'node_web', card_number: '4092-0230-1234-5678',
  }, resolve));
  assert.equal(rsp.success, true, JSON.stringify(rsp));
  assert.match(rsp.imp_uid, /^imp_/);
  const keys = (await api('GET', '/__fake/billing-keys')).body;
  assert.ok(keys.some((k) => k.customer_uid === 'node_web'));
});

test('the stand-in script is the one in the repository', () => {
  const here = new URL('../../../iamporttest/iamport.js', import.meta.url);
  assert.ok(readFileSync(here, 'utf8').includes('/__fake/window/request_pay'));
});
