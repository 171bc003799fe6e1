// Where Switchyard's CPU goes under load: samples taken through workerd's inspector
// while autocannon runs, printed as the functions with the most self time and the
// most time including their callees.
import { run } from './load.mjs';

/**
 * A node of a V8 CPU profile (the inspector's Profiler.stop).
 * @typedef {{ id: number, hitCount: number, children?: number[], callFrame: { functionName: string, url: string, lineNumber: number } }} ProfileNode
 */

/**
 * Samples Switchyard's CPU through workerd's inspector while it is under load; prints the top self times.
 * @param {import('./targets.mjs').Bench} bench
 * @param {{ inspector: number | undefined }} worker
 * @param {import('./targets.mjs').Target} target
 */
export async function profile(bench, worker, target) {
  /** @type {{ title: string, url?: string, webSocketDebuggerUrl: string }[]} */
  const list = await (await fetch(`http://127.0.0.1:${worker.inspector}/json/list`)).json();
  const socket = new WebSocket(list.find((t) => t.title === 'main' || /main/.test(t.url ?? ''))?.webSocketDebuggerUrl ?? list[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', reject);
  });
  let id = 0;
  /** @type {Map<number, (result: any) => void>} */
  const pending = new Map();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data));
    pending.get(message.id)?.(message.result);
  });
  /**
   * @param {string} method
   * @param {Record<string, unknown>} [params]
   * @returns {Promise<any>}
   */
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      pending.set(++id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 100 });
  await send('Profiler.start');
  await run(bench, target, bench.duration);
  /** @type {{ profile: { nodes: ProfileNode[] } }} */
  const { profile: cpu } = await send('Profiler.stop');
  socket.close();
  /** @type {Map<string, number>} */
  const self = new Map();
  /** @type {Map<string, number>} */
  const inclusive = new Map();
  const byId = new Map(cpu.nodes.map((node) => [node.id, node]));
  /** @param {ProfileNode['callFrame']} frame */
  const label = (frame) => `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber + 1}`;
  /**
   * Inclusive time: a node's own hits plus its descendants', counted once per function on each path.
   * @param {ProfileNode} node
   * @param {ReadonlySet<string>} onPath
   * @returns {number}
   */
  const visit = (node, onPath) => {
    const key = label(node.callFrame);
    let hits = node.hitCount;
    const path = new Set(onPath).add(key);
    for (const child of node.children ?? []) {
      const next = byId.get(child);
      if (next !== undefined) hits += visit(next, path);
    }
    if (!onPath.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    return hits;
  };
  let total = 0;
  for (const node of cpu.nodes) {
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
  visit(cpu.nodes[0], new Set());
  /**
   * @param {Map<string, number>} map
   * @param {number} n
   */
  const top = (map, n) => [...map].filter(([key]) => !key.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, n);
  bench.log(`\nSwitchyard CPU profile under load (${total} samples), self time:`);
  for (const [key, hits] of top(self, 25)) bench.log(`  ${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  bench.log('Including callees:');
  for (const [key, hits] of top(inclusive, 25)) bench.log(`  ${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
