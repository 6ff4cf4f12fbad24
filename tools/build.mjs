// `npm run build`: the production build the image runs, into dist/. Every module of src/
// and gen/ is transpiled by esbuild one for one (not bundled: the inference worker, the
// page and the native binding are found next to the modules that load them), laid out as
// in the repository (dist/src, dist/gen), so relative imports hold. What modules read
// next to themselves at run time is copied beside them: package.json (the version), the page's HTML, the
// descriptors reflection serves (gen/descriptors.binpb), and the
// espeak-ng binding with its data (native/espeak, built by npm ci). Type checking is
// tsc's (`npm run typecheck`), not this.
//
//   node dist/src/server/main.js          the server
//   node dist/src/server/healthcheck.js   the container's HEALTHCHECK

import { cpSync, existsSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, "dist");

const entryPoints = ["src", "gen"]
  .flatMap((folder) => readdirSync(join(root, folder), { recursive: true }).map((file) => join(root, folder, file)))
  .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: dist,
  outbase: root,
  platform: "node",
  format: "esm",
  target: "node20.19",
  sourcemap: true,
  logLevel: "warning",
});

const copies = [
  // tts-service.ts reports the version from ../../package.json.
  ["package.json", "package.json"],
  ["src/server/page/index.html", "src/server/page/index.html"],
  // reflection.ts serves buf's descriptors, with the proto's comments, from beside gen/.
  ["gen/descriptors.binpb", "gen/descriptors.binpb"],
  ["native/espeak/espeak.node", "native/espeak/espeak.node"],
  ["native/espeak/espeak-ng-data", "native/espeak/espeak-ng-data"],
];
for (const [from, to] of copies) {
  if (!existsSync(join(root, from))) throw new Error(`build: ${from} is missing (native/espeak is built by npm ci)`);
  cpSync(join(root, from), join(dist, to), { recursive: true });
}
console.log(`dist/: ${entryPoints.length} modules`);
