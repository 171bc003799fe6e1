// Where Switchyard's CPU goes under load: samples taken through workerd's inspector
// while autocannon runs, each charged to the stage of the request path it was taken
// in (stages.mjs), and printed as a table of µs per request: the share of samples
// times the CPU per request the interleaved load table measured.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, run } from './load.mjs';
import { attribute, bundleLocator, STAGES } from './stages.mjs';

/**
 * A node of a V8 CPU profile (the inspector's Profiler.stop).
 * @typedef {{ functionName: string, url: string, lineNumber: number, columnNumber: number }} CallFrame
 * @typedef {{ id: number, hitCount: number, children?: number[], callFrame: CallFrame, positionTicks?: { line: number, ticks: number }[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], startTime: number, endTime: number, samples?: number[] }} CpuProfile
 *
 * @typedef {object} Subject a Worker to profile
 * @property {string} name its row in the load table
 * @property {{ inspector: number | undefined }} worker
 * @property {import('./targets.mjs').Target} target
 * @property {boolean} switchyard runs the Switchyard bundle (its frames are located through the source map)
 *
 * @typedef {object} StageRow
 * @property {string} stage
 * @property {number} samples
 * @property {number} share of the samples the runtime was busy in (idle ones left out)
 * @property {number | undefined} us CPU µs per request: share × the load table's CPU per request
 *
 * @typedef {object} ProfileResult
 * @property {string} name
 * @property {number} samples busy samples
 * @property {number | undefined} cpuUsPerRequest the load table's
 * @property {number | undefined} cpuUsPerRequestProfiled measured during the profile (the profiler's own cost included)
 * @property {StageRow[]} stages
 * @property {{ key: string, share: number }[]} unattributed Switchyard's own JavaScript no stage claimed, by function
 */

/**
 * Samples each subject's CPU through workerd's inspector while it is under load (one
 * after the other), charges the samples to stages, and prints the per-stage table.
 * @param {import('./targets.mjs').Bench} bench
 * @param {readonly Subject[]} subjects
 * @param {readonly import('./load.mjs').LoadRow[]} loadRows the interleaved load table's, for CPU per request
 * @param {string} sourceMapPath the Switchyard bundle's source map
 * @param {string} out where each raw profile is written (NAME.cpuprofile, for DevTools)
 * @returns {Promise<ProfileResult[]>}
 */
export async function profile(bench, subjects, loadRows, sourceMapPath, out) {
  const locate = bundleLocator(JSON.parse(readFileSync(sourceMapPath, 'utf8')));
  /** @type {ProfileResult[]} */
  const results = [];
  for (const subject of subjects) {
    if (subject.worker.inspector === undefined) continue;
    const { cpu, requests, cpuSeconds: seconds } = await sample(bench, subject);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `${subject.name.replace(/\W+/g, '-')}.cpuprofile`), JSON.stringify(cpu));
    const { counts, busy, unattributed } = attribute(cpu, locate, subject.switchyard);
    const cpuUsPerRequest = loadRows.find((r) => r.name === subject.name)?.cpuUsPerRequest;
    results.push({
      name: subject.name,
      samples: busy,
      cpuUsPerRequest,
      cpuUsPerRequestProfiled: seconds === undefined || requests === 0 ? undefined : Math.round((seconds * 1e6) / requests),
      stages: STAGES.map(({ id }) => {
        const samples = counts.get(id) ?? 0;
        const share = busy === 0 ? 0 : samples / busy;
        return { stage: id, samples, share, us: cpuUsPerRequest === undefined ? undefined : share * cpuUsPerRequest };
      }),
      unattributed: [...unattributed].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([key, hits]) => ({ key, share: hits / busy })),
    });
  }
  printStages(results, bench.log);
  return results;
}

/**
 * One subject's CPU profile under `bench.duration` seconds of load, with the process's
 * CPU time and the requests served meanwhile.
 * @param {import('./targets.mjs').Bench} bench
 * @param {Subject} subject
 * @returns {Promise<{ cpu: CpuProfile, requests: number, cpuSeconds: number | undefined }>}
 */
async function sample(bench, { worker, target }) {
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
  const before = cpuSeconds(target.pid);
  const result = await run(bench, target, bench.duration);
  const after = cpuSeconds(target.pid);
  /** @type {{ profile: CpuProfile }} */
  const { profile: cpu } = await send('Profiler.stop');
  await send('Profiler.disable');
  socket.close();
  return { cpu, requests: result.requests.total, cpuSeconds: before === undefined || after === undefined ? undefined : after - before };
}

/**
 * The per-stage table: one column pair (share, µs per request) per profiled Worker.
 * @param {readonly ProfileResult[]} results
 * @param {(line?: string) => void} log
 */
export function printStages(results, log) {
  if (results.length === 0) return;
  log('\nCPU per stage of the request path under load (V8 samples through the inspector, 100 µs apart;');
  log('µs = share of the busy samples × the load table\'s CPU µs per request):');
  const width = Math.max(...STAGES.map((s) => s.label.length)) + 2;
  log(`  ${'stage'.padEnd(width)}${results.map((r) => `${r.name} %`.padStart(22) + 'µs'.padStart(7)).join('')}`);
  for (const [i, stage] of STAGES.entries()) {
    const cells = results.map((r) => {
      const row = r.stages[i];
      return `${(row.share * 100).toFixed(1)}`.padStart(22) + (row.us === undefined ? '' : row.us.toFixed(1)).padStart(7);
    });
    log(`  ${stage.label.padEnd(width)}${cells.join('')}`);
  }
  log(`  ${'busy samples; CPU µs/request'.padEnd(width)}${results.map((r) => `${r.samples}`.padStart(22) + `${r.cpuUsPerRequest ?? '?'}`.padStart(7)).join('')}`);
  log(`  ${'CPU µs/request while profiled'.padEnd(width)}${results.map((r) => ''.padStart(22) + `${r.cpuUsPerRequestProfiled ?? '?'}`.padStart(7)).join('')}`);
  for (const r of results) {
    if (r.unattributed.length === 0) continue;
    log(`  ${r.name}: Switchyard code no stage claims, largest: ${r.unattributed.map((u) => `${u.key} ${(u.share * 100).toFixed(1)}%`).join(', ')}`);
  }
}
