"""Shared helpers for the benchmarks: run the local Jira as its own process, run a client process."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from rollup.localjira.credentials import authorization, demo_credentials, demo_environment

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PY = sys.executable
ROLLUP = str(Path(PY).with_name("rollup"))


#: The speed-run server settings from the brief.
SPEED = dict(latency_ms=100, per_issue_ms=5, rate_limit=20)


def mappings_text(flavour: str) -> str:
    """The repository's mappings.yaml, its team field override set to the local Jira flavour's own field."""
    from rollup.localjira.render import CLOUD_FIELDS, DC_FIELDS

    text = (ROOT / "mappings.yaml").read_text()
    cloud, dc = CLOUD_FIELDS["team"][0], DC_FIELDS["team"][0]
    line = f"    team: {cloud}\n"
    assert line in text, "mappings.yaml no longer overrides the team field as the benchmarks expect"
    return text if flavour == "cloud" else text.replace(line, f"    team: {dc}\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, body: Any = None, timeout: float = 600, flavour: str | None = None) -> Any:
    """GET (or POST ``body``) ``url``; with ``flavour``, as the demo user of the local Jira of that flavour."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if flavour is not None:
        headers["Authorization"] = authorization(demo_credentials(flavour))
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET", headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


@contextmanager
def local_jira(issues: int, *, flavour: str = "cloud", seed: int = 7, latency_ms: float = 0,
               per_issue_ms: float = 0, rate_limit: float | None = None, log: Path | None = None,
               start_timeout: float = 900) -> Iterator[str]:
    """Start ``rollup localjira serve`` in its own process; yield its URL once serverInfo answers."""
    port = free_port()
    cmd = [ROLLUP, "localjira", "serve", "--flavour", flavour, "--issues", str(issues), "--seed", str(seed),
           "--port", str(port), "--latency-ms", str(latency_ms), "--per-issue-ms", str(per_issue_ms)]
    if rate_limit:
        cmd += ["--rate-limit", str(rate_limit)]
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"local Jira exited with {proc.returncode}: {' '.join(cmd)}")
            try:
                http(url + "/rest/api/2/serverInfo", timeout=5, flavour=flavour)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("local Jira did not start in time")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


def server_stats(url: str) -> dict:
    return http(url + "/_local/stats")


def set_faults(url: str, **faults: Any) -> None:
    """Change the running local Jira's fault settings (``POST /_local/faults``), e.g. ``max_page_size``."""
    http(url + "/_local/faults", faults)


def stats_delta(after: dict, before: dict) -> dict:
    """Per-endpoint requests (429s excluded) and 429s between two /_local/stats snapshots."""
    eps = set(after["by_endpoint"]) | set(after.get("throttled", {}))
    out = {}
    for ep in eps:
        req = after["by_endpoint"].get(ep, 0) - before["by_endpoint"].get(ep, 0)
        thr = after.get("throttled", {}).get(ep, 0) - before.get("throttled", {}).get(ep, 0)
        if req or thr:
            out[ep] = {"requests": req - thr, "throttled": thr}
    return out


def rate_bound(delta: dict, rate: float) -> tuple[float, str]:
    """The rate-limit bound: max over endpoints of (non-429 requests / rate)."""
    ep, info = max(delta.items(), key=lambda kv: kv[1]["requests"])
    return info["requests"] / rate, ep


def run_client(url: str, *args: str, timeout: float = 7200, flavour: str = "cloud") -> dict:
    """Run ``bench/_client.py`` in its own process against the local Jira of ``flavour`` at ``url``."""
    env = dict(os.environ, **demo_environment(url, flavour))
    proc = subprocess.run([PY, str(BENCH / "_client.py"), *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"client failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return info


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(), **data}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True))
    print(json.dumps(data, indent=2, sort_keys=True))
    return path
