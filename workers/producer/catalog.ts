/**
 * The users and products orders are made of: read from the Fake Store server (GET /users and
 * GET /products), or, when it cannot be reached and a fallback is allowed, from id ranges with
 * prices drawn from the seed. Only ids and prices are used; whether they still exist when the
 * warehouse joins them is the warehouse's concern (unknown members).
 */
import ky from "ky";
import { z } from "zod";
import { errorChain, type Logger, RetriableError } from "../shared/mod.ts";
import type { Random } from "./random.ts";

/** A product an order line can reference. */
export interface Product {
  id: number;
  price: number;
}

/** Users and products to draw from, and where they came from. */
export interface Catalog {
  source: "fakestore" | "fallback";
  userIds: number[];
  products: Product[];
}

/** An inclusive id range such as "1-10". */
export interface IdRange {
  from: number;
  to: number;
}

const usersSchema = z.array(z.looseObject({ id: z.int().min(1) })).min(1);
const productsSchema = z.array(z.looseObject({ id: z.int().min(1), price: z.number().min(0) }))
  .min(1);

/** Parses "1-10" (or "7") into an inclusive range. */
export function parseIdRange(text: string): IdRange {
  const match = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(text);
  if (!match) throw new RangeError(`Id range must look like 1-10, got ${JSON.stringify(text)}`);
  const from = Number(match[1]);
  const to = Number(match[2] ?? match[1]);
  if (from < 1 || to < from) throw new RangeError(`Id range must be ascending from 1, got ${text}`);
  return { from, to };
}

/** Reads users and products from the Fake Store server at `baseUrl`. */
export async function fetchCatalog(
  baseUrl: string,
  options: { timeoutMs: number },
): Promise<Catalog> {
  const client = ky.create({
    prefix: baseUrl,
    timeout: Math.min(5_000, options.timeoutMs),
    retry: { limit: 0 },
  });
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 1;; attempt++) {
    try {
      const [users, products] = await Promise.all([
        client.get("users").json<unknown>(),
        client.get("products").json<unknown>(),
      ]);
      return {
        source: "fakestore",
        userIds: usersSchema.parse(users).map((user) => user.id),
        products: productsSchema.parse(products).map((p) => ({ id: p.id, price: round2(p.price) })),
      };
    } catch (error) {
      if (error instanceof z.ZodError) {
        throw new Error(`Fake Store answered with an unexpected shape at ${baseUrl}`, {
          cause: error,
        });
      }
      if (Date.now() + 1_000 >= deadline) {
        throw new RetriableError(`Fake Store not reachable at ${baseUrl}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 250 * attempt)));
    }
  }
}

/** A catalog from id ranges, prices drawn from `random` (0.99 … 999.99). */
export function fallbackCatalog(users: IdRange, products: IdRange, random: Random): Catalog {
  const ids = (range: IdRange) =>
    Array.from({ length: range.to - range.from + 1 }, (_, i) => range.from + i);
  return {
    source: "fallback",
    userIds: ids(users),
    products: ids(products).map((id) => ({ id, price: random.int(99, 99_999) / 100 })),
  };
}

/** The Fake Store's catalog, or (mode "auto") the fallback when the server is unreachable. */
export async function loadCatalog(
  mode: "auto" | "fakestore" | "fallback",
  options: {
    baseUrl: string;
    users: IdRange;
    products: IdRange;
    random: Random;
    logger: Logger;
    timeoutMs: number;
  },
): Promise<Catalog> {
  if (mode === "fallback") return fallbackCatalog(options.users, options.products, options.random);
  try {
    return await fetchCatalog(options.baseUrl, { timeoutMs: options.timeoutMs });
  } catch (error) {
    if (mode === "fakestore" || !(error instanceof RetriableError)) throw error;
    options.logger.warn("Fake Store not reachable; using the fallback id ranges", {
      base_url: options.baseUrl,
      users: options.users,
      products: options.products,
      error: errorChain(error),
    });
    return fallbackCatalog(options.users, options.products, options.random);
  }
}

/** `value` rounded to cents. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
