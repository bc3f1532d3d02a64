/**
 * The one way a failed zod parse is written for people: each failing field by its path and
 * zod's reason, on one line, optionally shortened for places that store it.
 */
import type { z } from "zod";

/** How `formatIssues` writes a list of issues. */
export interface IssueFormat {
  /** What an issue at the top of the value is called (default "(root)"). */
  rootLabel?: string;
  /** Name at most this many issues, then "and N more". */
  maxIssues?: number;
  /** Cut the line to this many characters. */
  maxChars?: number;
}

/** One line naming each failing field, e.g. `quantity: Too big: expected number to be <=100`. */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  format: IssueFormat = {},
): string {
  const rootLabel = format.rootLabel ?? "(root)";
  const shown = format.maxIssues === undefined ? issues : issues.slice(0, format.maxIssues);
  const parts = shown.map((issue) =>
    `${issue.path.length > 0 ? issue.path.join(".") : rootLabel}: ${issue.message}`
  );
  if (shown.length < issues.length) parts.push(`and ${issues.length - shown.length} more`);
  const line = parts.join("; ");
  return format.maxChars === undefined ? line : line.slice(0, format.maxChars);
}
