#!/usr/bin/env python3
"""An open-loop load generator for scripts/bench-paper: requests are sent on
a schedule fixed before the run (Poisson arrivals at --rate per second, or
evenly spaced), whatever the answers do, and each latency is measured from
the request's scheduled send time, not from when it was actually sent: a
generator that falls behind (or a server that stalls it) adds its delay to
the latencies instead of hiding it (coordinated omission).

Each request is one HTTP/1.1 POST on a connection of its own, with the body
faasm-worker's invoke API takes:
  {"user": U, "function": F, "input_data": <--input file's text>, "async": false}

Writes one JSON object to --out: the schedule's parameters and per request
[scheduled_s, latency_s or null, status]; requests still unanswered
--drain seconds after the last send are counted as failed (latency null).
"""

import argparse
import asyncio
import json
import random
import time
from urllib.parse import urlparse


async def one_request(host, port, path, body, scheduled, timeout):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        writer.write(head + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        length = 0
        while True:
            header = await reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await reader.readexactly(length)
        done = time.monotonic()
        writer.close()
        status = int(status_line.split()[1])
        return done - scheduled, status, answer
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
        return None, 0, b""


async def run(args):
    with open(args.input, "rb") as f:
        text = f.read().decode("ascii")
    body = json.dumps({"user": args.user, "function": args.function, "input_data": text,
                       "async": False}).encode()
    url = urlparse(args.url)
    host, port, path = url.hostname, url.port or 80, url.path or "/"
    rng = random.Random(args.seed)
    schedule = []
    t = 0.0
    while True:
        t += rng.expovariate(args.rate) if args.arrival == "poisson" else 1.0 / args.rate
        if t >= args.duration:
            break
        schedule.append(t)
    start = time.monotonic() + 0.2
    tasks = []
    for offset in schedule:
        when = start + offset
        delay = when - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(
            one_request(host, port, path, body, when, args.duration + args.drain)))
    deadline = start + args.duration + args.drain
    done, _ = await asyncio.wait(tasks, timeout=max(0.1, deadline - time.monotonic())) \
        if tasks else (set(), set())
    results = []
    answers = {}
    for offset, task in zip(schedule, tasks):
        if task in done:
            latency, status, answer = task.result()
        else:
            task.cancel()
            latency, status, answer = None, 0, b""
        results.append([round(offset, 6), None if latency is None else round(latency, 6), status])
        if status == 200:
            answers[answer] = answers.get(answer, 0) + 1
    end = max((start + o + lat for o, lat, s in results if lat is not None), default=start)
    with open(args.out, "w") as f:
        json.dump({"rate": args.rate, "duration": args.duration, "arrival": args.arrival,
                   "seed": args.seed, "span_s": end - start, "requests": results,
                   "answers": {k.decode(errors="replace"): v for k, v in answers.items()}}, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, required=True, help="seconds of sending")
    parser.add_argument("--drain", type=float, default=20.0)
    parser.add_argument("--arrival", choices=["poisson", "constant"], default="poisson")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--input", required=True, help="file whose text is input_data")
    parser.add_argument("--user", default="demo")
    parser.add_argument("--function", default="mobilenet-infer")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
