/**
 * The server's lexicons: every `<name>.pls` in LEXICONS_DIR, loaded at start and reloaded
 * when a file is added, changed or removed.
 *
 * Change detection is a rescan (readdir + stat; a file is read again only when its
 * mtime, size or inode changed, and re-parsed only when its hash did). fs.watch on the
 * folder triggers a rescan soon after a change (debounced: an editor's or a ConfigMap's
 * burst of events is one rescan), and a rescan every `pollIntervalMs` catches what
 * fs.watch misses: bind mounts, network filesystems, a watched folder replaced, and
 * Kubernetes' ConfigMap updates, which swap a symlinked folder.
 *
 * An invalid file does not stop the service: it is kept as a problem (file, line, what is
 * wrong), logged once per version of the file, and only a request naming that lexicon is
 * refused (FAILED_PRECONDITION). Other lexicons keep working.
 */
import { createHash } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Logger } from "pino";
import { LEXICON_NAME } from "../config/index.js";
import { FailedPreconditionError, InvalidArgumentError } from "../errors/index.js";
import type { Lexicon } from "./match.js";
import { MAX_LEXICON_BYTES, PlsProblem, parsePls } from "./pls.js";

/** Most lexicons one request may name (Polly's limit). */
export const MAX_LEXICONS_PER_REQUEST = 5;

/** A lexicon file that cannot be used. Nothing in it names a server path but `file`. */
export interface LexiconProblem {
  name: string;
  /** The file's path on the server: for the log only. */
  file: string;
  version: string;
  line?: number;
  column?: number;
  problem: string;
}

export interface LexiconStoreOptions {
  /** LEXICONS_DIR; undefined: no lexicons. */
  dir: string | undefined;
  /** DEFAULT_LEXICONS. */
  defaults?: readonly string[];
  logger?: Logger;
  /** Rescan period; default 5 s. */
  pollIntervalMs?: number;
  /** Delay between a watch event and the rescan it triggers; default 100 ms. */
  debounceMs?: number;
}

type Loaded = { lexicon: Lexicon; problem?: undefined } | { lexicon?: undefined; problem: LexiconProblem };

interface FileState {
  /** mtime, size and inode: a file whose stat is unchanged is not read again. */
  stamp: string;
  loaded: Loaded;
}

export class LexiconStore {
  private files = new Map<string, FileState>();
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanRequested = false;
  private closed = false;
  private missingDirLogged = false;

  private constructor(private readonly options: LexiconStoreOptions) {}

  /** Loads the folder's lexicons and starts watching it. */
  static async open(options: LexiconStoreOptions): Promise<LexiconStore> {
    const store = new LexiconStore(options);
    if (options.dir === undefined) return store;
    await store.reload();
    store.watch();
    store.poll = setInterval(() => void store.reload(), options.pollIntervalMs ?? 5000);
    store.poll.unref();
    for (const name of options.defaults ?? []) {
      if (!store.files.has(name)) options.logger?.warn({ lexicon: name }, "DEFAULT_LEXICONS names a lexicon LEXICONS_DIR does not have");
    }
    return store;
  }

  /**
   * The lexicons a request uses, in order: those it names, else DEFAULT_LEXICONS.
   * InvalidArgumentError(field) for a name the server does not have or too many names;
   * FailedPreconditionError for one whose file is invalid, or a default that is missing.
   */
  resolve(names: readonly string[] | undefined, field = "config.lexicons"): Lexicon[] {
    const requested = names !== undefined && names.length > 0;
    const list = requested ? [...new Set(names)] : (this.options.defaults ?? []);
    if (list.length > MAX_LEXICONS_PER_REQUEST) {
      throw new InvalidArgumentError(field, `${list.length} lexicons; allowed at most ${MAX_LEXICONS_PER_REQUEST}`);
    }
    return list.map((name) => {
      const state = this.files.get(name);
      if (!state) {
        const loaded = this.names();
        const available = loaded.length ? `loaded lexicons: ${loaded.join(", ")}` : "no lexicons are loaded";
        if (requested) throw new InvalidArgumentError(field, `no lexicon named ${JSON.stringify(name)}; ${available}`);
        throw new FailedPreconditionError(`default lexicon ${JSON.stringify(name)} (DEFAULT_LEXICONS) is not loaded; ${available}`);
      }
      if (state.loaded.problem)
        throw new FailedPreconditionError(`${field}: lexicon ${JSON.stringify(name)} is invalid: ${describe(state.loaded.problem)}`);
      return state.loaded.lexicon;
    });
  }

  /** Names of the lexicons loaded without problems, sorted. */
  names(): string[] {
    return [...this.files.entries()]
      .filter(([, state]) => state.loaded.lexicon)
      .map(([name]) => name)
      .sort();
  }

  /** The files that could not be loaded. */
  problems(): LexiconProblem[] {
    return [...this.files.values()].flatMap((state) => (state.loaded.problem ? [state.loaded.problem] : []));
  }

  /** Rescans the folder now; concurrent calls share one scan, and a call during a scan gets another after it. */
  async reload(): Promise<void> {
    if (this.scanning) {
      this.rescanRequested = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescanRequested = false;
        await this.scan();
      } while (this.rescanRequested && !this.closed);
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
  }

  private watch(): void {
    if (this.watcher || this.closed) return;
    try {
      this.watcher = watch(this.options.dir!, { persistent: false }, () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), this.options.debounceMs ?? 100);
        this.debounce.unref();
      });
      // The folder went away or cannot be watched: polling carries on, and re-watches once it is back.
      this.watcher.on("error", () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined;
    }
  }

  private async scan(): Promise<void> {
    const dir = this.options.dir!;
    let entries: string[];
    try {
      entries = (await readdir(dir)).filter((entry) => entry.endsWith(".pls"));
      this.missingDirLogged = false;
    } catch (error) {
      if (!this.missingDirLogged) this.options.logger?.warn({ dir, err: error }, "LEXICONS_DIR cannot be read; no lexicons until it can");
      this.missingDirLogged = true;
      entries = [];
    }
    if (this.closed) return;
    const next = new Map<string, FileState>();
    for (const entry of entries) {
      const name = entry.slice(0, -".pls".length);
      const file = join(dir, entry);
      const state = await this.load(name, file);
      if (state) next.set(name, state);
    }
    for (const name of this.files.keys()) {
      if (!next.has(name)) this.options.logger?.info({ lexicon: name }, "lexicon removed");
    }
    this.files = next;
    this.watch();
  }

  /** The file's state: kept when its stat is unchanged, re-read otherwise; undefined when not a file. */
  private async load(name: string, file: string): Promise<FileState | undefined> {
    const previous = this.files.get(name);
    let stamp: string;
    let size: number;
    try {
      const stats = await stat(file);
      if (!stats.isFile()) return undefined;
      stamp = `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
      size = stats.size;
    } catch {
      return undefined; // removed between readdir and stat
    }
    if (previous?.stamp === stamp) return previous;
    const problem = (version: string, problem: string, line?: number, column?: number): FileState => ({
      stamp,
      loaded: { problem: { name, file, version, problem, ...(line === undefined ? {} : { line, column }) } },
    });
    let state: FileState;
    if (!LEXICON_NAME.test(name)) {
      state = problem("", `${JSON.stringify(name)} is not a lexicon name: 1 to 64 characters from A-Z a-z 0-9 _ -`);
    } else if (size > MAX_LEXICON_BYTES) {
      state = problem("", `${size} bytes; allowed at most ${MAX_LEXICON_BYTES}`);
    } else {
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch {
        return undefined;
      }
      const version = createHash("sha256").update(bytes).digest("hex").slice(0, 32);
      const known = previous?.loaded.lexicon?.version ?? previous?.loaded.problem?.version;
      if (known === version) return { stamp, loaded: previous!.loaded };
      const content = utf8(bytes);
      if (content === undefined) {
        state = problem(version, "not UTF-8 text");
      } else {
        try {
          const { language, lexemes } = parsePls(content);
          state = { stamp, loaded: { lexicon: { name, version, language, lexemes } } };
        } catch (error) {
          if (!(error instanceof PlsProblem)) throw error;
          state = problem(version, error.problem, error.line, error.column);
        }
      }
    }
    if (state.loaded.problem)
      this.options.logger?.warn({ lexicon: name, ...state.loaded.problem }, "lexicon invalid; requests naming it are refused");
    else
      this.options.logger?.info(
        { lexicon: name, version: state.loaded.lexicon.version, lexemes: state.loaded.lexicon.lexemes.length },
        "lexicon loaded",
      );
    return state;
  }
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function describe(problem: LexiconProblem): string {
  const where = problem.line === undefined ? "" : ` line ${problem.line}, column ${problem.column}:`;
  return `${basename(problem.file)}:${where} ${problem.problem}`;
}
