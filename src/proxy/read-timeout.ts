// read_timeout_ms (SPEC §3, nginx's proxy_read_timeout): once response headers have
// arrived, a body that stays silent longer than the limit is cut. Silence is counted
// only while the client is waiting for the next chunk (a slow client is not the
// origin's fault), with one timer per response re-armed lazily rather than one per
// chunk.

export function guardBody(body: ReadableStream<Uint8Array>, limitMs: number, onStall: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let waitingSince = 0;
  let waiting = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stalled: ((error: Error) => void) | undefined;

  const check = (): void => {
    timer = undefined;
    if (!waiting) return;
    const silent = Date.now() - waitingSince;
    if (silent < limitMs) {
      timer = setTimeout(check, limitMs - silent);
      return;
    }
    onStall();
    stalled?.(new Error(`origin sent nothing for ${limitMs} ms`));
    reader.cancel('read timeout').catch(() => undefined);
  };
  const stop = (): void => {
    waiting = false;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      waiting = true;
      waitingSince = Date.now();
      timer ??= setTimeout(check, limitMs);
      const cut = new Promise<never>((_, reject) => (stalled = reject));
      try {
        const { done, value } = await Promise.race([reader.read(), cut]);
        waiting = false;
        if (done) {
          stop();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        stop();
        controller.error(error);
      }
    },
    cancel(reason) {
      stop();
      return reader.cancel(reason);
    },
  });
}
