import { describe, expect, it } from 'vitest';
import { MAX_REPLAY_BYTES, REPLAY_BUDGET_BYTES } from '../../src/proxy/replay-body';
import { configure, lb, startOrigin } from '../support/worker';

// Request bodies kept for replay (SPEC §2.10) have a budget per isolate: clients that
// upload a megabyte each and then stall cannot hold the isolate's memory. Past the
// budget a body streams through on one attempt, so a PUT whose first origin refuses
// the connection is not retried; once the stalled uploads go, it is again.

/** A POST of `MAX_REPLAY_BYTES` declared that sends a few bytes and then nothing, until `stop`. */
function stalledUpload(): { done: Promise<unknown>; stop: () => void } {
  const { readable, writable } = new FixedLengthStream(MAX_REPLAY_BYTES);
  const writer = writable.getWriter();
  void writer.write(new Uint8Array(1024)).catch(() => undefined);
  const done = lb('/upload', { method: 'POST', body: readable, headers: { 'content-length': String(MAX_REPLAY_BYTES) } }).then(
    (res) => res.arrayBuffer(),
    () => undefined,
  );
  return { done, stop: () => void writer.abort(new Error('the client went away')).catch(() => undefined) };
}

describe('the replay budget', () => {
  it(`holds at most ${REPLAY_BUDGET_BYTES / MAX_REPLAY_BYTES} stalled 1 MiB uploads for replay; past that a PUT goes to one origin only, and after them to two again`, async () => {
    const good = await startOrigin('replay-good');
    await configure({
      pools: [
        // Nothing listens on port 9: the connection is refused, a failure a PUT is retried on.
        { id: 'refusing', origins: [{ name: 'refusing', address: 'http://127.0.0.1:9' }] },
        { id: 'serving', origins: [{ name: 'serving', address: good.url }] },
      ],
      load_balancers: [{ id: 'main', hostname: '*', default_pools: ['refusing', 'serving'], retries: 1, passive_health: { max_fails: 0, fail_timeout: 10, max_ejection_percent: 50 } }],
    });
    const put = async () => {
      const res = await lb('/orders', { method: 'PUT', body: 'x'.repeat(2048) });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await put()).toBe(200);

    const uploads = Array.from({ length: REPLAY_BUDGET_BYTES / MAX_REPLAY_BYTES }, stalledUpload);
    // Let them all reach the balancer and take their room.
    await scheduler.wait(200);
    expect(await put()).toBe(502);
    expect((await good.log()).filter((r) => r.url === '/orders')).toHaveLength(1);

    for (const upload of uploads) upload.stop();
    await Promise.all(uploads.map((u) => u.done));
    expect(await put()).toBe(200);
    expect((await good.log()).filter((r) => r.url === '/orders')).toHaveLength(2);
  });
});
