/// <reference lib="dom" />
// The functions passed to page.waitForFunction/evaluate run in the page: they use DOM types.
/**
 * The dashboard `webshop` as a person sees it: Debian's chromium (headless, driven by
 * playwright-core; nothing downloads a browser) logs in at /login/, opens the dashboard, waits
 * for every chart, finds no chart in an error state and no console error, and saves a screenshot
 * to ${STATE_DIR}/artifacts/dashboard-webshop.png (a test artifact; its path is printed).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { chromium } from "playwright-core";
import { adminLogin, setting, Superset, supersetUrl } from "./superset.ts";
import { unexpectedConsoleErrors } from "./console.ts";

const DASHBOARD = "webshop";
const VIEWPORT = { width: 1400, height: 900 };

/** What the page says about each chart holder once every one rendered or failed. */
type HolderState = { title: string; rendered: boolean; error: string | null };

Deno.test("the dashboard renders every chart in chromium, none in error, and is saved as a screenshot", async () => {
  const expected = await (await Superset.login()).dashboardCharts(DASHBOARD);
  const browser = await chromium.launch({
    executablePath: setting("CHROMIUM_BIN", "/usr/bin/chromium"),
    headless: true,
    // Chromium's sandbox refuses to run as root; the demo suite runs as root on CI machines.
    args: Deno.uid() === 0 ? ["--no-sandbox"] : [],
  });
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    const consoleErrors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));

    const base = supersetUrl();
    const { username, password } = adminLogin();
    await page.goto(`${base}/login/`);
    await page.fill("input#username", username);
    await page.fill("input#password", password);
    await page.click("[data-test=login-button]");
    await page.waitForURL(/\/superset\/welcome\//, { timeout: 30_000 });

    await page.goto(`${base}/superset/dashboard/${DASHBOARD}/`);
    // Every chart holder shows its chart (echarts draws a canvas, tables a table) or an error.
    await page.waitForFunction(
      () => {
        const holders = [...document.querySelectorAll(".dashboard-component-chart-holder")];
        return holders.length > 0 && !document.querySelector(".loading") &&
          holders.every((holder) =>
            holder.querySelector("canvas, svg, table, .alert, [role=alert], .ant-alert")
          );
      },
      undefined,
      { timeout: 60_000 },
    );
    // The charts fade in (CSS transitions, then echarts' own 1 s canvas animation).
    await page.waitForFunction(() =>
      document.getAnimations().every((animation) => animation.playState !== "running")
    );
    await page.waitForTimeout(1_200);

    const holders: HolderState[] = await page.evaluate(() =>
      [...document.querySelectorAll(".dashboard-component-chart-holder")].map((holder) => {
        const alert = holder.querySelector(".alert, [role=alert], .ant-alert, .ant-alert-error");
        const text = (holder as HTMLElement).innerText;
        const failed = alert ?? (/unexpected error|no results/i.test(text) ? holder : null);
        return {
          title: text.split("\n")[0] ?? "",
          rendered: !!holder.querySelector("canvas, svg, table"),
          error: failed ? (failed as HTMLElement).innerText.slice(0, 300) : null,
        };
      })
    );
    const artifacts = `${setting("STATE_DIR")}/artifacts`;
    await Deno.mkdir(artifacts, { recursive: true });
    const shot = `${artifacts}/dashboard-webshop.png`;
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);

    assertEquals(holders.filter((h) => h.error !== null || !h.rendered), []);
    assertEquals(holders.length, expected.length, "charts on the page vs the dashboard's charts");
    assertEquals(unexpectedConsoleErrors(consoleErrors), []);
  } finally {
    await browser.close();
  }
});
