"""A lake's files through Hadoop's file system API, on a Spark session's JVM (`HadoopStorage`):
what `spark sessionize` and `report --engine spark` list, read, write and remove, so that on a
cluster the driver sees the files where the executors read and write them, on any file system
Hadoop is configured for (`file:`, `hdfs:`, `s3a:` with its jars, `viewfs:` mount tables).

Small files (the manifest, `workspaces.json`) are read and written whole; a Parquet footer is
read through a seekable view of Hadoop's input stream; digests are computed in the JVM
(commons-codec, shipped with Spark), so a file's bytes never cross into Python.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

from py4j.java_gateway import is_instance_of
from py4j.protocol import Py4JJavaError

from convoscope.lake import Entry, Lake, LakeError, LocalStorage, Remote

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

T = TypeVar("T")


def on_hadoop(session: SparkSession, lake: Lake) -> Lake:
    """`lake` with its files reached through Hadoop on `session`: a local directory as
    `file:` (its absolute path), a `Remote` URL as itself."""
    if isinstance(lake.storage, HadoopStorage):
        return lake
    if type(session).__module__.startswith("pyspark.sql.connect"):
        # Spark Connect gives no JVM here: a local lake stays local (a path the server
        # sees too); a URL is the server's to read
        if isinstance(lake.storage, Remote):
            raise LakeError(f"{lake.uri(lake.root)}: Spark Connect reads a local or mounted lake")
        return lake
    if isinstance(lake.storage, Remote):
        return Lake(lake.root, HadoopStorage(session, lake.storage.scheme, lake.storage.authority))
    assert isinstance(lake.storage, LocalStorage)
    return Lake(PurePosixPath(Path(lake.root).resolve()), HadoopStorage(session, "file", ""))


class HadoopStorage:
    """`lake.Storage` on Hadoop's `FileSystem` and `FileContext` (the latter for the one
    rename that must replace its target atomically, as HDFS does)."""

    def __init__(self, session: SparkSession, scheme: str, authority: str):
        self.scheme, self.authority = scheme, authority
        context = session.sparkContext
        assert context._jvm is not None and context._gateway is not None and context._jsc
        self._jvm, self._gateway = context._jvm, context._gateway
        self._conf = context._jsc.hadoopConfiguration()
        # the classes used per file, looked up once (each step of `jvm.a.b.C` is a JVM call)
        jvm = self._jvm
        self._uri, self._hadoop_path = jvm.java.net.URI, jvm.org.apache.hadoop.fs.Path
        self._io = jvm.org.apache.commons.io.IOUtils
        self._sha256 = jvm.org.apache.commons.codec.digest.DigestUtils.sha256Hex
        root = self._path(PurePosixPath("/"))
        try:
            fs = self._call(root, lambda: root.getFileSystem(self._conf))
        except OSError as exc:  # no file system for the scheme, or it cannot be reached
            raise LakeError(f"{root.toString()}: {exc}") from None
        # the raw file system: the local one would keep a `.crc` beside every file it wrote
        # and refuse to read one rewritten by another tool
        checksummed = is_instance_of(self._gateway, fs, "org.apache.hadoop.fs.ChecksumFileSystem")
        self._fs = fs.getRawFileSystem() if checksummed else fs
        self._context = self._jvm.org.apache.hadoop.fs.FileContext.getFileContext(
            root.toUri(), self._conf
        )

    def uri(self, path: PurePath) -> str:
        return str(self._path(path).toString())

    def _path(self, path: PurePath) -> Any:
        """A Hadoop `Path` from a URI built by parts (a name with `%`, spaces or glob
        characters is that name)."""
        uri = self._uri(self.scheme, self.authority or None, path.as_posix(), None, None)
        return self._hadoop_path(uri)

    def _call(self, path: Any, call: Callable[[], T]) -> T:
        """`call`, with a Java failure as the `OSError` Python's file functions raise."""
        try:
            return call()
        except Py4JJavaError as exc:
            java = exc.java_exception
            name = java.getClass().getSimpleName()
            if name == "FileNotFoundException":
                raise FileNotFoundError(str(path.toString())) from None
            raise OSError(f"{name}: {java.getMessage()}") from None

    def _entry(self, path: PurePath, status: Any) -> Entry:
        return Entry(
            path,
            bool(status.isDirectory()),
            int(status.getLen()),
            int(status.getModificationTime()) * 1_000_000,  # milliseconds, as nanoseconds
        )

    def entry(self, path: PurePath) -> Entry | None:
        target = self._path(path)
        try:
            status = self._call(target, lambda: self._fs.getFileStatus(target))
        except FileNotFoundError:
            return None
        return self._entry(path, status)

    def listdir(self, path: PurePath) -> list[Entry]:
        target = self._path(path)
        statuses = self._call(target, lambda: self._fs.listStatus(target))
        found = [self._entry(path / str(s.getPath().getName()), s) for s in statuses]
        return sorted(found, key=lambda e: e.path.name)

    def read(self, path: PurePath) -> bytes | None:
        """The file's bytes in one JVM call (in chunks, a 120 KB manifest took 0.66 s: each
        call of a few kilobytes waited about 40 ms on the gateway's socket), to the end of
        the file opened: a manifest replaced meanwhile is read whole, old or new."""
        target = self._path(path)
        try:
            stream = self._call(target, lambda: self._fs.open(target))
        except FileNotFoundError:
            return None
        try:
            return bytes(self._call(target, lambda: self._io.toByteArray(stream)))
        finally:
            stream.close()

    def open(self, path: PurePath) -> BinaryIO:
        target = self._path(path)
        size = int(self._call(target, lambda: self._fs.getFileStatus(target).getLen()))
        stream = self._call(target, lambda: self._fs.open(target))
        return cast(BinaryIO, io.BufferedReader(_Input(stream, size, self._io), 1 << 16))

    def replace(self, path: PurePath, data: bytes) -> None:
        target = self._path(path)
        aside = self._path(path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp"))
        with self._written(aside) as out:
            out.write(bytearray(data))
            out.hsync()  # on the storage before the rename makes it the state
        rename = self._jvm.org.apache.hadoop.fs.Options.Rename
        overwrite = self._gateway.new_array(rename, 1)
        overwrite[0] = rename.OVERWRITE
        self._call(target, lambda: self._context.rename(aside, target, overwrite))

    @contextmanager
    def _written(self, path: Any) -> Any:
        out = self._call(path, lambda: self._fs.create(path, True))
        try:
            yield out
        finally:
            out.close()

    def delete(self, path: PurePath, recursive: bool = False) -> None:
        target = self._path(path)
        self._call(target, lambda: self._fs.delete(target, recursive))

    def sha256(self, path: PurePath) -> str:
        target = self._path(path)
        stream = self._call(target, lambda: self._fs.open(target))
        try:
            return str(self._call(target, lambda: self._sha256(stream)))
        finally:
            stream.close()


class _Input(io.RawIOBase):
    """A Hadoop input stream as a seekable Python file: each read is one JVM call."""

    def __init__(self, stream: Any, size: int, utils: Any):
        self._stream, self._size, self._utils, self._at = stream, size, utils, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence]
        self._at = max(0, base + offset)
        return self._at

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._at)
        if wanted <= 0:
            return 0
        self._stream.seek(self._at)
        data = bytes(self._utils.toByteArray(self._stream, wanted))
        buffer[: len(data)] = data
        self._at += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()
