// Request bodies kept to be sent again (SPEC §2.10: bodies are replayed up to 1 MiB).
// A body is buffered only when there is another candidate to send it to, and an
// isolate holds at most REPLAY_BUDGET_BYTES of them at once: a hundred clients each
// uploading a megabyte and then stalling would otherwise hold a hundred megabytes of
// an isolate's 128 MB and take every request it serves down with it. Past the budget a
// body streams through on one attempt, as a larger one does.

import { LbError } from '../errors';

export const MAX_REPLAY_BYTES = 1024 * 1024;
/** Request bodies held for replay by one isolate, in all. */
export const REPLAY_BUDGET_BYTES = 16 * 1024 * 1024;
/**
 * How long a hold counts. A request whose client goes away may never run its code to
 * the end, so a hold that is never released must not count for ever; by then the
 * runtime has freed what the request held.
 */
export const REPLAY_HOLD_MS = 60_000;

export interface RequestBody {
  value: BodyInit | null;
  /** Can be sent again to another origin. */
  replayable: boolean;
  /** Still arriving from the client while an attempt runs. */
  streamed: boolean;
  /** Gives back what this body held of the budget; call once the request is done with it. */
  release(): void;
}

const nothing = (): void => undefined;
const NO_BODY: RequestBody = { value: null, replayable: true, streamed: false, release: nothing };

/** What the isolate's buffered bodies hold, by the second they were taken in (a hold counts REPLAY_HOLD_MS at most). */
class ReplayBudget {
  private readonly bySecond = new Map<number, number>();

  /** Bytes held now, after forgetting the holds older than REPLAY_HOLD_MS. */
  held(now: number): number {
    const oldest = Math.floor((now - REPLAY_HOLD_MS) / 1000);
    let sum = 0;
    for (const [second, bytes] of this.bySecond) {
      if (second < oldest) this.bySecond.delete(second);
      else sum += bytes;
    }
    return sum;
  }

  /** Takes `bytes` when they fit; the release function, or undefined when they do not. */
  take(bytes: number, now: number): (() => void) | undefined {
    if (this.held(now) + bytes > REPLAY_BUDGET_BYTES) return undefined;
    const second = Math.floor(now / 1000);
    this.bySecond.set(second, (this.bySecond.get(second) ?? 0) + bytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.bySecond.get(second) ?? 0) - bytes;
      if (left > 0) this.bySecond.set(second, left);
      else this.bySecond.delete(second);
    };
  }
}

const budget = new ReplayBudget();

/** Bytes of request bodies this isolate holds for replay now (tests, metrics). */
export function replayBytesHeld(now = Date.now()): number {
  return budget.held(now);
}

/**
 * The request body, buffered when it may be sent more than once: up to 1 MiB, only
 * when there is another candidate to send it to and the isolate's budget has room.
 * Otherwise it streams through on a single attempt (what was read of it sent first).
 */
export function replayableBody(request: Request, wantRetries: boolean): RequestBody | Promise<RequestBody> {
  // A GET or HEAD here has an empty body at most (one with content was refused before
  // steering), and the runtime would refuse even an empty one.
  if (request.body === null || request.method === 'GET' || request.method === 'HEAD') return NO_BODY;
  if (!wantRetries) return streamed(request.body);
  return bufferedBody(request, request.body);
}

const streamed = (value: ReadableStream<Uint8Array>): RequestBody => ({ value, replayable: false, streamed: true, release: nothing });

async function bufferedBody(request: Request, stream: ReadableStream<Uint8Array>): Promise<RequestBody> {
  const declared = request.headers.get('content-length');
  if (declared !== null && !(Number(declared) <= MAX_REPLAY_BYTES)) return streamed(stream);
  // A body of known length takes its room first; one of unknown length chunk by chunk.
  const releases: (() => void)[] = [];
  const release = (): void => releases.forEach((r) => r());
  if (declared !== null) {
    const held = budget.take(Number(declared), Date.now());
    if (held === undefined) return streamed(stream);
    releases.push(held);
  }
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await reader.read();
    } catch {
      // The client's upload broke off: nothing will be sent, and nothing stays held. The
      // client's doing, not the balancer's: answered (to nobody, most likely) as a bad
      // request, not logged as an unexpected error.
      release();
      throw new LbError(400, 'bad_request', 'the request body broke off before it had all arrived');
    }
    const { done, value } = read;
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    const held = declared === null ? budget.take(value.byteLength, Date.now()) : nothing;
    if (held !== undefined && declared === null) releases.push(held);
    if (size > MAX_REPLAY_BYTES || held === undefined) {
      // Too large to keep, or no room left: send what was read, then the rest, on one attempt.
      release();
      return { value: prepend(chunks, reader), replayable: false, streamed: true, release: nothing };
    }
  }
  const whole = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { value: whole, replayable: true, streamed: false, release };
}

function prepend(chunks: Uint8Array[], rest: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = chunks.shift();
      if (next !== undefined) return controller.enqueue(next);
      const { done, value } = await rest.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => rest.cancel(reason),
  });
}
