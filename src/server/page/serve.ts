// Serves the browser page: GET / is index.html, GET /page.js is page.ts bundled for the
// browser by esbuild, once, on the first request that needs it, and kept in memory. The
// page links the bundle as /page.js?v=<content hash>, which may be cached for good;
// both answers carry an ETag and are revalidated otherwise.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { MethodNotAllowedError } from "../../errors/index.js";
import type { HttpRoute } from "../routes.js";

type Request = Parameters<HttpRoute>[0];
type Response = Parameters<HttpRoute>[1];

const INDEX_HTML = fileURLToPath(new URL("index.html", import.meta.url));
// page.ts from the sources, page.js in the build (dist/).
const PAGE_SOURCE = fileURLToPath(new URL(`page${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export const PAGE_PATH = "/";
export const BUNDLE_PATH = "/page.js";

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

// The page talks to its own origin only; its one inline <style> is the only exception.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

interface Assets {
  readonly html: Asset;
  readonly bundle: Asset;
  /** The bundle's content hash, the `v` the page asks for. */
  readonly version: string;
}

function asset(body: Buffer, contentType: string): Asset {
  return { body, contentType, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` };
}

async function buildAssets(): Promise<Assets> {
  const [result, html] = await Promise.all([
    build({
      entryPoints: [PAGE_SOURCE],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: true,
      legalComments: "none",
      charset: "utf8",
      logLevel: "silent",
    }),
    readFile(INDEX_HTML, "utf8"),
  ]);
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error("esbuild produced no bundle for the page");
  const bundle = asset(Buffer.from(output.contents), "text/javascript; charset=utf-8");
  const version = bundle.etag.slice(1, 13);
  const linked = html.replace(`src="${BUNDLE_PATH}"`, `src="${BUNDLE_PATH}?v=${version}"`);
  return { html: asset(Buffer.from(linked), "text/html; charset=utf-8"), bundle, version };
}

/**
 * The page's routes, path → handler, for the server's non-RPC fallback. The bundle is
 * built on the first request (tens of milliseconds); a failed build answers 500 and is
 * tried again on the next request.
 */
/** Answers one request, or throws (a typed error, or the build's failure) for the call pipeline to answer. */
export type PageRoute = (req: Request, res: Response) => Promise<void>;

export function pageRoutes(): Record<string, PageRoute> {
  let assets: Promise<Assets> | undefined;
  const load = (): Promise<Assets> => {
    assets ??= buildAssets().catch((error: unknown) => {
      assets = undefined;
      throw error;
    });
    return assets;
  };

  const serve = (pick: (assets: Assets, query: URLSearchParams) => { asset: Asset; cacheControl: string }): PageRoute => {
    return async (req, res) => {
      if (req.method !== "GET" && req.method !== "HEAD") throw new MethodNotAllowedError(req.method ?? "", req.url ?? "", "GET, HEAD");
      send(req, res, pick(await load(), new URL(req.url ?? "/", "http://page").searchParams));
    };
  };

  return {
    [PAGE_PATH]: serve(({ html }) => ({ asset: html, cacheControl: REVALIDATE })),
    [BUNDLE_PATH]: serve(({ bundle, version }, query) => ({
      asset: bundle,
      cacheControl: query.get("v") === version ? IMMUTABLE : REVALIDATE,
    })),
  };
}

function send(req: Request, res: Response, { asset, cacheControl }: { asset: Asset; cacheControl: string }): void {
  const headers = { ...SECURITY_HEADERS, etag: asset.etag, "cache-control": cacheControl };
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch?.split(",").some((tag) => tag.trim().replace(/^W\//, "") === asset.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, "content-type": asset.contentType, "content-length": String(asset.body.length) });
  if (req.method === "HEAD") res.end();
  else res.end(asset.body);
}
