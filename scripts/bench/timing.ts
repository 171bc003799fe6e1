// The micro-benchmarks' clock: warm up, then run batches until `minMs` have passed.

export interface Timing {
  nsPerOp: number;
  ops: number;
}

/**
 * Nanoseconds per call of `fn`, from batches of `batch` calls after two batches of
 * warm-up. A small batch for work that takes milliseconds (compiling a snapshot).
 */
export function time(fn: () => void, minMs: number, batch = 1000): Timing {
  for (let i = 0; i < 2 * batch; i++) fn();
  let ops = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    elapsed = performance.now() - started;
  }
  return { nsPerOp: (elapsed * 1e6) / ops, ops };
}
