// The discrete-event models' clock: a binary min-heap of events by time, events at the
// same time in the order they were scheduled. Times, order and events sit in parallel
// arrays and sift by moving a hole: a million events a second without garbage.

/**
 * @template E
 */
export class EventQueue {
  constructor() {
    /** @type {number[]} */
    this.times = [];
    /** @type {number[]} */
    this.order = [];
    /** @type {E[]} */
    this.events = [];
    this.scheduled = 0;
  }

  get size() {
    return this.times.length;
  }

  /**
   * @param {number} t
   * @param {E} event
   */
  push(t, event) {
    const { times, order, events } = this;
    const seq = this.scheduled++;
    let i = times.length;
    times.push(t);
    order.push(seq);
    events.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] < t || (times[parent] === t && order[parent] < seq)) break;
      times[i] = times[parent];
      order[i] = order[parent];
      events[i] = events[parent];
      i = parent;
    }
    times[i] = t;
    order[i] = seq;
    events[i] = event;
  }

  /**
   * The earliest event and its time; undefined when none is left.
   * @returns {{ t: number, event: E } | undefined}
   */
  pop() {
    const { times, order, events } = this;
    if (times.length === 0) return undefined;
    const top = { t: times[0], event: events[0] };
    const t = /** @type {number} */ (times.pop());
    const seq = /** @type {number} */ (order.pop());
    const event = /** @type {E} */ (events.pop());
    const n = times.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && (times[right] < times[child] || (times[right] === times[child] && order[right] < order[child]))) child = right;
      if (t < times[child] || (t === times[child] && seq < order[child])) break;
      times[i] = times[child];
      order[i] = order[child];
      events[i] = events[child];
      i = child;
    }
    times[i] = t;
    order[i] = seq;
    events[i] = event;
    return top;
  }
}
