// Bundles src/index.ts into the file the server serves at /widget.js (committed: see
// docs/adr/0008-web-chat.md). Deterministic: same sources, same bytes.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";

const outfile = process.argv[2] ?? "../../server/src/linktor/server/webchat/static/widget.js";
await build({
  entryPoints: ["src/index.ts"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  charset: "utf8",
  banner: { js: "/* Linktor Web Chat widget - Apache-2.0 */" },
  outfile,
  logLevel: "warning",
});
const bytes = readFileSync(outfile);
const gzip = gzipSync(bytes, { level: 9 }).length;
console.log(`${outfile}: ${bytes.length} bytes, ${gzip} gzip`);
if (gzip > 50 * 1024) {
  console.error("the widget is over its 50 KB gzip budget");
  process.exit(1);
}
