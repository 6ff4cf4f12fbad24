// A directory the process cannot write to, made the way this machine allows: as root
// (whom file modes do not stop) a read-only bind mount of it onto itself, which fails
// writes with EROFS as a read-only volume does; otherwise mode 0555, which fails them
// with EACCES.

import { execFileSync } from "node:child_process";
import { chmod } from "node:fs/promises";

export interface UnwritableDir {
  /** The errno code a write into the directory fails with. */
  readonly code: "EROFS" | "EACCES";
  /** Makes the directory writable again. */
  restore(): Promise<void>;
}

export async function makeUnwritable(dir: string): Promise<UnwritableDir> {
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o555);
    return { code: "EACCES", restore: () => chmod(dir, 0o755) };
  }
  // Root needs CAP_SYS_ADMIN for this; without it the test fails here, saying so.
  execFileSync("mount", ["--bind", dir, dir]);
  try {
    execFileSync("mount", ["-o", "remount,ro,bind", dir]);
  } catch (error) {
    execFileSync("umount", [dir]);
    throw error;
  }
  return {
    code: "EROFS",
    restore: async () => {
      execFileSync("umount", [dir]);
    },
  };
}
