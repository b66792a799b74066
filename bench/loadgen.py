"""A small asyncio HTTP/1.1 load generator: posts comments over keep-alive connections.

Run as its own process (``python -m bench.loadgen``) so the load it puts on the machine is the
client's, not the service's; it writes one JSON line per request: id, status, send and answer time
(``time.time()``, the clock the service stamps ``decided_at`` with).

    python -m bench.loadgen --url http://127.0.0.1:5000 --key msk_... --texts texts.json \
        --mode steady --rate 100 --seconds 20 --out results.jsonl
    python -m bench.loadgen ... --mode burst --count 2000 --connections 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            self.writer.close()
            self.writer = None
            raise ConnectionError("connection closed by the server")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        payload = await self.reader.readexactly(length) if length else b""
        if close:
            self.writer.close()
            self.writer = None
        return status, payload


async def run(args: argparse.Namespace) -> list[dict]:
    url = urlsplit(args.url)
    with open(args.texts, encoding="utf-8") as handle:
        texts = json.load(handle)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(args.connections):
        pool.put_nowait(Connection(url.hostname or "127.0.0.1", url.port or 80))
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {args.key}"}
    results: list[dict] = []

    async def one(index: int) -> None:
        index += args.offset
        body = json.dumps(
            {
                "article_id": f"bench-{index % 50}",
                "author": {"name": f"Bạn đọc {index}"},
                "content": texts[index % len(texts)],
                "client": {"ip": f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"},
            },
            ensure_ascii=False,
        ).encode()
        connection = await pool.get()
        sent = time.time()
        try:
            status, payload = await connection.post("/api/v1/comments", body, headers)
            answer = json.loads(payload) if payload else {}
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            status, answer = 0, {"error": str(exc)}
        finally:
            pool.put_nowait(connection)
        results.append(
            {"i": index, "id": answer.get("id"), "status": status, "sent": sent, "answered": time.time()}
        )

    tasks = []
    if args.mode == "burst":
        tasks = [asyncio.create_task(one(i)) for i in range(args.count)]
    else:
        interval, start = 1.0 / args.rate, time.perf_counter()
        for index in range(int(args.rate * args.seconds)):
            delay = start + index * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--texts", required=True, help="a JSON list of comment texts")
    parser.add_argument("--mode", choices=["steady", "burst"], required=True)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--offset",
        type=int,
        default=0,
        help="first text/reader index: runs that share a site must not repeat",
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    results = asyncio.run(run(args))
    with open(args.out, "w", encoding="utf-8") as handle:
        for row in results:
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
