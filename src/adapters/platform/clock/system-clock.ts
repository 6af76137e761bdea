import type { Cancel, Clock } from '../../../application/ports/clock.port.js';

/** One scheduled callback; `index` is its place in the heap (-1 once run or cancelled). */
interface Entry {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
  index: number;
}

const before = (a: Entry, b: Entry): boolean => a.due < b.due || (a.due === b.due && a.seq < b.seq);

/**
 * The Clock port on the process's monotonic clock and one Node timer. Callbacks wait in a binary heap ordered by
 * due time (then by scheduling order) and the timer is armed for the earliest. Two guarantees plain `setTimeout`
 * lacks: a callback never runs before its delay by this clock's own `now()` (Node counts timers from the event
 * loop's cached time in whole milliseconds, so they may fire up to a loop iteration early), and callbacks run in
 * the order they fall due. State machines compare `now() - start >= timeout` inside their callbacks, so both
 * matter. The timer keeps the process alive while anything is scheduled, as a reconnect wait must.
 * Mutated only on the event loop.
 */
export class SystemClock implements Clock {
  readonly #heap: Entry[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;

  now(): number {
    return performance.now();
  }

  schedule(delayMs: number, fn: () => void): Cancel {
    const entry: Entry = { due: performance.now() + Math.max(0, delayMs), seq: this.#seq++, fn, index: -1 };
    this.#push(entry);
    this.#arm();
    return () => {
      if (entry.index < 0) return;
      this.#remove(entry.index);
      if (this.#heap.length === 0) this.#disarm();
    };
  }

  #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    // Run what is due now, in order; callbacks may schedule or cancel others.
    for (;;) {
      const head = this.#heap[0];
      if (head === undefined || head.due > performance.now()) break;
      this.#remove(0);
      try {
        head.fn();
      } catch (err) {
        // As with a plain timer, the error is uncaught (the last-resort handler sees it); the others still run.
        process.nextTick(() => {
          throw err;
        });
      }
    }
    this.#arm();
  };

  #arm(): void {
    const head = this.#heap[0];
    if (head === undefined) return this.#disarm();
    if (this.#timer !== undefined && this.#armedFor <= head.due) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = head.due;
    this.#timer = setTimeout(this.#fire, Math.max(0, Math.ceil(head.due - performance.now())));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #push(entry: Entry): void {
    entry.index = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.index);
  }

  #remove(i: number): void {
    const heap = this.#heap;
    const gone = heap[i] as Entry;
    const last = heap.pop() as Entry;
    gone.index = -1;
    if (last === gone) return;
    heap[i] = last;
    last.index = i;
    this.#up(i);
    this.#down(last.index);
  }

  #up(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Entry, heap[parent] as Entry)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l] as Entry, heap[m] as Entry)) m = l;
      if (r < heap.length && before(heap[r] as Entry, heap[m] as Entry)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const x = heap[a] as Entry;
    const y = heap[b] as Entry;
    heap[a] = y;
    heap[b] = x;
    y.index = a;
    x.index = b;
  }
}
