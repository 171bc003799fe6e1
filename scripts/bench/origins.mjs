#!/usr/bin/env node
// Fast loopback origins for the benchmark, in their own process so they do not
// share a core with the load generator. Prints {"ports":[…]} once listening; a line
// "kill N" on stdin closes origin N (connections refused from then on), "revive N"
// listens again on its port.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

const count = Number(process.argv[2] ?? 3);
const body = Buffer.from('<h1>Response from a benchmark origin</h1>\n');
const servers = await Promise.all(
  Array.from({ length: count }, (_, i) => {
    const sockets = new Set();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': body.length, 'x-origin': String(i + 1) });
        res.end(body);
      });
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, sockets })));
  }),
);
process.stdout.write(`${JSON.stringify({ ports: servers.map((s) => s.server.address().port) })}\n`);

const ports = servers.map((s) => s.server.address().port);
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = /^(kill|revive) (\d+)$/.exec(line.trim());
  if (command === null) return;
  const index = Number(command[2]);
  const target = servers[index];
  if (command[1] === 'kill') {
    target.server.close();
    for (const socket of target.sockets) socket.destroy();
    process.stdout.write(`killed ${index}\n`);
  } else {
    target.server.listen(ports[index], '127.0.0.1', () => process.stdout.write(`revived ${index}\n`));
  }
});
process.stdin.on('end', () => process.exit(0));
