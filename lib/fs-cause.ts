/**
 * @module A file-system failure in words: what went wrong, named by its error code, so that a
 * message says "the file system is read-only (EROFS)" rather than a bare errno line (or the
 * ENOENT a recursive mkdir reports on a read-only file system). Node built-ins only.
 */

const CAUSES: Readonly<Record<string, string>> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file or directory',
  ELOOP: 'a symbolic link where a file or directory must be',
  EEXIST: 'it already exists',
  EISDIR: 'it is a directory',
  EIO: 'an input/output error of the device',
  ENAMETOOLONG: 'the path is too long',
};

/** The error code of a failed file-system call (undefined for anything else). */
export function fsCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** "the file system is read-only (EROFS)"; the error's own message when its code is not one of the known ones. */
export function fsCause(error: unknown): string {
  const code = fsCode(error);
  const words = code === undefined ? undefined : CAUSES[code];
  if (words !== undefined) return `${words} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/** Whether the failure is a full disk (or quota): nothing more can be written until space is freed. */
export function isDiskFull(error: unknown): boolean {
  const code = fsCode(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}
