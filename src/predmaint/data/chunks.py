"""Tables in chunks: stream a CSV or Parquet file, write numbered part files, join them in order.

Nothing here knows about models; :mod:`predmaint.model.batch` uses it to score files of any size with
bounded memory, and part files make it safe to produce the chunks concurrently and out of order.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class BatchInputError(ValueError):
    """A file cannot be used as batch input or output; the message names the file and the reason."""


def file_format(path: Path) -> str:
    """``csv`` or ``parquet`` from the file suffix; :class:`BatchInputError` for any other."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BatchInputError(f"{path}: unsupported file type {path.suffix!r}; use one of {sorted(FORMATS)}")
    return fmt


def read_columns(path: Path) -> list[str]:
    """The column names of a CSV or Parquet file, read from its header or footer only."""
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        return [str(c).strip() for c in pq.read_schema(path).names]
    return [str(c).strip() for c in pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns]


def iter_chunks(path: Path, chunk_rows: int, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
    """Yield the file as DataFrames of at most ``chunk_rows`` rows, in file order (an empty file: one empty frame).

    Args:
        path: A CSV (with or without BOM) or Parquet file.
        chunk_rows: Rows per chunk.
        columns: Read only these columns (names compared without surrounding whitespace).
    """
    wanted = None if columns is None else set(columns)
    if file_format(path) == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as reader:
            names = [n for n in reader.schema_arrow.names if wanted is None or n.strip() in wanted]
            empty = True
            for batch in reader.iter_batches(batch_size=chunk_rows, columns=names):
                empty = False
                yield _strip(batch.to_pandas())
            if empty:
                yield _strip(reader.schema_arrow.empty_table().select(names).to_pandas())
        return
    usecols = None if wanted is None else (lambda c: str(c).strip() in wanted)
    with pd.read_csv(path, chunksize=chunk_rows, encoding="utf-8-sig", usecols=usecols) as reader:
        for chunk in reader:
            yield _strip(chunk)


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.reset_index(drop=True)


def write_part(frame: pd.DataFrame, parts_dir: Path, index: int, fmt: str, schema: pa.Schema | None = None) -> Path:
    """Write ``frame`` atomically as ``parts_dir/part-<index>.<fmt>`` (Parquet with ``schema``, if given)."""
    parts_dir.mkdir(parents=True, exist_ok=True)
    part = parts_dir / f"part-{index:06d}.{fmt}"
    tmp = part.with_name(part.name + ".tmp")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), tmp)
    else:
        frame.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(part)
    return part


def join_parts(parts: Sequence[Path], output: Path, fmt: str, schema: pa.Schema | None = None) -> Path:
    """Concatenate part files, in the given order, into ``output`` (written atomically), streaming.

    Raises:
        BatchInputError: No parts were given.
    """
    if not parts:
        raise BatchInputError(f"{output}: no part files to join")
    tmp = output.with_name(f".{output.name}.tmp")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        target = schema or pq.read_schema(parts[0])
        with pq.ParquetWriter(tmp, target) as writer:
            for part in parts:
                writer.write_table(pq.read_table(part).cast(target))
    else:
        with tmp.open("wb") as out:
            for i, part in enumerate(parts):
                with part.open("rb") as fh:
                    header = fh.readline()
                    if i == 0:
                        out.write(header)
                    shutil.copyfileobj(fh, out)
    tmp.replace(output)
    return output
