/**
 * The offline shop: every product, user and cart is a pure function of (seed, scale, as-of day),
 * generated on demand from hashes, so scale 1000 (20,000 products, 10,000 users) costs no stored
 * state and any past day can be asked for again with the same answer.
 *
 * Shape of the history (scale s; day = days since SHOP_EPOCH):
 * - Products: 20·s listed every day. 13·s are permanent (ids 1..13·s); 7·s rotating slots each
 *   hold a product for 7 days, staggered so that s products disappear and s new ones (new ids)
 *   appear every day. Exactly s permanent products change price every day (each one every 13
 *   days); half of the rotating products change price once, mid-life.
 * - Users: 10·s, ids 1..10·s; each moves house now and then (every 30–120 days).
 * - Carts: 1.25·s a day on average, at least s (of 2·s daily slots, the even ones always hold
 *   a cart, the odd ones one day in four), each dated at a random instant of its day; users
 *   whose id ends in 5, 6, 7, 9 or 0 never buy (in the live API users 5, 6, 7, 9 and 10 have
 *   no carts).
 * The live API's quirks are kept: whole prices as JSON integers, an integer `rate`, titles
 * ending in a space or holding ’ ” –, `jewelery`, lat/long strings with trailing zeros, the
 * user's `address` key first, `__v`, and the plaintext `password`.
 */
import { DAY_MS, dayStartMs } from "./calendar.ts";
import { hash32, Stream, unit } from "./prng.ts";
import {
  ADJECTIVES,
  BRANDS,
  CATEGORIES,
  type Category,
  CITIES,
  DESCRIPTION_SENTENCES,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  NOUNS,
  PASSWORD_ALPHABET,
  STREETS,
  TYPOGRAPHIC_SUFFIXES,
} from "./vocabulary.ts";

export interface Product {
  id: number;
  title: string;
  price: number;
  description: string;
  category: Category;
  image: string;
  rating: { rate: number; count: number };
}

export interface User {
  address: {
    geolocation: { lat: string; long: string };
    city: string;
    street: string;
    number: number;
    zipcode: string;
  };
  id: number;
  email: string;
  username: string;
  password: string;
  name: { firstname: string; lastname: string };
  phone: string;
  __v: number;
}

export interface Cart {
  id: number;
  userId: number;
  date: string;
  products: Array<{ productId: number; quantity: number }>;
  __v: number;
}

/** A half-open range of instants [fromMs, toMs). */
export interface InstantRange {
  fromMs: number;
  toMs: number;
}

// Coordinates' first component: what is being generated (keeps the hash streams apart).
const T_PRODUCT = 1;
const T_PRICE = 2;
const T_ROTATING_PRICE = 3;
const T_USER = 4;
const T_ADDRESS = 5;
const T_MOVES = 6;
const T_CART_SLOT = 7;
const T_CART = 8;
const T_CART_USER = 9;

const PERMANENT_PER_SCALE = 13;
const ROTATING_PER_SCALE = 7;
const USERS_PER_SCALE = 10;
const CART_SLOTS_PER_SCALE = 2;
/** Days a rotating product stays listed; also the number of rotating slots per scale unit. */
const ROTATION_DAYS = 7;
/** Days between two price changes of a permanent product. */
const PRICE_PERIOD_DAYS = 13;
/** Users whose id ends in one of these digits buy; the others never have a cart. */
const BUYER_LOCALS = [1, 2, 3, 4, 8] as const;
const PASSWORD_CHARS = [...PASSWORD_ALPHABET];

const PRICE_RANGE: Record<Category, [number, number]> = {
  "men's clothing": [8, 120],
  "jewelery": [9, 900],
  "electronics": [20, 1200],
  "women's clothing": [7, 90],
};

/** Local number (1..13) of a permanent product: its position in its block of 13. */
function productLocal(id: number): number {
  return ((id - 1) % PERMANENT_PER_SCALE) + 1;
}

/** Local number (1..10) of a user: its position in its block of 10. */
function userLocal(id: number): number {
  return ((id - 1) % USERS_PER_SCALE) + 1;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A decimal string with 4 fraction digits, as the live API's lat/long (`"-30.1310"`). */
function coordinate(stream: Stream, maxAbs: number, trailingZero: boolean): string {
  let tenThousandths = stream.int(-maxAbs * 10_000, maxAbs * 10_000);
  if (trailingZero) {
    tenThousandths -= tenThousandths % 10;
    if (tenThousandths % 100 === 0) tenThousandths += tenThousandths < 0 ? -10 : 10;
  }
  const sign = tenThousandths < 0 ? "-" : "";
  const abs = Math.abs(tenThousandths);
  return `${sign}${Math.floor(abs / 10_000)}.${String(abs % 10_000).padStart(4, "0")}`;
}

function digits(stream: Stream, count: number): string {
  let text = String(stream.int(1, 9));
  for (let i = 1; i < count; i++) text += String(stream.int(0, 9));
  return text;
}

interface ProductBase {
  title: string;
  basePrice: number;
  whole: boolean;
  description: string;
  category: Category;
  image: string;
  rating: { rate: number; count: number };
}

/** The shop of one (seed, scale): all reads take the as-of day index. */
export class Shop {
  readonly seed: number;
  readonly scale: number;
  readonly permanentCount: number;
  readonly rotatingCount: number;
  readonly userCount: number;
  readonly cartSlotsPerDay: number;

  constructor(options: { seed: number; scale: number }) {
    if (!Number.isInteger(options.scale) || options.scale < 1) {
      throw new RangeError(`Scale must be a positive integer, got ${options.scale}`);
    }
    this.seed = options.seed | 0;
    this.scale = options.scale;
    this.permanentCount = PERMANENT_PER_SCALE * options.scale;
    this.rotatingCount = ROTATING_PER_SCALE * options.scale;
    this.userCount = USERS_PER_SCALE * options.scale;
    this.cartSlotsPerDay = CART_SLOTS_PER_SCALE * options.scale;
  }

  /** Number of products listed on any day. */
  get productCount(): number {
    return this.permanentCount + this.rotatingCount;
  }

  // ---- products ------------------------------------------------------------------------------

  /** Every product listed on `day`, ascending by id. */
  products(day: number): Product[] {
    const d = Math.max(0, day);
    const ids: number[] = [];
    for (let id = 1; id <= this.permanentCount; id++) ids.push(id);
    for (let slot = 0; slot < this.rotatingCount; slot++) ids.push(this.#rotatingIdAt(slot, d));
    ids.sort((a, b) => a - b);
    return ids.map((id) => this.#product(id, d));
  }

  /** The product `id` if it is listed on `day`, else null. */
  product(id: number, day: number): Product | null {
    const d = Math.max(0, day);
    return this.#isListed(id, d) ? this.#product(id, d) : null;
  }

  /** The id of the product in slot `slot` (0 .. productCount-1) on `day`. */
  #idAtSlot(slot: number, day: number): number {
    return slot < this.permanentCount
      ? slot + 1
      : this.#rotatingIdAt(slot - this.permanentCount, day);
  }

  /** Rotating slot r holds its g-th product during days [7g - r, 7g - r + 7). */
  #rotatingIdAt(slot: number, day: number): number {
    const generation = Math.floor((day + slot) / ROTATION_DAYS);
    return this.permanentCount + 1 + generation * this.rotatingCount + slot;
  }

  #rotatingOf(id: number): { slot: number; generation: number; firstDay: number } {
    const q = id - this.permanentCount - 1;
    const generation = Math.floor(q / this.rotatingCount);
    const slot = q % this.rotatingCount;
    return { slot, generation, firstDay: generation * ROTATION_DAYS - slot };
  }

  #isListed(id: number, day: number): boolean {
    if (!Number.isSafeInteger(id) || id < 1) return false;
    if (id <= this.permanentCount) return true;
    const { firstDay } = this.#rotatingOf(id);
    return day >= firstDay && day < firstDay + ROTATION_DAYS;
  }

  #product(id: number, day: number): Product {
    const base = this.#productBase(id);
    const level = this.#priceLevel(id, day);
    // Alternating parity makes two consecutive levels always differ by at least 4 %.
    const step = 2 * (hash32(this.seed, T_PRICE, id, level) % 4) + (level & 1);
    const factor = 0.85 + 0.04 * step;
    const price = base.whole
      ? Math.round(base.basePrice * factor)
      : round2(base.basePrice * factor);
    return {
      id,
      title: base.title,
      price,
      description: base.description,
      category: base.category,
      image: base.image,
      rating: base.rating,
    };
  }

  #priceLevel(id: number, day: number): number {
    if (id <= this.permanentCount) {
      // Product p changes on days where (day + p) % 13 == 0: exactly `scale` products a day.
      return Math.floor((day + (id % PRICE_PERIOD_DAYS)) / PRICE_PERIOD_DAYS);
    }
    const { firstDay } = this.#rotatingOf(id);
    const changes = unit(this.seed, T_ROTATING_PRICE, id) < 0.5;
    return changes && day - firstDay >= 3 ? 1 : 0;
  }

  #productBase(id: number): ProductBase {
    const s = new Stream(hash32(this.seed, T_PRODUCT, id));
    const permanent = id <= this.permanentCount;
    const local = permanent ? productLocal(id) : 0;
    const category: Category = permanent ? CATEGORIES[(id - 1) % 4]! : s.pick(CATEGORIES);
    let title = `${s.pick(BRANDS)} ${s.pick(ADJECTIVES)} ${s.pick(NOUNS[category])}`;
    // The live API: products 9, 10, 14 hold ’ ” –; 2, 6, 9, 14, 18 end in a space.
    const typographic = permanent ? local === 9 || local === 10 : s.chance(0.15);
    if (typographic) title += s.pick(TYPOGRAPHIC_SUFFIXES);
    const trailingSpace = permanent ? local === 2 || local === 6 || local === 9 : s.chance(0.2);
    if (trailingSpace) title += " ";
    // Whole prices are served as JSON integers (live: 5, 6, 9-13); product 7's rate is `3`.
    const whole = permanent ? [5, 6, 9, 10, 11, 12, 13].includes(local) : s.chance(0.3);
    const [min, max] = PRICE_RANGE[category];
    let basePrice: number;
    if (whole) {
      basePrice = s.int(Math.max(30, min), Math.max(60, max));
    } else {
      const cents = s.int(min * 100, max * 100);
      basePrice = (cents % 100 === 0 ? cents + 49 : cents) / 100;
    }
    const integerRate = permanent ? local === 7 : s.chance(0.1);
    let rate = integerRate ? s.int(1, 5) : s.int(10, 49) / 10;
    if (!integerRate && Number.isInteger(rate)) rate = round2(rate + 0.1);
    const count = s.int(0, 700);
    const sentences = s.int(2, 3);
    const parts: string[] = [];
    for (let i = 0; i < sentences; i++) parts.push(s.pick(DESCRIPTION_SENTENCES));
    const imageKey = hash32(this.seed, T_PRODUCT, id, 1).toString(16).padStart(8, "0");
    return {
      title,
      basePrice,
      whole,
      description: parts.join(" "),
      category,
      image: `https://fakestore.test/img/${imageKey}_t.png`,
      rating: { rate, count },
    };
  }

  // ---- users ---------------------------------------------------------------------------------

  /** Every user as of `day`, ascending by id. */
  users(day: number): User[] {
    const d = Math.max(0, day);
    const users: User[] = [];
    for (let id = 1; id <= this.userCount; id++) users.push(this.#user(id, d));
    return users;
  }

  /** The user `id` as of `day`, or null when there is none. */
  user(id: number, day: number): User | null {
    if (!Number.isSafeInteger(id) || id < 1 || id > this.userCount) return null;
    return this.#user(id, Math.max(0, day));
  }

  #user(id: number, day: number): User {
    const s = new Stream(hash32(this.seed, T_USER, id));
    const firstname = s.pick(FIRST_NAMES);
    const lastname = s.pick(LAST_NAMES);
    const style = s.int(0, 3);
    const username = style === 0
      ? `${firstname}${lastname[0]}${id}`
      : style === 1
      ? `${firstname.slice(0, 3)}_${1000 + id * 7}`
      : style === 2
      ? `${lastname}${id}`
      : `${firstname}_${lastname[0]}${id}`;
    const email = `${username}@${s.pick(EMAIL_DOMAINS)}`;
    let password = "";
    const length = s.int(8, 12);
    for (let i = 0; i < length; i++) password += s.pick(PASSWORD_CHARS);
    password += s.pick(["$", "^", "_", "#", "@", "!"]);
    let phone = `1-${digits(s, 3)}-${digits(s, 3)}-${digits(s, 4)}`;

    const local = userLocal(id);
    const address = this.#address(id, day);
    // Live quirks, repeated in every block of 10 users: 1 and 2 share geolocation and phone,
    // 7, 8 and 9 share a zipcode, and one city is spelled with a lower-case first letter.
    if (local === 2) {
      address.geolocation = { ...this.#address(id - 1, day).geolocation };
      phone = this.#phoneOf(id - 1);
    }
    if (local === 8 || local === 9) {
      address.zipcode = this.#address(id - local + 7, day).zipcode;
    }
    if (local === 4) {
      address.city = address.city.charAt(0).toLowerCase() + address.city.slice(1);
    }
    return {
      address,
      id,
      email,
      username,
      password,
      name: { firstname, lastname },
      phone,
      __v: 0,
    };
  }

  #phoneOf(id: number): string {
    return this.#user(id, 0).phone;
  }

  /** The address of user `id` on `day`: it changes at the user's own moving days. */
  #address(id: number, day: number): User["address"] {
    const period = 30 + (hash32(this.seed, T_MOVES, id) % 91);
    const phase = hash32(this.seed, T_MOVES, id, 1) % period;
    const version = Math.floor((day + phase) / period);
    const s = new Stream(hash32(this.seed, T_ADDRESS, id, version));
    const trailingZero = [1, 3, 5, 6].includes(userLocal(id));
    const lat = coordinate(s, 80, trailingZero);
    const long = coordinate(s, 179, trailingZero);
    return {
      geolocation: { lat, long },
      city: s.pick(CITIES),
      street: s.pick(STREETS),
      number: s.int(1, 9999),
      zipcode: `${digits(s, 5)}-${digits(s, 4)}`,
    };
  }

  // ---- carts ---------------------------------------------------------------------------------

  /** Carts dated in `range` and on or before `asOfDay` (of one user if asked), ascending by id. */
  carts(range: InstantRange, asOfDay: number, options: { userId?: number } = {}): Cart[] {
    const carts: Cart[] = [];
    const { userId } = options;
    if (userId !== undefined && (!Number.isSafeInteger(userId) || userId < 1)) return carts;
    this.#eachCartSlot(range, asOfDay, (day, slot) => {
      // The user is hashed apart from the cart's body: filtering by user builds no other cart.
      if (userId !== undefined && this.#cartUser(day, slot) !== userId) return;
      const cart = this.#cart(day, slot);
      const at = Date.parse(cart.date);
      if (at >= range.fromMs && at < range.toMs) carts.push(cart);
    });
    return carts;
  }

  /** The cart `id` if it exists and is dated on or before `asOfDay`, else null. */
  cart(id: number, asOfDay: number): Cart | null {
    if (!Number.isSafeInteger(id) || id < 1) return null;
    const day = Math.floor((id - 1) / this.cartSlotsPerDay);
    const slot = (id - 1) % this.cartSlotsPerDay;
    if (day > asOfDay || !this.#cartExists(day, slot)) return null;
    return this.#cart(day, slot);
  }

  #eachCartSlot(
    range: InstantRange,
    asOfDay: number,
    visit: (day: number, slot: number) => void,
  ): void {
    const first = Math.max(0, Math.floor((range.fromMs - dayStartMs(0)) / DAY_MS));
    const last = Math.min(asOfDay, Math.floor((range.toMs - 1 - dayStartMs(0)) / DAY_MS));
    for (let day = first; day <= last; day++) {
      for (let slot = 0; slot < this.cartSlotsPerDay; slot++) {
        if (this.#cartExists(day, slot)) visit(day, slot);
      }
    }
  }

  /** Even slots always hold a cart, odd ones one time in four: every day has one at least. */
  #cartExists(day: number, slot: number): boolean {
    return slot % 2 === 0 || unit(this.seed, T_CART_SLOT, day, slot) < 0.25;
  }

  #cartUser(day: number, slot: number): number {
    const h = hash32(this.seed, T_CART_USER, day, slot);
    const block = h % this.scale;
    const local = BUYER_LOCALS[(h >>> 16) % BUYER_LOCALS.length]!;
    return block * USERS_PER_SCALE + local;
  }

  #cart(day: number, slot: number): Cart {
    const s = new Stream(hash32(this.seed, T_CART, day, slot));
    const date = new Date(dayStartMs(day) + s.int(0, DAY_MS - 1)).toISOString();
    const lines = s.int(1, 4);
    const products: Cart["products"] = [];
    const seen = new Set<number>();
    for (let i = 0; i < lines; i++) {
      const productId = this.#idAtSlot(s.int(0, this.productCount - 1), day);
      if (seen.has(productId)) continue;
      seen.add(productId);
      products.push({ productId, quantity: s.pick([1, 1, 1, 2, 2, 3, 4, 5, 10]) });
    }
    return {
      id: day * this.cartSlotsPerDay + slot + 1,
      userId: this.#cartUser(day, slot),
      date,
      products,
      __v: 0,
    };
  }
}
