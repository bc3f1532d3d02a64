import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { groupProblem } from "./health.ts";

Deno.test("groupProblem: a group with members that is stable or rebalancing is healthy", () => {
  for (const state of ["Stable", "PreparingRebalance", "CompletingRebalance"]) {
    assertEquals(groupProblem("loader", { state, members: [{}] }), null, state);
  }
});

Deno.test("groupProblem names the group, its state and member count when unhealthy", () => {
  assertEquals(
    groupProblem("loader", { state: "Empty", members: [] }),
    "Consumer group loader is unhealthy: state Empty, 0 members",
  );
  assertEquals(
    groupProblem("loader", { state: "Stable", members: [] }),
    "Consumer group loader is unhealthy: state Stable, 0 members",
  );
  assertEquals(
    groupProblem("loader", { state: "Dead", members: [{}] }),
    "Consumer group loader is unhealthy: state Dead, 1 members",
  );
  assertEquals(groupProblem("loader", undefined), "Consumer group loader is unknown to the broker");
});
