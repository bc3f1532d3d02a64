/**
 * The grant matrix of docs/operations.md ("Grant matrix") as data: one row per object, one set
 * of privileges per role. grants_test.ts compares it with the database.
 */

/** The roles the matrix has a column for, in the table's order. */
export const ROLES = ["loader", "transformer", "analyst", "raw_owner"] as const;
export type Role = typeof ROLES[number];

/** The kind of object a row is about. */
export type Kind = "role" | "database" | "schema" | "table" | "sequence" | "function";

/** One row: `schema`/`name` are null where the kind has none; name "*" is the wildcard row. */
export interface MatrixRow {
  kind: Kind;
  schema: string | null;
  name: string | null;
  privileges: Record<Role, Set<string>>;
}

const KINDS: readonly Kind[] = ["role", "database", "schema", "table", "sequence", "function"];
const NONE = "—";

/** Parses the first table after the "Grant matrix" heading of `markdown`. */
export function parseGrantMatrix(markdown: string): MatrixRow[] {
  const lines = markdown.split("\n");
  const heading = lines.findIndex((line) => /^#+\s+Grant matrix\s*$/.test(line));
  if (heading === -1) throw new Error('Parse grant matrix: no "Grant matrix" heading found');
  const start = lines.findIndex((line, index) => index > heading && line.startsWith("|"));
  if (start === -1) throw new Error("Parse grant matrix: no table after the heading");
  const table: string[][] = [];
  for (let index = start; index < lines.length && lines[index]!.startsWith("|"); index++) {
    table.push(lines[index]!.split("|").slice(1, -1).map((cell) => cell.trim()));
  }
  const header = table[0]!.join(",");
  if (header !== ["object", ...ROLES].join(",")) {
    throw new Error(`Parse grant matrix: unexpected header ${header}`);
  }
  return table.slice(2).map(parseRow);
}

function parseRow(cells: string[]): MatrixRow {
  const object = cells[0]!.replace(/^`|`$/g, "");
  const [kindText, qualified] = object.split(" ");
  const kind = KINDS.find((known) => known === kindText);
  if (kind === undefined) throw new Error(`Parse grant matrix: unknown object kind in ${object}`);
  let schema: string | null = null;
  let name: string | null = null;
  if (kind === "schema") {
    name = qualified ?? null;
  } else if (kind === "table" || kind === "sequence" || kind === "function") {
    [schema = null, name = null] = qualified?.split(".") ?? [];
  }
  if (kind !== "role" && kind !== "database" && name === null) {
    throw new Error(`Parse grant matrix: ${object} names no object`);
  }
  const privileges = Object.fromEntries(ROLES.map((role, index) => {
    const cell = cells[index + 1] ?? "";
    if (cell === "") throw new Error(`Parse grant matrix: empty ${role} cell for ${object}`);
    const set = new Set(cell === NONE ? [] : cell.split(",").map((p) => p.trim().toUpperCase()));
    return [role, set];
  })) as Record<Role, Set<string>>;
  return { kind, schema, name, privileges };
}

/** The row's object as the matrix writes it, for messages. */
export function rowLabel(row: MatrixRow): string {
  const target = row.schema === null ? row.name : `${row.schema}.${row.name}`;
  return target === null ? row.kind : `${row.kind} ${target}`;
}
