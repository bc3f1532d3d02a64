/**
 * What the extractor demands of each record: strict on the fields the models use (present, of
 * the type the live API sends: no trimming, no casting of lat/long/zipcode/phone), tolerant of
 * anything else. Extra fields are landed as they came and counted as schema drift; a missing
 * or mistyped required field rejects the record (and with it the run).
 */
import { z } from "zod";
import { formatIssues } from "../shared/mod.ts";
import { canonicalJson, canonicalTextHash } from "./payload_hash.ts";
import { jsonbRefuses } from "./jsonb_text.ts";

export const ENTITIES = ["products", "users", "carts"] as const;
export type Entity = (typeof ENTITIES)[number];

const id = z.int().min(1);
/** lat/long arrive as strings with significant trailing zeros: checked, never cast. */
const decimalString = z.string().regex(/^-?\d+(\.\d+)?$/, "expected a decimal number as a string");

export const productSchema = z.looseObject({
  id,
  title: z.string().min(1),
  // An integer when whole (695), a float otherwise (22.3).
  price: z.number().nonnegative(),
  description: z.string(),
  category: z.string().min(1),
  image: z.string(),
  rating: z.looseObject({
    // `3` for some products: any number.
    rate: z.number().min(0).max(5),
    count: z.int().min(0),
  }),
});

export const userSchema = z.looseObject({
  address: z.looseObject({
    geolocation: z.looseObject({ lat: decimalString, long: decimalString }),
    city: z.string(),
    street: z.string(),
    number: z.int(),
    zipcode: z.string(),
  }),
  id,
  email: z.string().min(1),
  username: z.string().min(1),
  name: z.looseObject({ firstname: z.string(), lastname: z.string() }),
  phone: z.string(),
  __v: z.int().optional(),
});

export const cartSchema = z.looseObject({
  id,
  userId: id,
  // ISO-8601 in UTC with milliseconds: "2020-03-02T00:00:00.000Z".
  date: z.iso.datetime({ offset: true }),
  products: z.array(z.looseObject({ productId: id, quantity: z.int().min(1) })),
  __v: z.int().optional(),
});

export const SCHEMAS = { products: productSchema, users: userSchema, carts: cartSchema } as const;

export type ProductRecord = z.infer<typeof productSchema>;
export type UserRecord = z.infer<typeof userSchema>;
export type CartRecord = z.infer<typeof cartSchema>;

/** A record that passed: its id, the payload exactly as received (password removed), its hash. */
export interface ValidRecord {
  recordId: number;
  payload: Record<string, unknown>;
  /**
   * `canonicalJson(payload)`, computed once: hashed, and sent to the jsonb column (which orders
   * keys its own way, so the stored value is the same as for the text as received).
   */
  payloadJson: string;
  payloadHash: string;
}

/** A record that failed, with where and why. */
export interface RejectedRecord {
  recordKey: string;
  payload: unknown;
  reason: string;
}

/** The outcome of checking one response's records. */
export interface Validation {
  valid: ValidRecord[];
  rejected: RejectedRecord[];
  /** Unknown field paths and how many records carried them, e.g. {"stock": 20}. */
  drift: Record<string, number>;
  /** Records repeated verbatim (same id, same hash) and landed once. */
  duplicatesCollapsed: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Walks `value` beside `schema`, counting fields the schema does not name. */
function collectExtras(
  schema: z.ZodType,
  value: unknown,
  prefix: string,
  out: Record<string, number>,
): void {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  if (inner instanceof z.ZodObject && isRecord(value)) {
    const shape = inner.shape as Record<string, z.ZodType>;
    for (const key of Object.keys(value)) {
      const path = `${prefix}${key}`;
      const child = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (child === undefined) out[path] = (out[path] ?? 0) + 1;
      else collectExtras(child, value[key], `${path}.`, out);
    }
  } else if (inner instanceof z.ZodArray && Array.isArray(value)) {
    for (const item of value) collectExtras(inner.element as z.ZodType, item, `${prefix}[].`, out);
  }
}

function keyOf(record: unknown, index: number): string {
  if (isRecord(record) && (typeof record.id === "number" || typeof record.id === "string")) {
    return `id ${String(record.id)}`;
  }
  return `#${index}`;
}

/** The end of one response's checks: what `validateRecords` reports beside the valid records. */
export interface ValidationSummary {
  rejected: RejectedRecord[];
  drift: Record<string, number>;
  duplicatesCollapsed: number;
  /** Ids repeated with different payloads: every copy rejected, none may land. */
  conflicting: Set<number>;
}

/**
 * Checks one entity's records one at a time, as they stream in, keeping per record only its id,
 * hash and position (plus the later copies of a repeated id, which are rare). A repeated id
 * lands once when the copies are identical (the live API once served cart 6 twice) and rejects
 * them all when they differ: that is known only at the end, so `finish` asks for the first copy
 * of each conflicting id, which by then has been handed on.
 */
export class RecordValidator {
  readonly #schema: z.ZodType<{ id: number }>;
  readonly #rejected: RejectedRecord[] = [];
  readonly #drift: Record<string, number> = {};
  readonly #seen = new Map<number, { hash: string; index: number }>();
  readonly #repeats = new Map<
    number,
    Array<{ key: string; payload: Record<string, unknown>; hash: string }>
  >();

  constructor(readonly entity: Entity) {
    this.#schema = SCHEMAS[entity];
  }

  /** Checks the `index`-th record: returns it ready to land if valid and its id is new. */
  check(record: unknown, index: number): ValidRecord | undefined {
    const key = keyOf(record, index);
    const parsed = this.#schema.safeParse(record);
    if (!parsed.success) {
      this.#rejected.push({
        recordKey: key,
        payload: record,
        reason: formatIssues(parsed.error.issues, { rootLabel: "(record)" }),
      });
      return undefined;
    }
    const payload = record as Record<string, unknown>;
    const json = canonicalJson(payload);
    // jsonb cannot hold U+0000 or a lone surrogate: refuse the record here rather than fail the
    // landing later (the reject keeps it exactly, in payload_text).
    if (jsonbRefuses(json)) {
      this.#rejected.push({
        recordKey: key,
        payload,
        reason: "contains U+0000 or a lone surrogate, which jsonb cannot store",
      });
      return undefined;
    }
    const recordId = parsed.data.id;
    const hash = canonicalTextHash(json);
    if (this.#seen.has(recordId)) {
      const copies = this.#repeats.get(recordId) ?? [];
      copies.push({ key, payload, hash });
      this.#repeats.set(recordId, copies);
      return undefined;
    }
    this.#seen.set(recordId, { hash, index });
    collectExtras(this.#schema, payload, "", this.#drift);
    return { recordId, payload, payloadJson: json, payloadHash: hash };
  }

  /** Ids seen again with a different payload; `finish` needs the first copy of each. */
  conflictingIds(): number[] {
    return [...this.#repeats].filter(([recordId, copies]) =>
      copies.some((copy) => copy.hash !== this.#seen.get(recordId)!.hash)
    ).map(([recordId]) => recordId);
  }

  /**
   * Ends the response: rejects every copy of each conflicting id (in order of first appearance,
   * given each one's first copy in `firstCopies`) and takes their fields out of the drift.
   */
  finish(firstCopies: ReadonlyMap<number, unknown>): ValidationSummary {
    const conflicting = new Set(this.conflictingIds());
    const rejected = [...this.#rejected];
    const drift = { ...this.#drift };
    let duplicatesCollapsed = 0;
    const byFirstAppearance = [...this.#repeats].sort(([a], [b]) =>
      this.#seen.get(a)!.index - this.#seen.get(b)!.index
    );
    for (const [recordId, copies] of byFirstAppearance) {
      if (!conflicting.has(recordId)) {
        duplicatesCollapsed += copies.length;
        continue;
      }
      const first = firstCopies.get(recordId);
      const gone: Record<string, number> = {};
      collectExtras(this.#schema, first, "", gone);
      for (const [path, count] of Object.entries(gone)) {
        const left = (drift[path] ?? count) - count;
        if (left > 0) drift[path] = left;
        else delete drift[path];
      }
      const reason = `id ${recordId} appears ${copies.length + 1} times with different payloads`;
      for (const copy of [{ key: `id ${recordId}`, payload: first }, ...copies]) {
        rejected.push({ recordKey: copy.key, payload: copy.payload, reason });
      }
    }
    return { rejected, drift, duplicatesCollapsed, conflicting };
  }
}

/** Checks every record of one entity's response, all in memory (RecordValidator in one go). */
export function validateRecords(entity: Entity, records: readonly unknown[]): Validation {
  const validator = new RecordValidator(entity);
  const checked: ValidRecord[] = [];
  records.forEach((record, index) => {
    const valid = validator.check(record, index);
    if (valid !== undefined) checked.push(valid);
  });
  const summary = validator.finish(new Map(checked.map((r) => [r.recordId, r.payload])));
  return {
    valid: checked.filter((record) => !summary.conflicting.has(record.recordId)),
    rejected: summary.rejected,
    drift: summary.drift,
    duplicatesCollapsed: summary.duplicatesCollapsed,
  };
}
