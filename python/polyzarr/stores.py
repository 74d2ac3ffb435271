"""Stores: key → bytes, over fsspec (local directory, memory, zip, S3, read-only HTTP(S)).

Keys are relative to the store's root and checked before any I/O (no ``..``, no absolute keys). A missing
key reads as ``None``; every other failure is a StoreError naming the key. Local writes are atomic (temporary
file, then rename), so an interrupted write never leaves a half-written chunk over good data.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import stat
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import fsspec

from .errors import ChunkError, PathError, PolyZarrError, StoreError

_BAD_CHARS = re.compile(r"[\\\x00]")


def check_key(key: str) -> str:
    """Validate a store key; PathError for anything that could escape the store or is ambiguous."""
    if not isinstance(key, str):
        raise PathError(repr(key), "a key must be a string")
    if key == "":
        raise PathError(key, "empty key")
    if _BAD_CHARS.search(key):
        raise PathError(key, "backslashes and NUL bytes are not allowed in keys")
    if key.startswith("/"):
        raise PathError(key, "absolute keys are not allowed")
    for seg in key.split("/"):
        if seg == "":
            raise PathError(key, "empty path segment ('//' or trailing '/')")
        if seg in ("..", "."):
            raise PathError(key, f"'{seg}' path segments are not allowed")
    return key


def join(*parts: str) -> str:
    """Join key parts, skipping empty ones."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


class Store(ABC):
    url: str
    read_only: bool = False
    remote: bool = False  # network-bound: chunk work runs on a wider thread pool

    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def set(self, key: str, value: bytes) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (recursive, sorted, relative to the store root)."""

    def get_many(self, keys: builtins.list[str]) -> dict[str, bytes | None]:
        return {k: self.get(k) for k in keys}

    def get_bounded(self, key: str, limit: int) -> bytes | None:
        """``get``, refusing a value longer than ``limit`` (a chunk no codec could have made): a ChunkError, before
        reading it where the store can tell the size first (local files)."""
        data = self.get(key)
        if data is not None and len(data) > limit:
            raise too_long(key, len(data), limit)
        return data

    def get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        """``length`` bytes from ``start``; a negative ``start`` (with ``length`` None) is a suffix of that many
        bytes. None when the key is missing. Stores that can fetch ranges (files, S3) override this."""
        data = self.get(key)
        if data is None:
            return None
        if start < 0:
            return data[start:]
        return data[start : None if length is None else start + length]

    def exists(self, key: str) -> bool:
        return self.get(key) is not None

    def close(self) -> None:  # noqa: B027 - most stores have nothing to close
        pass

    def missing_root(self) -> bool:
        """True when the store's root does not exist at all (a local directory that is not there)."""
        return False

    def lock(self, path: str) -> contextlib.AbstractContextManager:
        """Held around a partial chunk's read-modify-write under node ``path``: local stores flock a file;
        others promise nothing (S3: the last writer of a chunk wins)."""
        return contextlib.nullcontext()

    uses_marker = True  # writes publish through the .polyzarr-incomplete marker (a zip is written at close)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FsspecStore(Store):
    """A store rooted at ``root`` inside an fsspec filesystem."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, url: str, read_only: bool = False):
        self.fs = fs
        self.root = root.rstrip("/")
        self.url = url
        self.read_only = read_only
        self._local = "file" in _protocols(fs)
        self.remote = not self._local and "memory" not in _protocols(fs) and "zip" not in _protocols(fs)
        self._lock = threading.Lock()
        self._made_dirs: set[str] = set()
        # a zip archive being written cannot delete the marker (it is written whole at close); read, it is checked
        self.uses_marker = "zip" not in _protocols(fs) or read_only

    def _path(self, key: str) -> str:
        check_key(key)
        return f"{self.root}/{key}" if self.root else key

    def _fail(self, key: str, action: str, e: Exception) -> StoreError:
        if _is_cert_error(e):
            where = getattr(self.fs, "endpoint_url", None) or self.url
            return StoreError(
                key,
                f"{action} failed at {self.url}: the TLS certificate of {where} was not trusted (certificate verify "
                f"failed; set AWS_CA_BUNDLE, CURL_CA_BUNDLE or SSL_CERT_FILE to a CA bundle that signs it): "
                f"{type(e).__name__}: {e}",
            )
        if isinstance(e, PermissionError):
            return StoreError(key, f"{action} denied (403/permission) at {self.url}: {e}")
        return StoreError(key, f"{action} failed at {self.url}: {type(e).__name__}: {e}")

    def _check_member(self, key: str, path: str) -> None:
        """A zip member that is a symbolic link or a special file (by its Unix mode) is refused."""
        zf = getattr(self.fs, "zip", None)
        if zf is None:
            return
        try:
            mode = zf.getinfo(path).external_attr >> 16
        except KeyError:
            return
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # no type bits: a writer that kept only permissions
            raise _not_regular(key, mode)

    def get_bounded(self, key: str, limit: int) -> bytes | None:
        zf = getattr(self.fs, "zip", None)
        if zf is not None:  # a zip member says its size: a deflate bomb is refused before it is inflated
            with contextlib.suppress(KeyError):
                size = zf.getinfo(self._path(key)).file_size
                if size > limit:
                    raise too_long(key, size, limit)
        return super().get_bounded(key, limit)

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        self._check_member(key, path)
        try:
            return self.fs.cat_file(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except Exception as e:
            raise self._fail(key, "read", e) from None

    def get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        path = self._path(key)
        self._check_member(key, path)
        end = None if length is None else start + length
        try:
            return self.fs.cat_file(path, start=start, end=end)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except Exception as e:
            raise self._fail(key, "read", e) from None

    def get_many(self, keys: list[str]) -> dict[str, bytes | None]:
        if self._local or len(keys) < 2:
            return {k: self.get(k) for k in keys}
        paths = {self._path(k): k for k in keys}
        try:
            got = self.fs.cat(list(paths), on_error="return")
        except Exception as e:
            raise self._fail(keys[0], "read", e) from None
        out: dict[str, bytes | None] = {}
        for p, k in paths.items():
            v = got.get(p)
            if isinstance(v, (FileNotFoundError, IsADirectoryError)) or v is None:
                out[k] = None
            elif isinstance(v, Exception):
                raise self._fail(k, "read", v)
            else:
                out[k] = v
        return out

    def set(self, key: str, value: bytes) -> None:
        if self.read_only:
            raise StoreError(key, f"store {self.url} is read-only")
        path = self._path(key)
        try:
            if self._local:
                # Atomic replace: never leave a half-written chunk where good data was.
                tmp = f"{path}.{uuid.uuid4().hex}.partial"
                parent = os.path.dirname(path)
                if parent not in self._made_dirs:
                    os.makedirs(parent, exist_ok=True)
                    self._made_dirs.add(parent)
                with open(tmp, "wb") as f:
                    f.write(value)
                os.replace(tmp, path)
            else:
                with self._lock if "zip" in _protocols(self.fs) else _nolock:
                    self.fs.pipe_file(path, bytes(value))
        except StoreError:
            raise
        except Exception as e:
            raise self._fail(key, "write", e) from None

    def delete(self, key: str) -> None:
        if self.read_only:
            raise StoreError(key, f"store {self.url} is read-only")
        path = self._path(key)
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass
        except Exception as e:
            raise self._fail(key, "delete", e) from None

    def list(self, prefix: str = "") -> list[str]:
        if prefix:
            check_key(prefix.rstrip("/"))
        prefix = prefix.strip("/")
        base = (f"{self.root}/{prefix}" if prefix else self.root) if self.root else prefix
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        except Exception as e:
            raise self._fail(prefix or "/", "list", e) from None
        keys = []
        for p in found:
            if self.root:
                if not p.startswith(self.root + "/"):
                    continue
                k = p[len(self.root) + 1 :]
            else:
                k = p.lstrip("/")
            if not k.endswith(".partial"):
                keys.append(k)
        return sorted(keys)

    def close(self) -> None:
        if "zip" in _protocols(self.fs) and not self.read_only:
            self.fs.close()


# ---------------------------------------------------------------------------------------------------------
# Local directories: confined to the store root (docs/CONTRACT.md "Store-root confinement", "Write guarantees")

MARKER = ".polyzarr-incomplete"  # an array's key while a polyzarr write is in progress (written first)
LOCK = ".polyzarr-lock"  # flock'd around a partial chunk's read-modify-write
_TEMP_NAME = re.compile(r"^\..*\.(tmp-[0-9a-f]{8,}|polyzarr-tmp-[0-9a-f]{8,}|polyzarr-old-[0-9a-f]{8,})$|\.partial$")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def too_long(key: str, n: int, limit: int) -> ChunkError:
    return ChunkError(key, f"the stored chunk is {n} bytes, more than a chunk of this array can encode to ({limit})")


def is_temp_name(name: str) -> bool:
    """A temporary name of an unfinished local write (a file or a sibling directory), never a key."""
    return bool(_TEMP_NAME.search(name))


def temp_name(name: str, kind: str = "tmp") -> str:
    return f".{name}.{kind}-{uuid.uuid4().hex[:16]}"


def _not_regular(key: str, mode: int) -> PathError:
    kinds = [(stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")]
    kinds += [(stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link")]
    what = next((w for f, w in kinds if f(mode)), "not a file")
    return PathError(key, f"is {what}, not a regular file")


class LocalStore(Store):
    """A directory store. Every key is reached from the root one component at a time (``openat`` with
    O_NOFOLLOW), so no read or write follows a symbolic link below the root (the root itself may be reached
    through links); only regular files are read (a FIFO, device or socket is a PathError, opened O_NONBLOCK and
    checked by fstat, never read). Writes go to a temporary name in the same directory, then rename over the
    target: a file is never torn, and a symbolic link at the target is replaced, never written through."""

    def __init__(self, root: str, url: str | None = None, read_only: bool = False):
        self.root = os.path.abspath(root)
        self.url = url or root
        self.read_only = read_only

    def missing_root(self) -> bool:
        return not os.path.isdir(self.root)

    # -- walking the path ------------------------------------------------------------------------------------
    def _open_root(self) -> int | None:
        try:
            return os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise StoreError("/", f"cannot open the store root {self.root}: {e}") from None

    def _open_dir(self, key: str, parts: list[str], create: bool) -> int | None:
        """A descriptor of the directory ``parts`` below the root (made when ``create``), None when missing."""
        if create and not os.path.isdir(self.root):
            os.makedirs(self.root, exist_ok=True)
        fd = self._open_root()
        if fd is None:
            return None
        for i, name in enumerate(parts):
            try:
                if create:
                    try:
                        os.mkdir(name, dir_fd=fd)
                    except FileExistsError:
                        pass
                nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except (FileNotFoundError, NotADirectoryError) as e:
                link = self._is_link(fd, name)
                os.close(fd)
                if link:
                    raise PathError(
                        key,
                        f"{'/'.join(parts[: i + 1])} is a symbolic link (a store never follows links below its root)",
                    ) from None
                if create:
                    raise self._component_error(key, parts[: i + 1], e) from None
                return None
            except OSError as e:
                os.close(fd)
                raise self._component_error(key, parts[: i + 1], e) from None
            os.close(fd)
            fd = nfd
        return fd

    @staticmethod
    def _is_link(dfd: int, name: str) -> bool:
        try:
            return stat.S_ISLNK(os.lstat(name, dir_fd=dfd).st_mode)
        except OSError:
            return False

    def _component_error(self, key: str, parts: list[str], e: OSError) -> PolyZarrError:
        where = "/".join(parts)
        if e.errno == errno.ELOOP:
            return PathError(key, f"{where} is a symbolic link (a store never follows links below its root)")
        if isinstance(e, NotADirectoryError):
            return PathError(key, f"{where} is not a directory")
        return StoreError(key, f"cannot open {where} in {self.url}: {e}")

    def _open_file(self, key: str) -> int | None:
        parts = check_key(key).split("/")
        dfd = self._open_dir(key, parts[:-1], False)
        if dfd is None:
            return None
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dfd)
        except FileNotFoundError:
            return None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise PathError(key, "is a symbolic link (a store never follows links below its root)") from None
            if e.errno == errno.ENXIO:
                raise PathError(key, "is a socket, not a regular file") from None
            raise StoreError(key, f"read failed at {self.url}: {type(e).__name__}: {e}") from None
        finally:
            os.close(dfd)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise _not_regular(key, mode)
        return fd

    # -- Store -----------------------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        return self.get_range(key, 0, None)

    def get_bounded(self, key: str, limit: int) -> bytes | None:
        return self.get_range(key, 0, None, limit)

    def get_range(self, key: str, start: int, length: int | None, limit: int | None = None) -> bytes | None:
        fd = self._open_file(key)
        if fd is None:
            return None
        try:
            size = os.fstat(fd).st_size
            if limit is not None and size > limit:
                raise too_long(key, size, limit)
            if start < 0:
                start = max(0, size + start)
            end = size if length is None else min(size, start + length)
            chunks = []
            pos = start
            while pos < end:
                b = os.pread(fd, end - pos, pos)
                if not b:
                    break
                chunks.append(b)
                pos += len(b)
            return b"".join(chunks)
        except OSError as e:
            raise StoreError(key, f"read failed at {self.url}: {type(e).__name__}: {e}") from None
        finally:
            os.close(fd)

    def get_reused(self, key: str, limit: int) -> memoryview | None:
        """``get_bounded`` into this thread's reusable buffer: the chunk's bytes, valid until the thread's next
        ``get_reused`` (a read path that decodes at once; no fresh pages to fault in for every chunk)."""
        fd = self._open_file(key)
        if fd is None:
            return None
        try:
            size = os.fstat(fd).st_size
            if size > limit:
                raise too_long(key, size, limit)
            buf = getattr(_reused, "buf", None)
            if size > REUSED_MAX:
                buf = bytearray(size)  # not kept: a thread holds at most REUSED_MAX for reuse
            elif buf is None or len(buf) < size:
                buf = _reused.buf = bytearray(max(size, 1 << 16))
            view = memoryview(buf)[:size]
            pos = 0
            while pos < size:
                n = os.preadv(fd, [view[pos:]], pos)
                if not n:
                    break
                pos += n
            return view[:pos]
        except OSError as e:
            raise StoreError(key, f"read failed at {self.url}: {type(e).__name__}: {e}") from None
        finally:
            os.close(fd)

    def open_reader(self, key: str) -> FileReader | None:
        """The file at ``key`` held open for several range reads, with its identity (None when missing)."""
        fd = self._open_file(key)
        if fd is None:
            return None
        try:
            st = os.fstat(fd)
        except OSError as e:
            os.close(fd)
            raise StoreError(key, f"read failed at {self.url}: {type(e).__name__}: {e}") from None
        return FileReader(
            key, self.url, fd, st.st_size, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        )

    def _writable(self, key: str) -> None:
        if self.read_only:
            raise StoreError(key, f"store {self.url} is read-only")

    def set(self, key: str, value: bytes) -> None:
        self._writable(key)
        parts = check_key(key).split("/")
        try:
            dfd = self._open_dir(key, parts[:-1], True)
        except PermissionError as e:
            raise StoreError(key, f"write denied (permission) at {self.url}: {e}") from None
        assert dfd is not None
        tmp = temp_name(parts[-1])
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dfd)
            try:
                view = memoryview(value).cast("B")
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            try:
                os.replace(tmp, parts[-1], src_dir_fd=dfd, dst_dir_fd=dfd)
            except IsADirectoryError:
                raise PathError(key, "is a directory, not a regular file") from None
        except PolyZarrError:
            _unlink(tmp, dfd)
            raise
        except OSError as e:
            _unlink(tmp, dfd)
            what = "write denied (permission)" if isinstance(e, PermissionError) else "write failed"
            raise StoreError(key, f"{what} at {self.url}: {type(e).__name__}: {e}") from None
        finally:
            os.close(dfd)

    def delete(self, key: str) -> None:
        self._writable(key)
        parts = check_key(key).split("/")
        dfd = self._open_dir(key, parts[:-1], False)
        if dfd is None:
            return
        try:
            os.unlink(parts[-1], dir_fd=dfd)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            raise PathError(key, "is a directory, not a regular file") from None
        except OSError as e:
            raise StoreError(key, f"delete failed at {self.url}: {type(e).__name__}: {e}") from None
        finally:
            os.close(dfd)

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Regular files only: symbolic links (to files or directories), special files, temporary names of
        unfinished writes and the lock file are skipped."""
        prefix = prefix.strip("/")
        parts = check_key(prefix).split("/") if prefix else []
        dfd = self._open_dir(prefix or "/", parts, False)
        if dfd is None:
            return []
        out: builtins.list[str] = []
        try:
            self._walk(dfd, prefix, out)
        except OSError as e:
            raise StoreError(prefix or "/", f"list failed at {self.url}: {type(e).__name__}: {e}") from None
        finally:
            os.close(dfd)
        return sorted(out)

    def _walk(self, dfd: int, prefix: str, out: builtins.list[str]) -> None:
        with os.scandir(dfd) as it:
            entries = list(it)
        for e in entries:
            if is_temp_name(e.name) or e.name == LOCK:  # bookkeeping of writes, never a key
                continue
            k = f"{prefix}/{e.name}" if prefix else e.name
            if e.is_symlink():
                continue
            if e.is_dir(follow_symlinks=False):
                try:
                    sub = os.open(e.name, _DIR_FLAGS, dir_fd=dfd)
                except OSError:
                    continue  # replaced by a link (or removed) since the scan
                try:
                    self._walk(sub, k, out)
                finally:
                    os.close(sub)
            elif e.is_file(follow_symlinks=False):
                out.append(k)

    @contextlib.contextmanager
    def lock(self, path: str) -> Iterator[None]:
        """An exclusive flock on ``<path>/.polyzarr-lock`` (between processes, and between threads: each holder
        opens the file anew)."""
        key = join(path, LOCK)
        parts = check_key(key).split("/")
        dfd = self._open_dir(key, parts[:-1], True)
        assert dfd is not None
        try:
            fd = os.open(parts[-1], os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dfd)
        except OSError as e:
            raise StoreError(key, f"cannot open the lock file in {self.url}: {type(e).__name__}: {e}") from None
        finally:
            os.close(dfd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    # -- whole directories (import --overwrite) ----------------------------------------------------------------
    def node_dir(self, path: str) -> str:
        """The directory of node ``path`` (confined: no component below the root is a symbolic link)."""
        if not path:
            return self.root
        parts = check_key(path).split("/")
        dfd = self._open_dir(path, parts[:-1], False)
        if dfd is not None:
            try:
                if self._is_link(dfd, parts[-1]):
                    raise PathError(path, "is a symbolic link (a store never follows links below its root)")
            finally:
                os.close(dfd)
        return os.path.join(self.root, *parts)

    @contextlib.contextmanager
    def replacing(self, path: str) -> Iterator[LocalStore]:
        """A store rooted at a new sibling directory of node ``path``; when the block ends without an error the
        sibling replaces the node by rename (the old one is renamed aside, then removed), so a crash leaves the
        old node or the new one, complete. On an error the sibling is removed and the old node stays."""
        self._writable(path)
        target = self.node_dir(path)
        parent, name = os.path.split(target)
        tmp = os.path.join(parent, temp_name(name, "polyzarr-tmp"))
        os.makedirs(tmp)
        try:
            yield LocalStore(tmp, f"{self.url} (new {path or '/'})")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        old = os.path.join(parent, temp_name(name, "polyzarr-old"))
        try:
            os.rename(target, old)
        except FileNotFoundError:
            old = ""
        os.rename(tmp, target)
        if old:
            shutil.rmtree(old, ignore_errors=True)


_reused = threading.local()
REUSED_MAX = 32 * 2**20  # the most read buffer a thread keeps for reuse (codecs/pipeline.py's scratch: the same)


class RangeReader:
    """Range reads of one key through ``Store.get_range`` (any store): no identity, so nothing is cached."""

    signature: tuple | None = None
    size: int | None = None

    def __init__(self, store: Store, key: str):
        self.store, self.key = store, key

    def read(self, start: int, length: int | None) -> bytes | None:
        """``length`` bytes from ``start`` (a negative ``start``: that long a suffix); None when missing."""
        return self.store.get_range(self.key, start, length)

    def close(self) -> None:
        pass


class FileReader(RangeReader):
    """An open local file: range reads by ``pread``; ``signature`` (device, inode, size, mtime, ctime) from the
    same ``fstat`` identifies the version of the file being read (a rewrite renames a new file over it)."""

    def __init__(self, key: str, url: str, fd: int, size: int, signature: tuple):
        self.key, self.url, self.fd, self.size, self.signature = key, url, fd, size, signature

    def read(self, start: int, length: int | None) -> bytes | None:
        assert self.size is not None
        if start < 0:
            start = max(0, self.size + start)
        end = self.size if length is None else min(self.size, start + length)
        try:
            parts, pos = [], start
            while pos < end:
                b = os.pread(self.fd, end - pos, pos)
                if not b:
                    break
                parts.append(b)
                pos += len(b)
        except OSError as e:
            raise StoreError(self.key, f"read failed at {self.url}: {type(e).__name__}: {e}") from None
        return b"".join(parts)

    def close(self) -> None:
        os.close(self.fd)


def open_reader(store: Store, key: str) -> RangeReader | None:
    """A reader of ``key`` for several range reads: a local file held open (one open, one fstat), else range
    requests through the store. None when a local file is missing (a RangeReader finds out on its first read)."""
    if type(store) is LocalStore:
        return store.open_reader(key)
    return RangeReader(store, key)


def _unlink(name: str, dfd: int) -> None:
    try:
        os.unlink(name, dir_fd=dfd)
    except OSError:
        pass


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_nolock = _NoLock()


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    p = fs.protocol
    return (p,) if isinstance(p, str) else tuple(p)


CA_BUNDLE_VARIABLES = ("CURL_CA_BUNDLE", "SSL_CERT_FILE")


def ca_bundle(s3: bool = False) -> str | None:
    """The CA bundle (a PEM file) to verify TLS servers with: ``AWS_CA_BUNDLE`` (S3 only), then ``CURL_CA_BUNDLE``,
    then ``SSL_CERT_FILE``; None for the system's default trust store. A bundle replaces the default list."""
    names = ("AWS_CA_BUNDLE", *CA_BUNDLE_VARIABLES) if s3 else CA_BUNDLE_VARIABLES
    for name in names:
        v = os.environ.get(name)
        if v:
            return v
    return None


def anonymous_requested() -> bool:
    """``--anon`` (the CLIs set ``POLYZARR_ANON=1``) or the variable itself: unsigned S3 requests."""
    return os.environ.get("POLYZARR_ANON", "").lower() in ("1", "true", "yes")


def _have_aws_credentials() -> bool:
    if os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE"):
        return True
    files = [os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.expanduser("~/.aws/credentials")]
    files.append(os.environ.get("AWS_CONFIG_FILE") or os.path.expanduser("~/.aws/config"))
    return any(os.path.isfile(f) for f in files) or bool(os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"))


def s3_options(endpoint_url: str | None = None, anon: bool | None = None) -> dict:
    """s3fs options from the flag or the usual AWS variables. ``anon`` (default: ``--anon`` / ``POLYZARR_ANON``, or
    no credentials anywhere) sends unsigned requests; a CA bundle (see ``ca_bundle``) goes to botocore's ``verify``."""
    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    opts: dict = {"use_listings_cache": False, "skip_instance_cache": True}
    client_kwargs: dict = {}
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
        opts["endpoint_url"] = endpoint
    ca = ca_bundle(s3=True)
    if ca:
        client_kwargs["verify"] = ca
    if client_kwargs:
        opts["client_kwargs"] = client_kwargs
    if anon is None:
        anon = anonymous_requested() or not _have_aws_credentials()
    if anon:
        opts["anon"] = True
    elif os.environ.get("AWS_ACCESS_KEY_ID"):
        opts["key"] = os.environ["AWS_ACCESS_KEY_ID"]
        opts["secret"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        if os.environ.get("AWS_SESSION_TOKEN"):
            opts["token"] = os.environ["AWS_SESSION_TOKEN"]
    return opts


# ---------------------------------------------------------------------------------------------------------
# HTTP(S): read-only, listing-free, with bounded retries (docs/CONTRACT.md "HTTP(S) stores")

HTTP_RETRIES = 4  # extra attempts after a 5xx reply or a transport failure (5 attempts in all)
HTTP_BACKOFF = 0.1  # seconds before the first retry; doubled each time (0.1, 0.2, 0.4, 0.8)
HTTP_RETRY_BUDGET = 30.0  # no retry starts later than this many seconds after the first attempt
HTTP_TIMEOUT = 15.0  # seconds to connect, and without a byte received while waiting for a reply (as s3fs)


def _env_number(name: str, default: float) -> float:
    v = os.environ.get(name, "")
    try:
        x = float(v) if v else default
    except ValueError:
        raise StoreError(name, f"{name} must be a number of seconds (or attempts), got {v!r}") from None
    if not x >= 0:
        raise StoreError(name, f"{name} must not be negative, got {v!r}")
    return x


def http_low_speed() -> float:
    """``POLYZARR_HTTP_LOW_SPEED``: an S3 reply body arriving slower than this many bytes/s, averaged over a timeout
    window, fails the attempt (a trickle; default 1024, 0: off)."""
    return _env_number("POLYZARR_HTTP_LOW_SPEED", 1024.0)


def http_settings() -> tuple[float, int, float]:
    """(timeout, retries, budget) for S3 and HTTP(S) requests: ``POLYZARR_HTTP_TIMEOUT`` (connect, and idle while
    reading; default 15 s), ``POLYZARR_HTTP_RETRIES`` (4), ``POLYZARR_HTTP_RETRY_BUDGET`` (30 s); see docs/CONTRACT.md
    "S3 and HTTP robustness"."""
    timeout = max(0.05, _env_number("POLYZARR_HTTP_TIMEOUT", HTTP_TIMEOUT))
    retries = int(_env_number("POLYZARR_HTTP_RETRIES", HTTP_RETRIES))
    return timeout, retries, _env_number("POLYZARR_HTTP_RETRY_BUDGET", HTTP_RETRY_BUDGET)


def _is_cert_error(e: BaseException) -> bool:
    import ssl

    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(e):
            return True
        if type(e).__name__ == "ClientConnectorCertificateError":
            return True
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
    return False


def _is_transient(e: BaseException) -> bool:
    """Worth retrying: a 5xx reply, a reset or refused connection, a broken or timed-out transfer."""
    import asyncio

    status = getattr(e, "status", None)
    if isinstance(status, int):
        return status >= 500
    try:
        import aiohttp

        transport: tuple[type[BaseException], ...] = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)
    except ImportError:  # pragma: no cover - fsspec's http filesystem needs aiohttp
        transport = ()
    return isinstance(e, (*transport, ConnectionError, asyncio.TimeoutError, TimeoutError))


class HttpStore(FsspecStore):
    """A read-only store at an ``http://`` or ``https://`` URL, through fsspec's http filesystem (aiohttp).

    HTTP has no listing: nodes are found by their metadata documents (and trees by consolidated metadata); a 404 on
    a key reads as missing (a chunk → its fill value), a 401/403 is a StoreError naming the URL, 5xx replies and
    transport failures are retried (``HTTP_RETRIES`` / ``HTTP_BACKOFF`` / ``HTTP_RETRY_BUDGET``), and a server
    certificate the CA bundle does not trust is a StoreError saying so."""

    def __init__(self, url: str):
        import ssl

        self.base = url.rstrip("/")
        kwargs: dict = {}
        if self.base.startswith("https://"):
            ca = ca_bundle()
            try:
                kwargs["ssl"] = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
            except (OSError, ssl.SSLError) as e:
                raise StoreError(url, f"cannot load the CA bundle {ca}: {e}") from None
        try:
            import aiohttp

            self.timeout, self.retries, self.budget = http_settings()
            kwargs["timeout"] = aiohttp.ClientTimeout(total=None, sock_connect=self.timeout, sock_read=self.timeout)
            fs = fsspec.filesystem("http", skip_instance_cache=True, **kwargs)
        except ImportError as e:
            raise StoreError(url, f"http(s) stores need aiohttp (pip install aiohttp): {e}") from None
        super().__init__(fs, self.base, url, read_only=True)
        self.remote = True

    def _url(self, key: str) -> str:
        return f"{self.base}/{check_key(key)}"

    def _with_retries(self, key: str, what: str, fn):  # type: ignore[no-untyped-def]
        url = self._url(key)
        t0 = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn(url)
            except FileNotFoundError:
                return None
            except Exception as e:
                raise_now = self._final_error(key, url, e, attempt)
                if raise_now is not None:
                    raise raise_now from None
                delay = HTTP_BACKOFF * 2 ** (attempt - 1)
                if attempt > self.retries or time.monotonic() - t0 + delay > self.budget:
                    raise StoreError(key, f"{what} {url} failed after {attempt} attempts: {_describe(e)}") from None
                time.sleep(delay)

    def _final_error(self, key: str, url: str, e: BaseException, attempt: int) -> StoreError | None:
        """The StoreError to raise at once, or None when ``e`` is worth another attempt."""
        if _is_cert_error(e):
            return StoreError(
                key,
                f"the TLS certificate of {url} was not trusted (certificate verify failed; set CURL_CA_BUNDLE or "
                f"SSL_CERT_FILE to a CA bundle that signs it): {_describe(e)}",
            )
        status = getattr(e, "status", None)
        if status in (401, 403):
            return StoreError(key, f"access denied (HTTP {status}) at {url}")
        if _is_transient(e):
            return None
        if isinstance(status, int):
            return StoreError(key, f"HTTP {status} from {url}")
        return StoreError(key, f"GET {url} failed: {_describe(e)}")

    def get(self, key: str) -> bytes | None:
        return self._with_retries(key, "GET", lambda u: self.fs.cat_file(u))

    def get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        end = None if length is None else start + length
        if length == 0:
            return b"" if self.get(key) is not None else None
        data = self._with_retries(key, "GET (range)", lambda u: self.fs.cat_file(u, start=start, end=end))
        want = -start if start < 0 and length is None else length
        if data is not None and want is not None and len(data) > want:
            # the server ignored the Range header and sent the whole object
            data = data[start:] if start < 0 else data[start : start + want]
        return data

    def get_many(self, keys: builtins.list[str]) -> dict[str, bytes | None]:
        if len(keys) < 2:
            return {k: self.get(k) for k in keys}
        urls = {self._url(k): k for k in keys}
        try:
            got = self.fs.cat(list(urls), on_error="return")
        except Exception:
            got = {}
        out: dict[str, bytes | None] = {}
        for u, k in urls.items():
            v = got.get(u) if isinstance(got, dict) else None
            if isinstance(v, bytes):
                out[k] = v
            elif isinstance(v, FileNotFoundError):
                out[k] = None
            else:  # failed (or not tried): one key at a time, with retries and the usual errors
                out[k] = self.get(k)
        return out

    def list(self, prefix: str = "") -> builtins.list[str]:
        """HTTP has no listing. The metadata keys of the node at ``prefix`` when it is an array (so a walk finds
        it); a group without consolidated metadata, or no node at all, is a StoreError naming the URL."""
        p = prefix.strip("/")
        where = f"{self.base}/{p}" if p else self.base
        doc = self.get(join(p, "zarr.json"))
        if doc is not None:
            try:
                node_type = json.loads(doc).get("node_type")
            except (ValueError, AttributeError):
                node_type = "array"  # let the walk report the broken document
            if node_type != "group":
                return [join(p, "zarr.json")]
            kind = "a v3 group without consolidated metadata in its zarr.json"
        else:
            found = [join(p, k) for k in (".zarray", ".zattrs") if self.get(join(p, k)) is not None]
            if any(k.endswith(".zarray") for k in found):
                return found
            if self.get(join(p, ".zgroup")) is None:
                raise StoreError(
                    p or "/",
                    f"no Zarr node at {where}: zarr.json, .zarray, .zgroup and .zmetadata are all missing (HTTP 404)",
                )
            kind = "a v2 group without .zmetadata"
        raise StoreError(
            p or "/",
            f"{where} is {kind}, and HTTP has no listing: open an array URL directly, or consolidate the tree's "
            "metadata (zarr.consolidate_metadata) before serving it",
        )

    def set(self, key: str, value: bytes) -> None:
        raise StoreError(key, f"store {self.url} is read-only (HTTP stores cannot be written)")

    def delete(self, key: str) -> None:
        raise StoreError(key, f"store {self.url} is read-only (HTTP stores cannot be written)")


# ---------------------------------------------------------------------------------------------------------
# S3: s3fs/aiobotocore for the session (credentials, endpoint, TLS, anonymous access); the requests, retries and
# checks here (docs/CONTRACT.md "S3 and HTTP robustness"), so the bounds hold whatever s3fs and botocore default to.


class _Suspect(Exception):
    """A reply that arrived but cannot be trusted (short body, cut listing, upload stored with other bytes, a listed
    key answering 404): retried like a transport failure, then a StoreError with this message."""


_S3_TRANSIENT_CODES = {
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "BadDigest",
    "IncompleteBody",
    "XAmzContentSHA256Mismatch",
    "RequestTimeTooSkewed",
}


def _client_error(e: BaseException) -> tuple[int | None, str, str]:
    """(HTTP status, S3 error code, message) of a botocore ClientError; (None, "", "") for anything else."""
    resp = getattr(e, "response", None)
    if not isinstance(resp, dict) or "Error" not in resp:
        return None, "", ""
    err = resp.get("Error") or {}
    status = (resp.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return (int(status) if status else None), str(err.get("Code", "")), str(err.get("Message", ""))


def _s3_transient(e: BaseException) -> bool:
    import asyncio

    if isinstance(e, _Suspect):
        return True
    status, code, _ = _client_error(e)
    if status is not None or code:
        return (status or 0) >= 500 or code in _S3_TRANSIENT_CODES
    name = type(e).__name__
    if name in (
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ResponseStreamingError",
        "IncompleteReadError",
        "ResponseParserError",
        "ProxyConnectionError",
        "HTTPClientError",
    ):
        return True
    return _is_transient(e) or isinstance(e, (asyncio.TimeoutError, OSError))


class S3Store(FsspecStore):
    """``s3://bucket/prefix`` (path-style requests to the endpoint). Every request: a connect and idle-read timeout,
    the contract's retry rule (``http_settings``), and these checks: a GET body shorter than its Content-Length and
    a listing that is cut short, not well-formed or inconsistent (``IsTruncated`` without a continuation token,
    ``KeyCount`` not the number of keys) are retried, then a StoreError; a PUT sends Content-MD5 and checks the ETag
    the server answers against it (moto checks neither Content-MD5 nor checksums: the ETag is its MD5 of what it
    stored); a key this store listed (and did not delete since) that answers 404 is an error, not a missing key."""

    def __init__(self, url: str, rest: str, endpoint_url: str | None, read_only: bool):
        self.timeout, self.retries, self.budget = http_settings()
        self.low_speed = http_low_speed()
        opts = s3_options(endpoint_url)
        opts["config_kwargs"] = {
            "connect_timeout": self.timeout,
            "read_timeout": self.timeout,
            "retries": {"total_max_attempts": 1, "mode": "standard"},  # botocore's retries: off
            "request_checksum_calculation": "when_required",  # Content-MD5 instead (below)
            "max_pool_connections": 32,  # io_pool's 16 threads never wait for a connection (botocore's default: 10)
        }
        try:
            fs = fsspec.filesystem("s3", **opts)
        except Exception as e:
            raise StoreError(url, f"cannot set up S3: {type(e).__name__}: {e}") from None
        fs.retries = 1  # s3fs's retry loop: off (ours below)
        super().__init__(fs, rest, url, read_only)
        self.bucket, _, self.prefix = rest.partition("/")
        self.prefix = self.prefix.strip("/")
        self.endpoint = opts.get("endpoint_url") or "AWS"
        self._listed: set[str] = set()  # keys seen in a listing: a 404 on one of them is an error

    def _okey(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _sync(self, coro):  # type: ignore[no-untyped-def]
        from fsspec.asyn import sync

        return sync(self.fs.loop, lambda: coro)

    async def _retrying(self, key: str, what: str, op):  # type: ignore[no-untyped-def]
        import asyncio

        t0 = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await op()
            except Exception as e:
                final = self._final(key, what, e)
                if final is not None:
                    raise final from None
                delay = HTTP_BACKOFF * 2 ** (attempt - 1)
                if attempt > self.retries or time.monotonic() - t0 + delay > self.budget:
                    raise StoreError(
                        key,
                        f"{what} {self._where(key)} failed after {attempt} attempts (S3 endpoint {self.endpoint}): "
                        f"{self._describe(e)}",
                    ) from None
                await asyncio.sleep(delay)

    def _describe(self, e: BaseException) -> str:
        status, code, msg = _client_error(e)
        resp = getattr(e, "response", None)
        meta = (resp.get("ResponseMetadata") if isinstance(resp, dict) else None) or {}
        if code == str(status) and not meta.get("RequestId"):
            # botocore's stand-in for a reply whose XML did not parse (it reports HTTP 500 whatever was sent)
            return f"the reply did not parse as S3 XML (cut short or garbled; botocore says HTTP {status} {msg})"
        if status is not None or code:
            return f"HTTP {status}: {code}: {msg}" if msg else f"HTTP {status}: {code}"
        return str(e) if isinstance(e, _Suspect) else _describe(e)

    def _final(self, key: str, what: str, e: BaseException) -> StoreError | None:
        """The StoreError to raise at once, or None when ``e`` is worth another attempt."""
        if _is_cert_error(e):
            return self._fail(key, what, e)
        status, code, _msg = _client_error(e)
        if status in (401, 403) or code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return StoreError(key, f"{what} {self._where(key)} denied (403/permission): {self._describe(e)}")
        if _s3_transient(e):
            return None
        return StoreError(key, f"{what} {self._where(key)} failed (S3 endpoint {self.endpoint}): {self._describe(e)}")

    def _where(self, key: str) -> str:
        return f"{self.url}/" if key == "/" else f"{self.url}/{key}"

    async def _get_once(self, key: str, rng: str | None) -> bytes | None:
        s3 = await self.fs.set_session()
        kw: dict = {"Bucket": self.bucket, "Key": self._okey(key)}
        if rng:
            kw["Range"] = rng
        try:
            resp = await s3.get_object(**kw)
        except Exception as e:
            status, code, _ = _client_error(e)
            if code == "NoSuchKey" or (status == 404 and code != "NoSuchBucket"):
                if key in self._listed:
                    raise _Suspect(
                        "HTTP 404 for a key this store's listing has (it vanished after the listing, or the store "
                        "answers wrongly): not read as a missing chunk"
                    ) from None
                return None
            if code == "InvalidRange" or status == 416:
                return b""
            raise
        body = resp["Body"]
        pieces = []
        window, wbytes = time.monotonic(), 0
        try:
            while piece := await body.read(1 << 20):
                pieces.append(piece)
                wbytes += len(piece)
                now = time.monotonic()
                if now - window >= self.timeout:  # a trickle that the idle timeout alone never ends
                    if wbytes < self.low_speed * (now - window):
                        raise _Suspect(
                            f"the reply came in at fewer than {self.low_speed:g} bytes/s for "
                            f"{now - window:.1f} s (too slow)"
                        )
                    window, wbytes = now, 0
        finally:
            body.close()
        data = b"".join(pieces)
        n = resp.get("ContentLength")
        if isinstance(n, int) and len(data) != n:
            raise _Suspect(f"the reply body has {len(data)} of its {n} bytes (Content-Length)")
        return data

    def get(self, key: str) -> bytes | None:
        return self._sync(self._retrying(key, "GET", lambda: self._get_once(key, None)))

    def get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        if length == 0:
            return b"" if self.get(key) is not None else None
        if start < 0:
            rng = f"bytes={start}"
        else:
            rng = f"bytes={start}-" if length is None else f"bytes={start}-{start + length - 1}"
        return self._sync(self._retrying(key, "GET (range)", lambda: self._get_once(key, rng)))

    def get_many(self, keys: builtins.list[str]) -> dict[str, bytes | None]:
        import asyncio

        async def all_of() -> list:
            sem = asyncio.Semaphore(16)

            async def one(k: str) -> bytes | None:
                async with sem:
                    return await self._retrying(k, "GET", lambda: self._get_once(k, None))

            return await asyncio.gather(*(one(k) for k in keys))

        return dict(zip(keys, self._sync(all_of())))

    def set(self, key: str, value: bytes) -> None:
        import base64
        import hashlib

        if self.read_only:
            raise StoreError(key, f"store {self.url} is read-only")
        value = bytes(value)
        md5 = hashlib.md5(value)

        async def put() -> None:
            s3 = await self.fs.set_session()
            resp = await s3.put_object(
                Bucket=self.bucket,
                Key=self._okey(key),
                Body=value,
                ContentType="application/octet-stream",
                ContentMD5=base64.b64encode(md5.digest()).decode(),
            )
            etag = str(resp.get("ETag", "")).strip('"').lower()
            # the ETag is the MD5 of the stored bytes, except for SSE-KMS / SSE-C objects
            encrypted = resp.get("ServerSideEncryption") == "aws:kms" or resp.get("SSECustomerAlgorithm")
            if re.fullmatch(r"[0-9a-f]{32}", etag) and not encrypted and etag != md5.hexdigest():
                raise _Suspect(
                    f"upload integrity: the server stored an object whose MD5 (ETag {etag}) is not that of the "
                    f"{len(value)} bytes sent ({md5.hexdigest()}): the upload was cut short or altered"
                )

        try:
            self._sync(self._retrying(key, "PUT", put))
        except StoreError as e:
            if "upload integrity" in str(e):  # what the server kept is not what was sent: remove it (best effort)
                try:
                    self.delete(key)
                except StoreError:
                    pass
            raise

    def delete(self, key: str) -> None:
        if self.read_only:
            raise StoreError(key, f"store {self.url} is read-only")

        async def rm() -> None:
            s3 = await self.fs.set_session()
            try:
                await s3.delete_object(Bucket=self.bucket, Key=self._okey(key))
            except Exception as e:
                status, code, _ = _client_error(e)
                if not (code == "NoSuchKey" or (status == 404 and code != "NoSuchBucket")):
                    raise

        self._sync(self._retrying(key, "DELETE", rm))
        self._listed.discard(key)

    def list(self, prefix: str = "") -> builtins.list[str]:
        if prefix:
            check_key(prefix.rstrip("/"))
        p = prefix.strip("/")
        full = "/".join(x for x in (self.prefix, p) if x)
        s3prefix = f"{full}/" if full else ""
        skip = len(self.prefix) + 1 if self.prefix else 0
        keys: builtins.list[str] = []
        token: str | None = None
        errkey = p or "/"
        while True:

            async def page(token: str | None = token) -> dict:
                s3 = await self.fs.set_session()
                kw: dict = {"Bucket": self.bucket, "Prefix": s3prefix, "MaxKeys": 1000}
                if token:
                    kw["ContinuationToken"] = token
                resp = await s3.list_objects_v2(**kw)
                contents = resp.get("Contents") or []
                if "IsTruncated" not in resp:
                    raise _Suspect("the listing reply has no IsTruncated: it was cut short")
                if "KeyCount" in resp and resp["KeyCount"] != len(contents) + len(resp.get("CommonPrefixes") or []):
                    raise _Suspect(f"the listing reply says KeyCount {resp['KeyCount']} but has {len(contents)} keys")
                if any("Key" not in c for c in contents):
                    raise _Suspect("the listing reply has an entry without a Key")
                if resp["IsTruncated"] and not resp.get("NextContinuationToken"):
                    raise _Suspect("the listing reply is truncated (IsTruncated) but has no NextContinuationToken")
                return resp

            resp = self._sync(self._retrying(errkey, "listing of", page))
            for c in resp.get("Contents") or []:
                k = c["Key"][skip:]
                if k:
                    keys.append(k)
            if not resp["IsTruncated"]:
                break
            token = resp["NextContinuationToken"]
        self._listed.update(keys)
        return sorted(keys)

    def close(self) -> None:
        pass


def _describe(e: BaseException) -> str:
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _split_zip(path: str) -> tuple[str, str] | None:
    m = re.match(r"^(.*?\.zip)(?:/(.*))?$", path)
    if not m:
        return None
    return m.group(1), (m.group(2) or "").strip("/")


def open_store(url: str, mode: str = "r", endpoint_url: str | None = None) -> Store:
    """Open the store rooted at ``url`` (see docs/CONTRACT.md for the URL forms).

    ``mode``: "r" read-only, "w"/"a" writable (the zip store creates or appends to the archive).
    """
    read_only = mode == "r"
    if url.startswith(("http://", "https://")):
        if not read_only:
            raise StoreError(url, "HTTP(S) stores are read-only")
        return HttpStore(url)
    if url.startswith("s3://"):
        rest = url[len("s3://") :].strip("/")
        if not rest:
            raise PathError(url, "an S3 URL needs a bucket: s3://bucket/prefix")
        return S3Store(url, rest, endpoint_url, read_only)
    if url.startswith("memory://"):
        root = "/" + url[len("memory://") :].strip("/")
        return FsspecStore(fsspec.filesystem("memory"), root.rstrip("/") or "/", url, read_only)
    path = url[len("file://") :] if url.startswith("file://") else url
    z = _split_zip(path)
    if z is not None and (os.path.isfile(z[0]) or not read_only):
        archive, inner = z
        if read_only and not os.path.isfile(archive):
            raise StoreError(url, "zip archive not found")
        zmode = "r" if read_only else ("a" if os.path.isfile(archive) else "w")
        if os.path.exists(archive) and not os.path.isfile(archive):
            raise _not_regular(url, os.stat(archive).st_mode)
        try:
            fs = fsspec.filesystem("zip", fo=archive, mode=zmode, skip_instance_cache=True)
        except Exception as e:
            raise StoreError(url, f"cannot open zip archive: {type(e).__name__}: {e}") from None
        if zmode != "w":
            _check_zip(fs, archive, url)
        return FsspecStore(fs, inner, url, read_only)
    return LocalStore(path, url, read_only)


def _check_zip(fs: fsspec.AbstractFileSystem, archive: str, url: str) -> None:
    """The central directory must hold as many entries as the end record says (zipfile reads a cut or
    mislabelled directory as fewer entries, or none, without a word)."""
    with open(archive, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 65557))
        tail = f.read()
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) < i + 22:
        raise StoreError(url, "cannot open zip archive: no end-of-central-directory record")
    declared = int.from_bytes(tail[i + 10 : i + 12], "little")
    found = len(fs.zip.infolist())
    if declared != 0xFFFF and declared != found:  # 0xFFFF: zip64 keeps the count elsewhere
        raise StoreError(
            url, f"cannot open zip archive: the central directory lists {found} entries, its end record says {declared}"
        )


_STORE_ROOT = re.compile(r"^(.*?\.(?:zarr|zip))(?:/(.*))?$")


def split_url(url: str) -> tuple[str, str]:
    """Split a node URL into (store root URL, path inside the store).

    The store root is the URL up to its first component ending in ``.zarr`` or ``.zip`` (the usual Zarr naming);
    a URL without one is its own store root. ``out.zarr/g/a`` → (``out.zarr``, ``g/a``).
    """
    m = _STORE_ROOT.match(url.rstrip("/"))
    if m and m.group(1) and not m.group(1).endswith("://"):
        return m.group(1), (m.group(2) or "").strip("/")
    return url.rstrip("/"), ""


_pools: dict[bool, ThreadPoolExecutor] = {}


def io_pool(remote: bool = False) -> ThreadPoolExecutor:
    """Shared thread pools for chunk work: one thread per core where codecs dominate (local stores; more
    threads only contend for the GIL), many where network latency does (S3)."""
    if remote not in _pools:
        n = int(os.environ.get("POLYZARR_THREADS", 0)) or (16 if remote else max(2, os.cpu_count() or 2))
        _pools[remote] = ThreadPoolExecutor(
            max_workers=n, thread_name_prefix="polyzarr-remote" if remote else "polyzarr"
        )
    return _pools[remote]
