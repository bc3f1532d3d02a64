/** Which browser console errors a dashboard test may ignore. */

/**
 * The one known console error: Superset's frontend always renders the Scarf telemetry pixel,
 * and our CSP (stack/superset/superset_config.py) blocks it, which chromium reports.
 */
const SCARF_CSP = /scarf\.sh.*violates the following Content Security Policy directive/s;

/** The console errors that are not the known, blocked Scarf pixel. */
export function unexpectedConsoleErrors(messages: string[]): string[] {
  return messages.filter((message) => !SCARF_CSP.test(message));
}
