"""Issue 8: scan the 384-well x 9-field x 4-level metadata-only plate over S3.

The benchmark writes the plate (Zarr v3 / NGFF 0.5, as in bench_scan_plate),
starts moto's S3 server on 127.0.0.1, uploads the plate, and measures in one
run:
  ours     iceberg_bioimage.scan_store("s3://...")
  zarr     zarr-python opening the same plate and traversing every member,
           through its ObjectStore (the same obstore transport) and through
           its default for s3:// URLs (fsspec / s3fs)
Goal: ours at least 10x faster; requests per image reported.

Run: python benchmarks/bench_remote.py [--workdir DIR] [--skip-zarr] [--transports ...]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import bench_parser, traverse_with_zarr, workdir
from plate_fixture import write_plate


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


def ours(uri: str) -> tuple[float, int, dict]:
    from iceberg_bioimage.io import open_store
    from iceberg_bioimage.scan.zarr_store import scan_zarr_store

    store = open_store(uri)
    start = time.perf_counter()
    result = scan_zarr_store(store, "plate")
    return time.perf_counter() - start, len(result.image_assets), dict(store.requests)


def zarr_python(endpoint: str, transport: str) -> tuple[float, int]:
    """zarr-python over obstore (our transport) or over fsspec/s3fs (its default
    for an ``s3://`` URL)."""
    import zarr

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
        group = zarr.open_group(store, mode="r")
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
    return time.perf_counter() - start, arrays


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
    from iceberg_bioimage.io.remote import configure_remote

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1"
    )
    root = workdir(args, "ib-bench-remote-") / "plate_v3.ome.zarr"
    if not root.exists():
        write_plate(root, 3)
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
        for transport in () if args.skip_zarr else args.transports:
            zarr_s, arrays = zarr_python(endpoint, transport)
            assert arrays == 384 * 9 * 4, arrays
            print(
                f"  zarr-python ({transport}) open + traverse: {zarr_s:.2f} s "
                f"-> ours is {zarr_s / seconds:.1f}x faster"
            )
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
