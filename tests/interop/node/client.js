/* SPDX-License-Identifier: ISC */
// The npm package msgpack5rpc, unmodified, against leasepoold.  Usage:
// node client.js SOCKET (msgpack5rpc found through NODE_PATH).  It hands
// the error object over as it came: the protocol's map.  Calls without
// arguments send params [].  Prints one line per step, for
// tests/integration/test_interop.c.
'use strict';
const net = require('net');
const Session = require('msgpack5rpc');

const socket = net.connect(process.argv[2]);
const session = new Session();
session.attach(socket, socket);

function call(method, args) {
  return new Promise((resolve, reject) => {
    session.request(method, args, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function main() {
  const hello = await call('hello', [{ client: 'msgpack5rpc' }]);
  console.log('hello:', String(hello.server).split(' ')[0]);
  console.log('ping:', await call('ping', []));
  const { lease } = await call('acquire', [{ owner: 'node' }]);
  console.log('acquire:', lease > 0 ? 'ok' : 'no lease');
  console.log('run:', await call('run', [{ lease, fn: 'echo', args: [42] }]));
  try {
    await call('run', [{ lease, fn: 'no_such_function' }]);
    console.log('error: none');
  } catch (e) {
    console.log('error:', e.code, e.message);
  }
  console.log('release:', await call('release', [{ lease }]));
  socket.end();
}

main().catch((e) => {
  console.log('failed:', e);
  process.exit(1);
});
