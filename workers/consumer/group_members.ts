/**
 * The consumer group's members and the partitions each owns, from the broker's group
 * description, for `make status` (workers/consumer/status.ts).
 */
import { AssignerProtocol, type MemberDescription } from "kafkajs";

/** One member of the group and its partitions of the topic. */
export interface MemberPartitions {
  client_id: string;
  /** Where the member connects from, as the broker saw it (no leading slash). */
  host: string;
  partitions: number[];
}

/** Each member's partitions of `topic` (decoded from its assignment), sorted by client id. */
export function memberPartitions(
  members: readonly Pick<MemberDescription, "clientId" | "clientHost" | "memberAssignment">[],
  topic: string,
): MemberPartitions[] {
  return members.map((member) => {
    // An empty assignment (a member joining, the group rebalancing) decodes to null.
    const decoded = member.memberAssignment.length > 0
      ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment)
      : null;
    return {
      client_id: member.clientId,
      host: member.clientHost.replace(/^\//, ""),
      partitions: [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b),
    };
  }).sort((a, b) => a.client_id.localeCompare(b.client_id) || a.host.localeCompare(b.host));
}

/** Partition -> "client id (host)" of the member that owns it. */
export function ownerByPartition(members: readonly MemberPartitions[]): Map<number, string> {
  const owners = new Map<number, string>();
  for (const member of members) {
    for (const partition of member.partitions) {
      owners.set(partition, `${member.client_id} (${member.host})`);
    }
  }
  return owners;
}

/** One line per member: who owns which partitions ("none" while it waits for a rebalance). */
export function memberLines(group: string, state: string, members: MemberPartitions[]): string[] {
  const head = `group ${group}: ${state}, ${members.length} member(s)`;
  return [
    head,
    ...members.map((m) =>
      `  ${m.client_id} (${m.host}) owns partition(s) ${m.partitions.join(",") || "none"}`
    ),
  ];
}
