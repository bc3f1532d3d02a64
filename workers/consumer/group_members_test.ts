import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { AssignerProtocol } from "kafkajs";
import { memberLines, memberPartitions, ownerByPartition } from "./group_members.ts";

const assigned = (assignment: Record<string, number[]>): Buffer =>
  AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) });

const MEMBERS = [
  {
    clientId: "order-events-consumer-2",
    clientHost: "/127.0.0.1",
    memberAssignment: assigned({ order_events: [5, 3, 4], other: [0] }),
  },
  {
    clientId: "order-events-consumer",
    clientHost: "/127.0.0.1",
    memberAssignment: assigned({ order_events: [2, 0, 1] }),
  },
  {
    clientId: "order-events-consumer-3",
    clientHost: "/10.0.0.7",
    memberAssignment: Buffer.alloc(0),
  },
];

Deno.test("each member's partitions of the topic are decoded, sorted, by client id", () => {
  assertEquals(memberPartitions(MEMBERS, "order_events"), [
    { client_id: "order-events-consumer", host: "127.0.0.1", partitions: [0, 1, 2] },
    { client_id: "order-events-consumer-2", host: "127.0.0.1", partitions: [3, 4, 5] },
    { client_id: "order-events-consumer-3", host: "10.0.0.7", partitions: [] },
  ]);
});

Deno.test("the owner of each partition is named by client id and host", () => {
  const owners = ownerByPartition(memberPartitions(MEMBERS, "order_events"));
  assertEquals(owners.get(4), "order-events-consumer-2 (127.0.0.1)");
  assertEquals(owners.get(0), "order-events-consumer (127.0.0.1)");
  assertEquals(owners.size, 6);
});

Deno.test("a member without partitions shows none", () => {
  const lines = memberLines("loader", "Stable", memberPartitions(MEMBERS, "order_events"));
  assertEquals(lines[0], "group loader: Stable, 3 member(s)");
  assertEquals(lines[3], "  order-events-consumer-3 (10.0.0.7) owns partition(s) none");
  assertEquals(lines[2], "  order-events-consumer-2 (127.0.0.1) owns partition(s) 3,4,5");
});
