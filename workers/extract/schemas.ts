/**
 * What the extractor demands of each record: strict on the fields the models use (present, of
 * the type the live API sends: no trimming, no casting of lat/long/zipcode/phone), tolerant of
 * anything else. Extra fields are landed as they came and counted as schema drift; a missing
 * or mistyped required field rejects the record (and with it the run).
 */
import { z } from "zod";
import { formatIssues } from "../shared/mod.ts";
import { payloadHash } from "./payload_hash.ts";
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
  /** `JSON.stringify(payload)`, computed once: what is sent to the jsonb column. */
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

/**
 * Checks every record of one entity's response. A repeated id lands once when the copies are
 * identical (the live API once served cart 6 twice) and rejects them all when they differ.
 */
export function validateRecords(entity: Entity, records: readonly unknown[]): Validation {
  const schema = SCHEMAS[entity];
  const rejected: RejectedRecord[] = [];
  const byId = new Map<
    number,
    Array<{ key: string; payload: Record<string, unknown>; json: string; hash: string }>
  >();

  records.forEach((record, index) => {
    const key = keyOf(record, index);
    const parsed = schema.safeParse(record);
    if (!parsed.success) {
      rejected.push({
        recordKey: key,
        payload: record,
        reason: formatIssues(parsed.error.issues, { rootLabel: "(record)" }),
      });
      return;
    }
    const payload = record as Record<string, unknown>;
    const json = JSON.stringify(payload);
    // jsonb cannot hold U+0000 or a lone surrogate: refuse the record here rather than fail the
    // landing later (the reject keeps it exactly, in payload_text).
    if (jsonbRefuses(json)) {
      rejected.push({
        recordKey: key,
        payload,
        reason: "contains U+0000 or a lone surrogate, which jsonb cannot store",
      });
      return;
    }
    const group = byId.get(parsed.data.id) ?? [];
    group.push({ key, payload, json, hash: payloadHash(payload) });
    byId.set(parsed.data.id, group);
  });

  const valid: ValidRecord[] = [];
  const drift: Record<string, number> = {};
  let duplicatesCollapsed = 0;
  for (const [recordId, group] of byId) {
    const first = group[0]!;
    if (group.every((copy) => copy.hash === first.hash)) {
      duplicatesCollapsed += group.length - 1;
      collectExtras(schema, first.payload, "", drift);
      valid.push({
        recordId,
        payload: first.payload,
        payloadJson: first.json,
        payloadHash: first.hash,
      });
    } else {
      for (const copy of group) {
        rejected.push({
          recordKey: copy.key,
          payload: copy.payload,
          reason: `id ${recordId} appears ${group.length} times with different payloads`,
        });
      }
    }
  }
  return { valid, rejected, drift, duplicatesCollapsed };
}
