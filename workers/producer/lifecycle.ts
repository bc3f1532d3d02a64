/**
 * Order lifecycles: each order is `order_created`, then one or more `item_added`, then
 * `order_paid` or `order_cancelled`. A few dozen orders are open at once and advance in an
 * interleaved way, as a shop's traffic does. Every draw comes from the seeded Random, so a seed
 * (and the clock) reproduces the events exactly.
 */
import { CHANNELS, type OrderEvent, PAYMENT_METHODS, SCHEMA_VERSION } from "../shared/mod.ts";
import { type Catalog, type Product, round2 } from "./catalog.ts";
import type { Random } from "./random.ts";

const CANCEL_REASONS = [
  "customer_request",
  "payment_failed",
  "out_of_stock",
  "address_invalid",
  "fraud_suspected",
] as const;

interface OpenOrder {
  orderId: string;
  userId: number;
  items: number;
  totalCents: number;
}

/** Counts of lifecycles so far. */
export interface LifecycleStats {
  started: number;
  paid: number;
  cancelled: number;
}

/** Generates valid events of interleaved order lifecycles. */
export class OrderSimulator {
  readonly stats: LifecycleStats = { started: 0, paid: 0, cancelled: 0 };
  #open: OpenOrder[] = [];
  #random: Random;
  #catalog: Catalog;
  #clock: () => number;
  #maxOpen: number;

  constructor(
    random: Random,
    catalog: Catalog,
    options: { clock?: () => number; maxOpenOrders?: number } = {},
  ) {
    if (catalog.userIds.length === 0 || catalog.products.length === 0) {
      throw new RangeError("Catalog needs at least one user and one product");
    }
    this.#random = random;
    this.#catalog = catalog;
    this.#clock = options.clock ?? Date.now;
    this.#maxOpen = options.maxOpenOrders ?? 40;
  }

  /** Orders started and not yet paid or cancelled. */
  get openOrders(): number {
    return this.#open.length;
  }

  /** The next event of some order (a new one, or one that is open). */
  next(): OrderEvent {
    const random = this.#random;
    const startNew = this.#open.length < 4 ||
      (this.#open.length < this.#maxOpen && random.chance(0.3));
    if (startNew) return this.#create();
    const index = random.int(0, this.#open.length - 1);
    const order = this.#open[index]!;
    if (order.items === 0 || (order.items < 8 && random.chance(0.55))) return this.#addItem(order);
    this.#open.splice(index, 1);
    return random.chance(0.8) ? this.#pay(order) : this.#cancel(order);
  }

  #common(order: OpenOrder) {
    return {
      schema_version: SCHEMA_VERSION as typeof SCHEMA_VERSION,
      event_id: this.#random.uuid(),
      order_id: order.orderId,
      user_id: order.userId,
      occurred_at: new Date(this.#clock()).toISOString(),
    };
  }

  #create(): OrderEvent {
    const order: OpenOrder = {
      orderId: this.#random.uuid(),
      userId: this.#random.pick(this.#catalog.userIds),
      items: 0,
      totalCents: 0,
    };
    this.#open.push(order);
    this.stats.started++;
    return {
      ...this.#common(order),
      event_type: "order_created",
      channel: this.#random.chance(0.35) ? CHANNELS[1] : CHANNELS[0],
    };
  }

  #addItem(order: OpenOrder): OrderEvent {
    const product: Product = this.#random.pick(this.#catalog.products);
    const band = this.#random.weighted({ one: 60, two: 25, few: 12, many: 3 });
    const quantity = band === "one"
      ? 1
      : band === "two"
      ? 2
      : band === "few"
      ? this.#random.int(3, 5)
      : this.#random.int(6, 20);
    order.items++;
    order.totalCents += Math.round(product.price * 100) * quantity;
    return {
      ...this.#common(order),
      event_type: "item_added",
      product_id: product.id,
      quantity,
      unit_price: round2(product.price),
    };
  }

  #pay(order: OpenOrder): OrderEvent {
    this.stats.paid++;
    return {
      ...this.#common(order),
      event_type: "order_paid",
      total_amount: order.totalCents / 100,
      payment_method: this.#random.weighted({
        card: 65,
        paypal: 25,
        voucher: 10,
      }) as typeof PAYMENT_METHODS[number],
    };
  }

  #cancel(order: OpenOrder): OrderEvent {
    this.stats.cancelled++;
    return {
      ...this.#common(order),
      event_type: "order_cancelled",
      reason: this.#random.pick(CANCEL_REASONS),
    };
  }

  /** A standalone event outside any lifecycle (raw material for malformed messages). */
  orphan(): OrderEvent {
    const order: OpenOrder = {
      orderId: this.#random.uuid(),
      userId: this.#random.pick(this.#catalog.userIds),
      items: 1,
      totalCents: 0,
    };
    return {
      ...this.#common(order),
      event_type: "order_cancelled",
      reason: this.#random.pick(CANCEL_REASONS),
    };
  }
}
