// Installs what the build, the code generation and the tests need from outside npm, when
// it is missing: Debian packages through apt-get (as root, which these machines are), Go
// tools through `go install` into .tools/bin and Python tools into the venv .tools/python.
// Used by the postinstall, generate and pretest scripts so that `npm ci && npm start`,
// `npm run generate` and `npm ci && npm test` work on a fresh machine.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const TOOLS_BIN = join(root, ".tools", "bin");

const succeeds = (script) => {
  try {
    execFileSync("sh", ["-c", script], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const onPath = (command) => succeeds(`command -v ${command}`);

/** `packages`: Debian package name → a command or file (glob) that shows it is installed. */
export function ensureDebianPackages(packages) {
  const missing = Object.entries(packages)
    .filter(([, probe]) => !(probe.startsWith("/") ? succeeds(`ls ${probe}`) : onPath(probe)))
    .map(([name]) => name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    throw new Error(
      `missing system packages: ${missing.join(" ")}. Install them (Debian: sudo apt-get install ${missing.join(" ")}) and run again.`,
    );
  }
  console.error(`installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: "inherit", env });
}

/** `tools`: binary name → Go module path@version, installed into .tools/bin (again when another version is there). */
export function ensureGoTools(tools) {
  for (const [name, module] of Object.entries(tools)) {
    if (installedGoVersion(join(TOOLS_BIN, name)) === module.slice(module.lastIndexOf("@") + 1)) continue;
    if (!onPath("go")) throw new Error(`${name} is missing and Go is not installed to build it (go install ${module})`);
    console.error(`installing ${name} (${module})`);
    execFileSync("go", ["install", module], { stdio: "inherit", env: { ...process.env, GOBIN: TOOLS_BIN } });
  }
}

/** The version of the module a Go binary was built from (`go version -m`), or undefined. */
function installedGoVersion(binary) {
  if (!existsSync(binary) || !onPath("go")) return undefined;
  const info = execFileSync("go", ["version", "-m", binary], { encoding: "utf8" });
  return /^\tmod\t\S+\t(\S+)/m.exec(info)?.[1];
}

/** The venv of the Python code generators (buf.gen.yaml runs them from .tools/python/bin). */
export const PYTHON_TOOLS = join(root, ".tools", "python");
/** Pip's downloads, kept between runs in an ignored folder. */
export const PIP_CACHE = join(root, ".cache", "pip");

/** `requirements`: the pinned contents of a requirements file, installed into the venv `venv` unless it has exactly them. */
export function ensurePythonVenv(venv, requirements) {
  const installed = join(venv, "requirements.txt");
  if (existsSync(installed) && readFileSync(installed, "utf8") === requirements) return;
  const python = onPath("python3") ? "python3" : "python";
  console.error(`installing into ${venv}: ${requirements.trim().split("\n").join(", ")}`);
  execFileSync(python, ["-m", "venv", "--clear", venv], { stdio: "inherit" });
  writeFileSync(join(venv, "wanted.txt"), requirements);
  execFileSync(join(venv, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", "-r", join(venv, "wanted.txt")], {
    stdio: "inherit",
    env: { ...process.env, PIP_CACHE_DIR: PIP_CACHE },
  });
  writeFileSync(installed, requirements);
}

/** The protoc plugins `buf generate` runs besides protoc-gen-es (buf.gen.yaml), pinned. */
export function ensureCodegenPlugins() {
  ensureGoTools({
    "protoc-gen-go": "google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12",
    "protoc-gen-go-grpc": "google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2",
    "protoc-gen-connect-go": "connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.21.1",
  });
  // grpcio-tools: protoc with the Python and .pyi generators and gRPC's; mypy-protobuf: typed gRPC stubs.
  ensurePythonVenv(PYTHON_TOOLS, "grpcio-tools==1.85.1\nmypy-protobuf==5.1.0\n");
}

/** What the native espeak-ng binding needs to build (native/espeak/build.mjs). */
export function ensureBuildPrerequisites() {
  if (!onPath("cargo"))
    throw new Error("cargo is missing: the espeak-ng binding is Rust; install it with rustup (https://rustup.rs) and run npm ci again.");
  ensureDebianPackages({
    "libclang-dev": "/usr/lib/llvm-*/lib/libclang.so", // bindgen loads it (libclang-cpp is another library)
    "libsonic-dev": "/usr/include/sonic.h", // espeak-ng's speed control, linked statically
    cmake: "cmake",
  });
}

/** What the test suite runs besides Node: decoders, Redis, a headless browser, gRPC command-line clients. */
export function ensureTestPrerequisites() {
  ensureDebianPackages({
    ffmpeg: "ffprobe",
    "redis-server": "redis-server",
    curl: "curl", // the README's examples (test/readme) run with it
    openssl: "openssl", // the README's TLS example makes its certificate with it
    chromium: "/usr/bin/chromium", // the browser page's tests (playwright-core drives it; fonts come with its dependencies)
    prometheus: "promtool", // `promtool check metrics` on GET /metrics (Debian's package; only its promtool is used)
  });
  ensureGoTools({
    grpcurl: "github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4",
    ghz: "github.com/bojand/ghz/cmd/ghz@v0.93.0",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const what = process.argv[2];
  if (what === "build") ensureBuildPrerequisites();
  else if (what === "test") ensureTestPrerequisites();
  else if (what === "generate") ensureCodegenPlugins();
  else throw new Error("usage: node tools/prerequisites.mjs build|test|generate");
}
