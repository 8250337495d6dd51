// libseccomp, loaded only when present: berth runs without it, and says so in
// `--version` and `features`.
import koffi, { type LibraryHandle } from 'koffi';

let library: LibraryHandle | null | undefined;

export function libseccomp(): LibraryHandle | null {
  if (library === undefined) {
    try {
      library = koffi.load('libseccomp.so.2');
    } catch {
      library = null;
    }
  }
  return library;
}

/** "2.5.4", or null when libseccomp is not installed. */
export function libseccompVersion(): string | null {
  const lib = libseccomp();
  if (!lib) return null;
  koffi.struct('scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  const version = lib.func('const scmp_version *seccomp_version()');
  const v = koffi.decode(version(), 'scmp_version') as { major: number; minor: number; micro: number };
  return `${v.major}.${v.minor}.${v.micro}`;
}
