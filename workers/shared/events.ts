/**
 * The order event contract, version 1: the one zod schema the producer writes to and the consumer
 * and the dead-letter replay validate against. docs/events.md documents it and
 * docs/events.schema.json is generated from it (`deno task events:schema`, stack/events_schema.ts);
 * a test keeps all three in step.
 *
 * A Kafka message is valid when its value is at most MAX_EVENT_BYTES, decodes as UTF-8, parses as
 * JSON, matches the schema, and its key equals the event's order_id (the key is what keeps one
 * order's events in one partition, in order).
 */
import { isUtf8 } from "node:buffer";
import { z } from "zod";
import { formatIssues } from "./zod_issues.ts";

/** The consumer's cap on one message value; the broker's own limit (~1 MiB) sits above it. */
export const MAX_EVENT_BYTES = 64 * 1024;

/** The only schema version this code understands; any other value is a schema error. */
export const SCHEMA_VERSION = 1;

/** Event types of v1, in lifecycle order. */
export const EVENT_TYPES = [
  "order_created",
  "item_added",
  "order_paid",
  "order_cancelled",
] as const;

export const CHANNELS = ["web", "mobile"] as const;
export const PAYMENT_METHODS = ["card", "paypal", "voucher"] as const;

/** Upper bound of ids and the PostgreSQL `integer` the warehouse casts them to. */
const MAX_INT4 = 2_147_483_647;
/** Most of one product in one item_added event. */
const MAX_QUANTITY = 100;
/** Prices are whole cents. */
const UNIT_PRICE_STEP = 0.01;

// PostgreSQL text and jsonb cannot hold U+0000 or unpaired UTF-16 surrogates; rejecting them
// here makes such an event a schema error instead of a row the database refuses.
// deno-lint-ignore no-control-regex -- matching U+0000 is the point
const STORABLE_TEXT = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

const common = {
  schema_version: z.literal(SCHEMA_VERSION),
  event_id: z.uuid(),
  order_id: z.uuid(),
  user_id: z.int().min(1).max(MAX_INT4),
  occurred_at: z.iso.datetime(),
};

export const orderCreatedSchema = z.strictObject({
  ...common,
  event_type: z.literal("order_created"),
  channel: z.enum(CHANNELS),
});

export const itemAddedSchema = z.strictObject({
  ...common,
  event_type: z.literal("item_added"),
  product_id: z.int().min(1).max(MAX_INT4),
  quantity: z.int().min(1).max(MAX_QUANTITY),
  unit_price: z.number().min(0).multipleOf(UNIT_PRICE_STEP),
});

export const orderPaidSchema = z.strictObject({
  ...common,
  event_type: z.literal("order_paid"),
  total_amount: z.number().min(0),
  payment_method: z.enum(PAYMENT_METHODS),
});

export const orderCancelledSchema = z.strictObject({
  ...common,
  event_type: z.literal("order_cancelled"),
  reason: z.string().regex(STORABLE_TEXT, "Must not contain U+0000 or unpaired surrogates"),
});

/** One order event of schema version 1. */
export const orderEventSchema = z.discriminatedUnion("event_type", [
  orderCreatedSchema,
  itemAddedSchema,
  orderPaidSchema,
  orderCancelledSchema,
]);

export type OrderEvent = z.infer<typeof orderEventSchema>;
export type EventType = OrderEvent["event_type"];

/** Why a message was refused: the dead-letter table's error_class. */
export type ErrorClass = "parse" | "schema" | "oversize";
export const ERROR_CLASSES: readonly ErrorClass[] = ["parse", "schema", "oversize"];

/** The outcome of validating one Kafka message. */
export type Validation =
  | { ok: true; event: OrderEvent; text: string }
  | { ok: false; errorClass: ErrorClass; message: string; text: string | null };

// Checking with isUtf8 and then decoding leniently is several times faster than a fatal
// TextDecoder on small messages; the result is the same.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Validates one message value (and its key) against the v1 contract; never throws. */
export function validateMessage(
  value: Uint8Array | null,
  key: string | null,
): Validation {
  if (value === null) {
    return { ok: false, errorClass: "parse", message: "Message has no value", text: null };
  }
  if (value.byteLength > MAX_EVENT_BYTES) {
    return {
      ok: false,
      errorClass: "oversize",
      message: `Message value is ${value.byteLength} bytes, over the cap of ${MAX_EVENT_BYTES}`,
      text: null,
    };
  }
  if (!isUtf8(value)) {
    return { ok: false, errorClass: "parse", message: "Message value is not UTF-8", text: null };
  }
  const text = utf8.decode(value);
  const storable = text.includes("\u0000") ? null : text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, errorClass: "parse", message: `Not JSON: ${reason}`, text: storable };
  }
  // Nearly every message is valid: a hand-written check of the same schema accepts it without
  // zod's allocations; anything it does not accept goes through zod, whose issues name the fault.
  if (key !== null && isValidEvent(json) && json.order_id === key) {
    return { ok: true, event: json, text };
  }
  const parsed = orderEventSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      errorClass: "schema",
      message: describeIssues(parsed.error.issues),
      text: storable,
    };
  }
  if (key !== parsed.data.order_id) {
    return {
      ok: false,
      errorClass: "schema",
      message: `Message key must equal order_id ${parsed.data.order_id}, got ${
        key === null ? "no key" : JSON.stringify(key.slice(0, 80))
      }`,
      text: storable,
    };
  }
  // storable is non-null here: a NUL outside a string fails JSON.parse, inside one the schema.
  return { ok: true, event: parsed.data, text: storable ?? text };
}

const UUID = common.event_id._zod.pattern;
const DATETIME = common.occurred_at._zod.pattern;
// Own keys of each event type (strictObject: no others).
const KEY_COUNTS: Readonly<Record<EventType, number>> = {
  order_created: Object.keys(orderCreatedSchema.shape).length,
  item_added: Object.keys(itemAddedSchema.shape).length,
  order_paid: Object.keys(orderPaidSchema.shape).length,
  order_cancelled: Object.keys(orderCancelledSchema.shape).length,
};

const intIn = (value: unknown, min: number, max: number): boolean =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
const nonNegative = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0;
const matches = (value: unknown, pattern: RegExp): boolean =>
  typeof value === "string" && pattern.test(value);

/**
 * True only for a value `orderEventSchema` accepts unchanged (never for one it refuses); false
 * means "ask zod". Each test mirrors a schema rule and reuses its pattern or constant.
 */
export function isValidEvent(json: unknown): json is OrderEvent {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return false;
  const event = json as Record<string, unknown>;
  const type = event.event_type;
  switch (type) {
    case "order_created":
      if (!(CHANNELS as readonly unknown[]).includes(event.channel)) return false;
      break;
    case "item_added":
      if (
        !intIn(event.product_id, 1, MAX_INT4) || !intIn(event.quantity, 1, MAX_QUANTITY) ||
        !nonNegative(event.unit_price) ||
        z.util.floatSafeRemainder(event.unit_price, UNIT_PRICE_STEP) !== 0
      ) return false;
      break;
    case "order_paid":
      if (
        !nonNegative(event.total_amount) ||
        !(PAYMENT_METHODS as readonly unknown[]).includes(event.payment_method)
      ) return false;
      break;
    case "order_cancelled":
      if (!matches(event.reason, STORABLE_TEXT)) return false;
      break;
    default:
      return false;
  }
  if (
    event.schema_version !== SCHEMA_VERSION || !matches(event.event_id, UUID) ||
    !matches(event.order_id, UUID) || !intIn(event.user_id, 1, MAX_INT4) ||
    !matches(event.occurred_at, DATETIME)
  ) return false;
  // Every key of the type's shape is present (checked above); as many own keys means no other.
  let keys = 0;
  for (const name in event) {
    if (!Object.hasOwn(event, name)) return false;
    keys++;
  }
  return keys === KEY_COUNTS[type];
}

/** One line naming each failing field of an event (at most ten, 2,000 characters: it is stored). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return formatIssues(issues, { maxIssues: 10, maxChars: 2000 });
}

/** The JSON Schema (draft 2020-12) generated from `orderEventSchema`, as written to docs/. */
export function eventsJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(orderEventSchema, { target: "draft-2020-12" });
  return {
    $schema: generated.$schema,
    title: "Order event, schema version 1",
    description: "Value of a message on Kafka topic order_events (key = order_id). " +
      "Generated from workers/shared/events.ts by `deno task events:schema`; do not edit. " +
      `The consumer also refuses values over ${MAX_EVENT_BYTES} bytes and keys other than order_id.`,
    ...Object.fromEntries(Object.entries(generated).filter(([key]) => key !== "$schema")),
  };
}
