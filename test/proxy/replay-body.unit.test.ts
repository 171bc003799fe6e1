import { describe, expect, it } from 'vitest';
import { MAX_REPLAY_BYTES, REPLAY_BUDGET_BYTES, replayableBody, replayBytesHeld } from '../../src/proxy/replay-body';

// What a request body holds of the isolate's replay budget (src/proxy/replay-body.ts),
// for bodies of known and unknown length: taken while kept, all of it given back.

/** A PUT whose body arrives in `chunks` chunks of `size` bytes, with or without its length declared. */
function put(chunks: number, size: number, declared: boolean): Request {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < chunks) controller.enqueue(new Uint8Array(size));
      else controller.close();
    },
  });
  const headers = declared ? { 'content-length': String(chunks * size) } : undefined;
  return new Request('http://app.test/orders', { method: 'PUT', body, headers, duplex: 'half' } as RequestInit);
}

describe('the replay budget', () => {
  it('a body of unknown length too large to keep gives back all it took, the chunk that went over included', async () => {
    expect(replayBytesHeld()).toBe(0);
    const body = await replayableBody(put(20, 64 * 1024, false), true);
    expect(body.replayable).toBe(false);
    expect(replayBytesHeld()).toBe(0);
  });

  it('a kept body holds its size until released, once', async () => {
    for (const declared of [true, false]) {
      const body = await replayableBody(put(4, 1000, declared), true);
      expect(body.replayable).toBe(true);
      expect(replayBytesHeld()).toBe(4000);
      body.release();
      body.release();
      expect(replayBytesHeld()).toBe(0);
    }
  });

  it('past the budget a body of known length streams at once, and one of unknown length once it finds no room', async () => {
    const kept = [];
    for (let i = 0; i < REPLAY_BUDGET_BYTES / MAX_REPLAY_BYTES; i++) kept.push(await replayableBody(put(16, MAX_REPLAY_BYTES / 16, true), true));
    expect(kept.every((b) => b.replayable)).toBe(true);
    expect(replayBytesHeld()).toBe(REPLAY_BUDGET_BYTES);
    expect((await replayableBody(put(1, 10, true), true)).replayable).toBe(false);
    expect((await replayableBody(put(2, 10, false), true)).replayable).toBe(false);
    expect(replayBytesHeld()).toBe(REPLAY_BUDGET_BYTES);
    for (const b of kept) b.release();
    expect(replayBytesHeld()).toBe(0);
    const after = await replayableBody(put(2, 10, false), true);
    expect(after.replayable).toBe(true);
    after.release();
  });

  it('an upload that breaks off gives its room back and is the client\'s error, a 400, not an unexpected one', async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 2) controller.enqueue(new Uint8Array(1000));
        else controller.error(new Error('Network connection lost.'));
      },
    });
    const request = new Request('http://app.test/orders', { method: 'PUT', body, headers: { 'content-length': '100000' }, duplex: 'half' } as RequestInit);
    await expect(replayableBody(request, true)).rejects.toMatchObject({ status: 400, code: 'bad_request' });
    expect(replayBytesHeld()).toBe(0);
  });
});
