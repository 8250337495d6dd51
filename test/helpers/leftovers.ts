// What a container could leave on the host, for tests that check nothing was left behind.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Cgroup directories whose name contains `id`, in every hierarchy (two levels deep). */
export function cgroupDirsNamed(id: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name.includes(id)) found.push(path);
      else if (depth > 0) walk(path, depth - 1);
    }
  };
  walk('/sys/fs/cgroup', 3);
  return found;
}
