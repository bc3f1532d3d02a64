/**
 * The event simulator against real services: the catalog comes from the Fake Store server (or
 * the fallback ranges when it is unreachable), rate 0 switches it off, and a broker restart
 * mid-run loses and doubles nothing. Lifecycles, seeds and chaos knobs are tested beside the
 * code (workers/producer/*_test.ts).
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { createLogger, RetriableError } from "../../workers/shared/mod.ts";
import { fetchCatalog, loadCatalog } from "../../workers/producer/catalog.ts";
import { Random } from "../../workers/producer/random.ts";
import {
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  createTopic,
  deleteTopics,
  env,
  isTestInstance,
  restartService,
  streamNames,
  topicEnd,
  waitCaughtUp,
  waitFor,
  workerCommand,
} from "./helpers.ts";
import type { Manifest } from "../../workers/producer/publisher.ts";

const logger = createLogger("producer-test", { level: "error" });
Deno.test("catalog: users and products from the Fake Store server, fallback when unreachable", async () => {
  const baseUrl = env.FAKESTORE_BASE_URL ?? "http://127.0.0.1:3000";
  const catalog = await fetchCatalog(baseUrl, { timeoutMs: 10_000 });
  assertEquals(catalog.source, "fakestore");
  assert(catalog.userIds.length >= 10 && catalog.products.length >= 20);
  const cents = (price: number) => Math.abs(Math.round(price * 100) - price * 100) < 1e-6;
  assert(catalog.products.every((p) => p.price >= 0 && cents(p.price)), "prices in cents");
  const nowhere = {
    baseUrl: "http://127.0.0.1:9/",
    users: { from: 1, to: 4 },
    products: { from: 5, to: 9 },
    random: new Random("x"),
    logger,
    timeoutMs: 500,
  };
  const unreachable = await loadCatalog("auto", nowhere);
  assertEquals(unreachable.source, "fallback");
  assertEquals(unreachable.userIds, [1, 2, 3, 4]);
  assertEquals(unreachable.products.map((p) => p.id), [5, 6, 7, 8, 9]);
  await rejects(
    loadCatalog("fakestore", nowhere),
    (error: unknown) =>
      error instanceof RetriableError &&
      error.message === "Fake Store not reachable at http://127.0.0.1:9/",
  );
});

Deno.test("rate 0 switches the simulator off", async () => {
  const output = await workerCommand("producer/main.ts", ["--rate", "0"], {
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(output.code, 0);
  assert(new TextDecoder().decode(output.stderr).includes("switched off"));
});

Deno.test({
  name: "producer resilience: a broker restart mid-run loses and doubles nothing",
  ignore: !isTestInstance,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { topic, group } = streamNames("producer");
    await createTopic(topic);
    const manifestPath = await Deno.makeTempFile({ suffix: ".json" });
    const producer = workerCommand("producer/main.ts", [
      "--topic",
      topic,
      "--rate",
      "400",
      "--count",
      "4000",
      "--seed",
      `resilience-${topic}`,
      "--catalog",
      "fallback",
      "--manifest",
      manifestPath,
    ], { write: true, env: { LOG_LEVEL: "warn" }, stdout: "null", stderr: "piped" }).spawn();
    try {
      await waitFor(async () => (await topicEnd(topic)) >= 1_000, {
        timeoutMs: 30_000,
        message: "producer did not start sending",
      });
      console.log("restarting the broker while the producer sends");
      await restartService("kafka");
      const status = await producer.output();
      const stderr = new TextDecoder().decode(status.stderr);
      assertEquals(status.code, 0, `producer failed:\n${stderr.slice(-2000)}`);
      const manifest = JSON.parse(await Deno.readTextFile(manifestPath)) as Manifest;
      assertEquals(manifest.acknowledged.total, 4_000);
      // Read the topic back through the real consumer and reconcile with the manifest.
      const consumer = new ConsumerProcess(topic, group);
      await waitCaughtUp(group, topic, 60_000, [consumer], manifest.acknowledged.total);
      assertEquals(await consumer.stop(), 0);
      await assertMatchesManifest(topic, manifest, {
        exactDuplicates: manifest.resent_batches === 0,
      });
    } finally {
      await Deno.remove(manifestPath).catch(() => {});
      await deleteTopics(topic);
      await closeSql();
    }
  },
});
