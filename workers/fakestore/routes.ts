/**
 * The HTTP surface of the offline Fake Store API: the live API's routes, parameters, status
 * codes, headers and JSON shapes (pinned in tests/extract/fixtures/fakestore_contract.json,
 * explained in docs/fakestore-contract.md; docs/decisions/0020), answered from the
 * deterministic shop as of the day a request names (X-Fakestore-As-Of or ?as_of=, default today),
 * plus `/__health` and the test faults of faults.ts.
 */
import type { Logger } from "../shared/mod.ts";
import { dayIndexOf, dayStartMs, dayToDate, parseDateOnly } from "./calendar.ts";
import { FaultBook, FaultHeaderError, mutateBody, outagePage, parseFault } from "./faults.ts";
import type { Shop } from "./shop.ts";
import { CATEGORIES } from "./vocabulary.ts";

/** The header (and query parameter `as_of`) naming the day to answer for; the live API ignores it. */
export const AS_OF_HEADER = "x-fakestore-as-of";

const JSON_TYPE = "application/json; charset=utf-8";
/** The live API lists its categories alphabetically; CATEGORIES keeps the generator's order. */
const CATEGORY_LIST = [...CATEGORIES].sort();
const HTML_TYPE = "text/html; charset=utf-8";
const DATE_FORMAT_ERROR = {
  status: "error",
  message: "date format is not correct. it should be in yyyy-mm-dd format",
};

interface Context {
  shop: Shop;
  faults: FaultBook;
  logger: Logger;
  now: () => number;
  jwtKey: Promise<CryptoKey>;
}

/** A JSON answer before faults and serialisation; `undefined` json means an empty body. */
interface Answer {
  status: number;
  json: unknown;
}

class HttpProblem extends Error {
  constructor(readonly status: number, readonly body: string, readonly contentType: string) {
    super(body);
  }
}

function badRequest(message: string): HttpProblem {
  return new HttpProblem(400, JSON.stringify({ status: "error", message }), JSON_TYPE);
}

function expressNotFound(method: string, pathname: string): HttpProblem {
  const body = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<title>Error</title>\n</head>\n<body>\n<pre>Cannot ${method} ${pathname}</pre>\n` +
    `</body>\n</html>\n`;
  return new HttpProblem(404, body, HTML_TYPE);
}

function baseHeaders(contentType: string, asOf: string | undefined): Headers {
  const headers = new Headers({
    "content-type": contentType,
    "access-control-allow-origin": "*",
  });
  if (asOf !== undefined) headers.set(AS_OF_HEADER, asOf);
  return headers;
}

/** `Number(limit) || 0`, as the live server reads it; 0 means no limit. */
function applyLimitSort<T extends { id: number }>(items: T[], params: URLSearchParams): T[] {
  const sorted = params.get("sort") === "desc" ? [...items].reverse() : items;
  const limit = Math.abs(Math.trunc(Number(params.get("limit")) || 0));
  return limit > 0 ? sorted.slice(0, limit) : sorted;
}

/** The cart filter: startdate inclusive, enddate exclusive, `YYYY-MM-DD` only (else 400). */
function cartRange(params: URLSearchParams, asOfDay: number): { fromMs: number; toMs: number } {
  const start = params.get("startdate");
  const end = params.get("enddate");
  const fromMs = start ? parseDateOnly(start) : 0;
  const toMs = end ? parseDateOnly(end) : dayStartMs(asOfDay + 1);
  if (fromMs === undefined || toMs === undefined) {
    throw new HttpProblem(400, JSON.stringify(DATE_FORMAT_ERROR), JSON_TYPE);
  }
  return { fromMs, toMs };
}

/** A path segment decoded; a malformed %-escape matches no category rather than failing. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function parseId(text: string): number | undefined {
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

async function readJsonBody(request: Request): Promise<Record<string, unknown> | undefined> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().includes("application/json")) return undefined;
  try {
    const body: unknown = await request.json();
    return typeof body === "object" && body !== null && !Array.isArray(body)
      ? body as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

function base64Url(bytes: Uint8Array | string): string {
  const binary = typeof bytes === "string"
    ? String.fromCharCode(...new TextEncoder().encode(bytes))
    : String.fromCharCode(...bytes);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function signJwt(key: CryptoKey, payload: Record<string, unknown>): Promise<string> {
  const head = base64Url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = base64Url(JSON.stringify(payload));
  const signature = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`${head}.${body}`),
  );
  return `${head}.${body}.${base64Url(new Uint8Array(signature))}`;
}

type Entity = "products" | "users" | "carts";

function recordOf(ctx: Context, entity: Entity, id: number, day: number) {
  if (entity === "products") return ctx.shop.product(id, day);
  if (entity === "users") return ctx.shop.user(id, day);
  return ctx.shop.cart(id, day);
}

async function route(
  ctx: Context,
  request: Request,
  url: URL,
  asOfDay: number,
): Promise<Answer> {
  const method = request.method;
  const segments = url.pathname.split("/").filter((part) => part !== "");
  const params = url.searchParams;
  const [first, second, third] = segments;
  const entity = first === "products" || first === "users" || first === "carts"
    ? first as Entity
    : undefined;

  if (method === "GET") {
    if (first === "__health" && segments.length === 1) {
      return {
        status: 200,
        json: {
          status: "ok",
          seed: ctx.shop.seed,
          scale: ctx.shop.scale,
          asOf: dayToDate(asOfDay),
        },
      };
    }
    if (entity === "products") {
      if (segments.length === 1) {
        return { status: 200, json: applyLimitSort(ctx.shop.products(asOfDay), params) };
      }
      if (second === "categories" && segments.length === 2) {
        return { status: 200, json: CATEGORY_LIST };
      }
      if (second === "category" && third !== undefined && segments.length === 3) {
        const category = safeDecode(third);
        const products = ctx.shop.products(asOfDay).filter((p) => p.category === category);
        return { status: 200, json: applyLimitSort(products, params) };
      }
      if (second !== undefined && segments.length === 2) {
        const id = parseId(second);
        // Live: /products/abc answers 200 with an empty body; an unknown id answers null.
        if (id === undefined) return { status: 200, json: undefined };
        return { status: 200, json: ctx.shop.product(id, asOfDay) };
      }
    }
    if (entity === "users") {
      if (segments.length === 1) {
        return { status: 200, json: applyLimitSort(ctx.shop.users(asOfDay), params) };
      }
      if (second !== undefined && segments.length === 2) {
        const id = parseId(second);
        if (id === undefined) throw badRequest("user id should be provided");
        return { status: 200, json: ctx.shop.user(id, asOfDay) };
      }
    }
    if (entity === "carts") {
      if (segments.length === 1) {
        const carts = ctx.shop.carts(cartRange(params, asOfDay), asOfDay);
        return { status: 200, json: applyLimitSort(carts, params) };
      }
      if (second === "user" && third !== undefined && segments.length === 3) {
        const userId = parseId(third);
        if (userId === undefined) throw badRequest("user id should be provided");
        return {
          status: 200,
          json: ctx.shop.carts(cartRange(params, asOfDay), asOfDay, { userId }),
        };
      }
      if (second !== undefined && segments.length === 2) {
        const id = parseId(second);
        if (id === undefined) throw badRequest("cart id should be provided");
        return { status: 200, json: ctx.shop.cart(id, asOfDay) };
      }
    }
  }

  if (method === "POST" && first === "auth" && second === "login" && segments.length === 2) {
    const body = await readJsonBody(request);
    if (!body || typeof body.username !== "string" || typeof body.password !== "string") {
      throw new HttpProblem(
        400,
        "username and password are not provided in JSON format",
        HTML_TYPE,
      );
    }
    const user = ctx.shop.users(asOfDay).find((u) =>
      u.username === body.username && u.password === body.password
    );
    if (!user) throw new HttpProblem(401, "username or password is incorrect", HTML_TYPE);
    const token = await signJwt(await ctx.jwtKey, {
      sub: user.id,
      user: user.username,
      iat: Math.floor(ctx.now() / 1000),
    });
    return { status: 201, json: { token } };
  }

  // Writes are fake, as on the live API: nothing is stored, ids are made up.
  if (entity !== undefined && segments.length === 1 && method === "POST") {
    const body = (await readJsonBody(request)) ?? {};
    const nextId = entity === "products"
      ? ctx.shop.productCount + 1
      : entity === "users"
      ? ctx.shop.userCount + 1
      : (asOfDay + 1) * ctx.shop.cartSlotsPerDay + 1;
    return { status: 201, json: { id: nextId, ...body } };
  }
  if (entity !== undefined && segments.length === 2 && second !== undefined) {
    const id = parseId(second);
    if (method === "PUT" || method === "PATCH") {
      const body = (await readJsonBody(request)) ?? {};
      return { status: 200, json: { ...body, id: id ?? second } };
    }
    if (method === "DELETE") {
      return { status: 200, json: id === undefined ? null : recordOf(ctx, entity, id, asOfDay) };
    }
  }
  throw expressNotFound(method, url.pathname);
}

/** Builds the request handler of the server for `shop`. */
export function createHandler(
  shop: Shop,
  options: { logger: Logger; now?: () => number },
): (request: Request) => Promise<Response> {
  const ctx: Context = {
    shop,
    faults: new FaultBook(),
    logger: options.logger,
    now: options.now ?? Date.now,
    jwtKey: crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(`fakestore-jwt-${shop.seed}`),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    ),
  };

  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const started = performance.now();
    let asOf: string | undefined;
    try {
      if (request.method === "OPTIONS") {
        return new Response(null, {
          status: 204,
          headers: {
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
            "access-control-allow-headers": request.headers.get("access-control-request-headers") ??
              "*",
          },
        });
      }
      const asOfText = request.headers.get(AS_OF_HEADER) ?? url.searchParams.get("as_of");
      const asOfMs = asOfText === null ? ctx.now() : parseDateOnly(asOfText);
      if (asOfMs === undefined) {
        throw badRequest("as-of date is not correct. it should be in yyyy-mm-dd format");
      }
      const asOfDay = dayIndexOf(asOfMs);
      asOf = new Date(asOfMs).toISOString().slice(0, 10);

      const fault = url.pathname === "/__health" ? undefined : parseFault(request.headers);
      const fire = fault !== undefined && ctx.faults.take(fault, url.pathname);
      if (fault && fire) {
        ctx.logger.debug("Injecting fault", { kind: fault.kind, id: fault.id, path: url.pathname });
        switch (fault.kind) {
          case "5xx":
            return new Response(outagePage(fault.status), {
              status: fault.status,
              headers: baseHeaders(HTML_TYPE, undefined),
            });
          case "429": {
            const headers = baseHeaders("text/plain; charset=utf-8", undefined);
            headers.set("retry-after", String(fault.retryAfterSeconds));
            return new Response("Too Many Requests", { status: 429, headers });
          }
          case "html":
            return new Response(outagePage(522), {
              status: 200,
              headers: baseHeaders(HTML_TYPE, undefined),
            });
          case "slow":
            await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
            break;
          default:
            break;
        }
      }

      const answer = await route(ctx, request, url, asOfDay);
      let json = answer.json;
      if (fault && fire && (fault.kind === "missing-field" || fault.kind === "extra-field")) {
        json = mutateBody(fault.kind, json);
      }
      let text = json === undefined ? "" : JSON.stringify(json);
      if (fault && fire && fault.kind === "truncated") {
        text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
      }
      return new Response(text, { status: answer.status, headers: baseHeaders(JSON_TYPE, asOf) });
    } catch (error) {
      if (error instanceof HttpProblem) {
        return new Response(error.body, {
          status: error.status,
          headers: baseHeaders(error.contentType, asOf),
        });
      }
      if (error instanceof FaultHeaderError) {
        return new Response(JSON.stringify({ status: "error", message: error.message }), {
          status: 400,
          headers: baseHeaders(JSON_TYPE, asOf),
        });
      }
      ctx.logger.error("Request failed", { path: url.pathname, error });
      return new Response("Internal Server Error", { status: 500 });
    } finally {
      ctx.logger.debug("Request", {
        method: request.method,
        path: url.pathname,
        ms: Math.round(performance.now() - started),
      });
    }
  };
}
