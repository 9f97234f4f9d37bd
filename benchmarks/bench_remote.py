"""Issue 8: scan the 384-well x 9-field x 4-level metadata-only plate over S3.

The benchmark writes the plate (Zarr v3 / NGFF 0.5, as in bench_scan_plate),
starts moto's S3 server on 127.0.0.1, uploads the plate, and measures in one
run:
  ours     iceberg_bioimage.scan_store("s3://...")
  zarr     zarr-python opening the same plate and traversing every member,
           through its ObjectStore (the same obstore transport) and through
           its default for s3:// URLs (fsspec / s3fs)
Goal: ours at least 10x faster; requests per image reported.

It also measures the server: moto's throughput for small GETs (64 in flight)
bounds any client, so the run prints the fastest a scan with our request count
could be on this server, and the best ratio that allows; zarr-python's
requests through obstore are counted too.

Run: python benchmarks/bench_remote.py [--workdir DIR] [--skip-zarr] [--transports ...]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import bench_parser, traverse_with_zarr, workdir
from iceberg_bioimage.samples import write_metadata_plate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int) -> None:
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the S3 server did not start")


def upload(endpoint: str, root: Path) -> int:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="bench")
    files = [Path(folder) / name for folder, _, names in os.walk(root) for name in names]

    def put(path: Path) -> None:
        client.put_object(
            Bucket="bench",
            Key=f"plates/{path.relative_to(root.parent).as_posix()}",
            Body=path.read_bytes(),
        )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, files))
    return len(files)


def server_capacity(endpoint: str, requests: int = 3000, in_flight: int = 64) -> float:
    """Small GETs per second the server answers with ``in_flight`` concurrent
    requests (one object of the plate's typical size, read over and over)."""
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        "bench", endpoint=endpoint, region="us-east-1", client_options={"allow_http": True}
    )
    obstore.put(store, "capacity/zarr.json", b"{}" * 400)
    limit = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with limit:
            response = await obstore.get_async(store, "capacity/zarr.json")
            await response.bytes_async()

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        return requests / (time.perf_counter() - start)

    return asyncio.run(run())


@contextlib.contextmanager
def counted_obstore_calls() -> Iterator[Counter]:
    """Count the obstore request functions zarr-python's ObjectStore calls."""
    import obstore

    names = ["get_async", "get_range_async", "get_ranges_async", "head_async"]
    names += ["list", "list_with_delimiter", "list_with_delimiter_async"]
    counts: Counter = Counter()
    originals = {name: getattr(obstore, name) for name in names}

    def counting(name: str, function):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            counts[name] += 1
            return function(*args, **kwargs)

        return call

    for name, function in originals.items():
        setattr(obstore, name, counting(name, function))
    try:
        yield counts
    finally:
        for name, function in originals.items():
            setattr(obstore, name, function)


def ours(uri: str) -> tuple[float, int, dict]:
    from iceberg_bioimage.io import open_store
    from iceberg_bioimage.scan.zarr_store import scan_zarr_store

    store = open_store(uri)
    start = time.perf_counter()
    result = scan_zarr_store(store, "plate")
    return time.perf_counter() - start, len(result.image_assets), dict(store.requests)


def zarr_python(endpoint: str, transport: str) -> tuple[float, int, Counter]:
    """zarr-python over obstore (our transport) or over fsspec/s3fs (its default
    for an ``s3://`` URL)."""
    import zarr

    calls: Counter = Counter()
    start = time.perf_counter()
    if transport == "obstore":
        from obstore.store import S3Store

        backend = S3Store(
            "bench",
            prefix="plates/plate_v3.ome.zarr",
            endpoint=endpoint,
            region="us-east-1",
            client_options={"allow_http": True},
        )
        store = zarr.storage.ObjectStore(backend, read_only=True)
        with counted_obstore_calls() as calls:
            group = zarr.open_group(store, mode="r")
            arrays = traverse_with_zarr(group)
        return time.perf_counter() - start, arrays, calls
    else:
        group = zarr.open_group(
            "s3://bench/plates/plate_v3.ome.zarr",
            mode="r",
            storage_options={
                "endpoint_url": endpoint,
                "client_kwargs": {"region_name": "us-east-1"},
            },
        )
    arrays = traverse_with_zarr(group)
    return time.perf_counter() - start, arrays, calls


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--skip-zarr", action="store_true")
    parser.add_argument(
        "--transports",
        nargs="+",
        default=["obstore", "fsspec"],
        choices=["obstore", "fsspec"],
        help="zarr-python baselines to run (fsspec needs s3fs)",
    )
    args = parser.parse_args()
    from iceberg_bioimage.io.settings import configure_remote

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1"
    )
    root = workdir(args, "ib-bench-remote-") / "plate_v3.ome.zarr"
    if not root.exists():
        write_metadata_plate(root, 3)
    port = free_port()
    # The server runs in its own process: in-process it would share our GIL.
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from moto.server import ThreadedMotoServer as S; import time; "
            f"s=S(ip_address='127.0.0.1', port={port}, verbose=False); s.start(); time.sleep(10**6)",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    _wait_for(port)
    try:
        objects = upload(endpoint, root)
        configure_remote(endpoint_url=endpoint, region="us-east-1")
        uri = "s3://bench/plates/plate_v3.ome.zarr"
        seconds, images, requests = ours(uri)
        total = sum(requests.values())
        print(f"plate: {objects:,} metadata objects, {images:,} images (3,456 fields)")
        print(
            f"  ours: {seconds:.2f} s, {total:,} requests ({requests}), {total / images:.2f} requests per image"
        )
        capacity = server_capacity(endpoint)
        floor = total / capacity
        print(
            f"  server: {capacity:.0f} small GETs/s at most -> our {total:,} requests need "
            f">= {floor:.1f} s here (ours ran at {total / seconds:.0f} requests/s)"
        )
        for transport in () if args.skip_zarr else args.transports:
            zarr_s, arrays, calls = zarr_python(endpoint, transport)
            assert arrays == 384 * 9 * 4, arrays
            made = f", {sum(calls.values()):,} requests ({dict(calls)})" if calls else ""
            print(
                f"  zarr-python ({transport}) open + traverse: {zarr_s:.2f} s{made} "
                f"-> ours is {zarr_s / seconds:.1f}x faster "
                f"(at most {zarr_s / floor:.1f}x on this server)"
            )
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
