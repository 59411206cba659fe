// Drives the widget in Debian's headless chromium (playwright-core), one command per line on
// stdin, one JSON answer per line on stdout, so a pytest test can play the agent's side in
// between. Usage: node test/drive.mjs PAGE_URL SCREENSHOT_DIR [CHROMIUM]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const [pageUrl, shots, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "linktor-widget-"));
const reply = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1000, height: 720 },
});
const page = context.pages()[0] ?? (await context.newPage());
const problems = [];
page.on("pageerror", (error) => problems.push(String(error)));
page.on("console", (message) => {
  if (message.type() === "error") problems.push(message.text());
});

const launcher = () => page.locator("#linktor-webchat >> button.launcher");
const bubbles = (from) => page.locator(`#linktor-webchat >> .msg.${from}`);

async function load() {
  await page.goto(pageUrl);
  await launcher().waitFor({ state: "visible", timeout: 20_000 });
  await page.locator("#linktor-webchat >> .status", { hasText: "online" }).waitFor({ state: "attached", timeout: 20_000 });
}

const commands = {
  async load() {
    await load();
    return { ok: true };
  },
  async open_with_keyboard() {
    await launcher().focus();
    await page.keyboard.press("Enter");
    const expanded = await launcher().getAttribute("aria-expanded");
    const focused = await page.evaluate(() => document.getElementById("linktor-webchat")?.shadowRoot?.activeElement?.tagName ?? "");
    return { expanded, focused };
  },
  async escape() {
    await page.keyboard.press("Escape");
    const expanded = await launcher().getAttribute("aria-expanded");
    const focused = await page.evaluate(() => document.getElementById("linktor-webchat")?.shadowRoot?.activeElement?.className ?? "");
    return { expanded, focused };
  },
  async say({ text }) {
    const input = page.locator("#linktor-webchat >> textarea");
    await input.fill(text);
    await input.press("Enter");
    const bubble = bubbles("visitor").last();
    await page.waitForFunction(
      () => {
        const nodes = document.getElementById("linktor-webchat")?.shadowRoot?.querySelectorAll(".msg.visitor");
        const last = nodes?.[nodes.length - 1];
        return last && !last.getAttribute("data-message")?.startsWith("pending:");
      },
      null,
      { timeout: 20_000 },
    );
    return { message: await bubble.getAttribute("data-message"), text: await bubble.innerText() };
  },
  async expect_agent({ text, timeout_ms = 5000 }) {
    const started = Date.now();
    const bubble = bubbles("agent").filter({ hasText: text });
    await bubble.first().waitFor({ state: "visible", timeout: timeout_ms });
    return { elapsed_ms: Date.now() - started, message: await bubble.first().getAttribute("data-message") };
  },
  async state() {
    return await page.evaluate(() => {
      const root = document.getElementById("linktor-webchat")?.shadowRoot;
      const key = Object.keys(localStorage).find((k) => k.startsWith("linktor.webchat."));
      const saved = key ? JSON.parse(localStorage.getItem(key) ?? "{}") : {};
      return {
        visitor: saved.visitor ?? "",
        seq: saved.seq ?? 0,
        transcript: (saved.transcript ?? []).length,
        bubbles: [...(root?.querySelectorAll(".msg") ?? [])].map((n) => n.textContent),
        injected: root?.querySelectorAll(".msg script, .msg img[onerror], .msg b").length ?? -1,
        pwned: Boolean(window.__pwned),
        live: root?.querySelector(".log")?.getAttribute("aria-live") ?? "",
        title: root?.querySelector("header h2")?.textContent ?? "",
        color: root ? getComputedStyle(root.querySelector(".launcher")).backgroundColor : "",
      };
    });
  },
  async screenshot({ name }) {
    const path = join(shots, `${name}.png`);
    await page.screenshot({ path });
    return { path };
  },
  async reload() {
    await load();
    return { ok: true };
  },
  async problems() {
    return { problems };
  },
};

const lines = createInterface({ input: process.stdin });
reply({ ready: true });
for await (const line of lines) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  if (command.cmd === "quit") break;
  try {
    reply({ cmd: command.cmd, ...(await commands[command.cmd](command)) });
  } catch (error) {
    reply({ cmd: command.cmd, error: String(error) });
  }
}
await context.close();
rmSync(profile, { recursive: true, force: true });
