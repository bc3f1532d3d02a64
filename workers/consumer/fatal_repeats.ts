/**
 * Counts fatal errors per position: the same fatal error at the same topic/partition/offset
 * again and again (a crash loop under a supervisor, or retries in one process) needs a human,
 * so the Nth occurrence is reported for an `alert` log line and `make status`.
 */

/** Where and what failed. */
export interface FatalAt {
  topic: string;
  partition: number;
  offset: number;
  message: string;
}

/** One position's record: how often its last error repeated. */
export interface FatalRecord extends FatalAt {
  count: number;
}

/** Remembers the last fatal error of each partition and how often it repeated. */
export class FatalRepeats {
  readonly #last = new Map<string, FatalRecord>();

  /** @param threshold occurrences at one position that make an alert (at least 1). */
  constructor(readonly threshold: number) {
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw new RangeError(`Fatal repeat threshold must be a positive integer, got ${threshold}`);
    }
  }

  /** Records `at`; returns the record when it has now repeated `threshold` times or more. */
  record(at: FatalAt): FatalRecord | undefined {
    const key = `${at.topic}/${at.partition}`;
    const previous = this.#last.get(key);
    const same = previous !== undefined && previous.offset === at.offset &&
      previous.message === at.message;
    const current = { ...at, count: same ? previous.count + 1 : 1 };
    this.#last.set(key, current);
    return current.count >= this.threshold ? current : undefined;
  }

  /** Forgets a partition's record once a batch there landed. */
  clear(topic: string, partition: number): void {
    this.#last.delete(`${topic}/${partition}`);
  }
}
