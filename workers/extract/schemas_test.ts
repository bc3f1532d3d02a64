/** Unit: the record schemas accept every quirk of the contract and reject each missing field. */
import assert from "node:assert/strict";
import { removeSecrets } from "./http_client.ts";
import { RecordValidator, validateRecords } from "./schemas.ts";

// Records as the live API serves them, quirks included (docs/fakestore-contract.md).
const liveProduct = () => ({
  id: 9,
  title: "WD 2TB Elements Portable External Hard Drive – USB 3.0 ",
  price: 64,
  description: "USB 3.0 and USB 2.0 compatibility Fast data transfers",
  category: "electronics",
  image: "https://fakestoreapi.com/img/61IBBVJvSDL._AC_SY879_t.png",
  rating: { rate: 3.3, count: 203 },
});

const liveUser = () => ({
  address: {
    geolocation: { lat: "-37.3159", long: "81.1496" },
    city: "kilcoole",
    street: "new road",
    number: 7682,
    zipcode: "12926-3874",
  },
  id: 1,
  email: "john@gmail.com",
  username: "johnd",
  password: "m38rmF$",
  name: { firstname: "john", lastname: "doe" },
  phone: "1-570-236-7033",
  __v: 0,
});

const liveCart = () => ({
  id: 1,
  userId: 1,
  date: "2020-03-02T00:00:00.000Z",
  products: [{ productId: 1, quantity: 4 }, { productId: 2, quantity: 1 }],
  __v: 0,
});

Deno.test("products: whole prices, integer rates, trailing spaces and typographic characters pass as sent", () => {
  const records = [
    liveProduct(),
    {
      ...liveProduct(),
      id: 7,
      price: 9.99,
      rating: { rate: 3, count: 400 },
      title: "“Quoted” ring ",
    },
    { ...liveProduct(), id: 2, title: "Mens Casual Premium Slim Fit T-Shirts ", price: 22.3 },
  ];
  const result = validateRecords("products", records);
  assert.equal(result.rejected.length, 0);
  assert.deepEqual(result.valid.map((r) => r.recordId), [9, 7, 2]);
  // Payloads are the records as received: no trimming, no casting.
  assert.equal(
    result.valid[0]!.payload.title,
    "WD 2TB Elements Portable External Hard Drive – USB 3.0 ",
  );
  assert.equal(result.valid[0]!.payload.price, 64);
  assert.deepEqual(result.drift, {});
});

Deno.test("users: address first, string lat/long with trailing zeros, __v; password stripped first", () => {
  const user = {
    ...liveUser(),
    address: { ...liveUser().address, geolocation: { lat: "-30.1310", long: "40.3700" } },
  };
  assert.equal(removeSecrets(user), 1);
  const result = validateRecords("users", [user]);
  assert.equal(result.rejected.length, 0);
  const payload = result.valid[0]!.payload as ReturnType<typeof liveUser>;
  assert.equal(payload.address.geolocation.lat, "-30.1310");
  assert.equal(payload.address.zipcode, "12926-3874");
  assert.equal("password" in payload, false);
  assert.equal(Object.keys(payload)[0], "address");
  assert.deepEqual(result.drift, {}, "__v is known, password is gone: no drift");
});

Deno.test("carts: ISO dates with ms, lines of productId/quantity", () => {
  const result = validateRecords("carts", [liveCart(), { ...liveCart(), id: 2, __v: undefined }]);
  assert.equal(result.rejected.length, 0);
  assert.equal(result.valid.length, 2);
});

const REQUIRED: Record<
  "products" | "users" | "carts",
  { make: () => Record<string, unknown>; paths: string[][] }
> = {
  products: {
    make: liveProduct,
    paths: [["id"], ["title"], ["price"], ["description"], ["category"], ["image"], ["rating"], [
      "rating",
      "rate",
    ], ["rating", "count"]],
  },
  users: {
    make: liveUser,
    paths: [
      ["address"],
      ["address", "geolocation"],
      ["address", "geolocation", "lat"],
      ["address", "geolocation", "long"],
      ["address", "city"],
      ["address", "street"],
      ["address", "number"],
      ["address", "zipcode"],
      ["id"],
      ["email"],
      ["username"],
      ["name"],
      ["name", "firstname"],
      ["name", "lastname"],
      ["phone"],
    ],
  },
  carts: {
    make: liveCart,
    paths: [["id"], ["userId"], ["date"], ["products"], ["products", "0", "productId"], [
      "products",
      "0",
      "quantity",
    ]],
  },
};

for (const [entity, { make, paths }] of Object.entries(REQUIRED)) {
  Deno.test(`${entity}: each required field missing is rejected, naming the field`, () => {
    for (const path of paths) {
      const record = structuredClone(make()) as Record<string, unknown>;
      let parent: Record<string, unknown> = record;
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
      delete parent[path.at(-1)!];
      const result = validateRecords(entity as "products", [record]);
      assert.equal(result.valid.length, 0, `missing ${path.join(".")} must be rejected`);
      assert.equal(result.rejected.length, 1);
      assert.match(result.rejected[0]!.reason, new RegExp(path.join("\\.")), path.join("."));
    }
  });
}

Deno.test("types as sent: a numeric lat, a string price, a float id are rejected", () => {
  const user = liveUser();
  (user.address.geolocation as Record<string, unknown>).lat = -37.3159;
  assert.equal(validateRecords("users", [user]).rejected.length, 1);
  assert.equal(validateRecords("products", [{ ...liveProduct(), price: "64" }]).rejected.length, 1);
  assert.equal(validateRecords("carts", [{ ...liveCart(), id: 1.5 }]).rejected.length, 1);
  assert.equal(
    validateRecords("carts", [{ ...liveCart(), date: "2020-03-02" }]).rejected.length,
    1,
  );
});

Deno.test("extra fields are tolerated, landed as received and counted as drift", () => {
  const product = { ...liveProduct(), stock: 3, rating: { rate: 4.1, count: 7, source: "x" } };
  const cart = { ...liveCart(), products: [{ productId: 1, quantity: 1, price: 9.5 }] };
  const products = validateRecords("products", [product, { ...product, id: 10 }]);
  assert.equal(products.rejected.length, 0);
  assert.equal(products.valid[0]!.payload.stock, 3);
  assert.deepEqual(products.drift, { stock: 2, "rating.source": 2 });
  assert.deepEqual(validateRecords("carts", [cart]).drift, { "products.[].price": 1 });
});

Deno.test("a repeated id lands once when identical and is rejected when different", () => {
  const same = validateRecords("carts", [liveCart(), liveCart()]);
  assert.equal(same.valid.length, 1);
  assert.equal(same.duplicatesCollapsed, 1);
  const different = validateRecords("carts", [liveCart(), { ...liveCart(), userId: 2 }]);
  assert.equal(different.valid.length, 0);
  assert.equal(different.rejected.length, 2);
  assert.match(different.rejected[0]!.reason, /appears 2 times/);
});

Deno.test("streaming: a conflict found late rejects every copy, first one from the caller, in id order of first appearance", () => {
  const validator = new RecordValidator("carts");
  const drifting = { ...liveCart(), id: 5, note: "x" };
  const handed: number[] = [];
  const inputs = [drifting, { ...liveCart(), id: 6 }, { ...liveCart(), id: 6, userId: 3 }, {
    ...drifting,
    userId: 2,
  }, drifting];
  inputs.forEach((record, index) => {
    const valid = validator.check(record, index);
    if (valid !== undefined) handed.push(valid.recordId);
  });
  assert.deepEqual(handed, [5, 6], "each id handed on once, when first seen");
  assert.deepEqual(validator.conflictingIds().sort(), [5, 6]);
  // The first copies have left (to COPY): the caller gives them back, here changed on purpose to
  // prove they come from it.
  const summary = validator.finish(
    new Map<number, unknown>([[5, { ...drifting, from: "caller" }], [6, { ...liveCart(), id: 6 }]]),
  );
  assert.deepEqual(summary.rejected.map((r) => r.reason), [
    "id 5 appears 3 times with different payloads",
    "id 5 appears 3 times with different payloads",
    "id 5 appears 3 times with different payloads",
    "id 6 appears 2 times with different payloads",
    "id 6 appears 2 times with different payloads",
  ]);
  assert.equal((summary.rejected[0]!.payload as { from?: string }).from, "caller");
  assert.deepEqual(summary.drift, {}, "a rejected id's extra fields are not drift");
  assert.equal(summary.duplicatesCollapsed, 0);
  assert.deepEqual([...summary.conflicting].sort(), [5, 6]);
});

Deno.test("a record that is not an object is rejected with its position", () => {
  const result = validateRecords("products", [liveProduct(), "oops", null]);
  assert.equal(result.valid.length, 1);
  assert.deepEqual(result.rejected.map((r) => r.recordKey), ["#1", "#2"]);
});

Deno.test("the secret strip keeps every live Fake Store field: only the user's password goes", () => {
  const records = [liveProduct(), liveUser(), liveCart()];
  const before = structuredClone(records);
  assert.equal(removeSecrets(records), 1);
  const { password: _password, ...userWithoutPassword } = before[1] as ReturnType<typeof liveUser>;
  assert.deepEqual(records, [before[0], userWithoutPassword, before[2]]);
});
