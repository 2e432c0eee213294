#!/usr/bin/env python3
"""The diagnosis benchmark: how long `ses-doctor diagnose` takes against the local
AWS emulator behind a latency-adding proxy, next to the same AWS calls made by the
AWS CLI (one process per call, as a person would) and by a minimal client making
them with as much concurrency as their dependencies allow (the measured bound).

Not a test, not run in CI. One command:

    bash bench/run [--runs N] [--latency-ms MS] [--region-latency REGION=MS ...]

Prints one Markdown table on stdout (with the machine and the date); progress and
the per-call breakdown go to stderr. See bench/README.md.

Runs under any python3: when this interpreter lacks the emulator's pinned
requirements (tests/emulator/requirements.txt), it re-executes itself under the
virtualenv the e2e tests use (<target>/tmp/emulator-venv), creating it if needed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EMULATOR = REPO / "tests" / "emulator" / "emulator.py"
FAULT_PROXY = REPO / "tests" / "emulator" / "fault_proxy.py"
REQUIREMENTS = REPO / "tests" / "emulator" / "requirements.txt"
READY_TIMEOUT = 60.0

SENDING_REGION = "us-east-1"  # the profile's region: where the mailer sends
IDENTITY_REGION = "eu-west-1"  # where the identity is verified: a region mismatch
DOMAIN = "example.com"
SENDER = "mailer"
FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonSESFullAccess"
TEST_RECIPIENT = "success@simulator.amazonses.com"  # ses-doctor's default --to


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Python with the emulator's pinned requirements (as tests/e2e/support/mod.rs,
# python_with_pinned_requirements: SES_DOCTOR_PYTHON, else the e2e venv)
# ---------------------------------------------------------------------------


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")


def pins() -> list[tuple[str, str]]:
    out = []
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            out.append((name.split("[", 1)[0].strip(), version.strip()))
    return out


def has_pins(python: str | Path) -> bool:
    script = "from importlib.metadata import version\n" + "".join(
        f"assert version({n!r}) == {v!r}\n" for n, v in pins()
    )
    try:
        return subprocess.run([str(python), "-c", script], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        return False


def ensure_pinned_python() -> None:
    """Re-executes this script under a Python with the pins, unless this one has them."""
    if has_pins(sys.executable):
        return
    if os.environ.get("SES_DOCTOR_BENCH_REEXEC"):
        raise SystemExit(f"bench: {sys.executable} still lacks the pins of {REQUIREMENTS}")
    candidates = [os.environ.get("SES_DOCTOR_PYTHON"), target_dir() / "tmp/emulator-venv/bin/python"]
    python = next((c for c in candidates if c and has_pins(c)), None)
    if python is None:
        venv = target_dir() / "tmp" / "emulator-venv"
        staging = venv.with_name(f"emulator-venv.staging-{os.getpid()}")
        log(f"creating {venv} and installing {REQUIREMENTS} (once; needs PyPI)")
        shutil.rmtree(staging, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(staging)], check=True)
        subprocess.run([str(staging / "bin/python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "-r", str(REQUIREMENTS)], check=True)
        # Renamed into place whole, so an e2e run never sees a half-built one.
        shutil.rmtree(venv, ignore_errors=True)
        staging.rename(venv)
        python = venv / "bin/python"
    os.environ["SES_DOCTOR_BENCH_REEXEC"] = "1"
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


# ---------------------------------------------------------------------------
# Processes, and cleaning up after them on every way out
# ---------------------------------------------------------------------------


class Interrupted(Exception):
    pass


def on_signal(signum: int, _frame: Any) -> None:
    # Turned into an exception so every `finally` (the ExitStack) runs.
    raise Interrupted(signal.Signals(signum).name)


class Service:
    """A child that prints `READY <url>` and exits when its stdin closes
    (emulator.py, fault_proxy.py): stdin is held open until stop()."""

    def __init__(self, name: str, argv: list[str], log_path: Path):
        self.name, self.log_path = name, log_path
        self.log_file = open(log_path, "wb")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log_file,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"},
        )
        line = b""
        deadline = time.monotonic() + READY_TIMEOUT
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.fail("no READY line within 60 s")
            chunk = os.read(self.proc.stdout.fileno(), 1)
            if not chunk:
                self.fail("exited before READY")
            line += chunk
        text = line.decode().strip()
        if not text.startswith("READY "):
            self.fail(f"unexpected output {text!r}")
        self.url = text.removeprefix("READY ")

    def fail(self, why: str) -> None:
        self.stop()
        raise SystemExit(f"bench: {self.name} did not start: {why}\n{self.log_path.read_text()}")

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # the child exits on EOF...
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # ...or is killed
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()


def http_json(base: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


# Children of ours that are running a measured command, killed on the way out.
RUNNING: set[subprocess.Popen] = set()


# Peak RSS: a child forked from this (large) Python process inherits its memory's high
# water mark through exec (Linux keeps the pre-exec mm's maxrss), so os.wait4 on it
# would report this process's size for a small program. GNU time forks from a small
# process and reports the command's own peak; without it the wait4 figure is kept,
# marked as an upper bound.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def timed_run(argv: list[str], env: dict[str, str], out_path: Path | None = None,
              rss: bool = False) -> dict[str, Any]:
    """Runs one command; its wall time, exit code, stdout, and (rss) its peak RSS."""
    rss_file = None
    if rss and GNU_TIME:
        fd, rss_file = tempfile.mkstemp(prefix="ses-doctor-bench-rss-")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file, *argv]
    try:
        result = spawn_and_wait(argv, env, out_path)
        if rss_file:
            result["rss_kib"] = int(Path(rss_file).read_text().split()[-1])
            result["rss_exact"] = True
    finally:
        if rss_file:
            os.unlink(rss_file)
    return result


def spawn_and_wait(argv: list[str], env: dict[str, str], out_path: Path | None) -> dict[str, Any]:
    with open(out_path or os.devnull, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.DEVNULL)
        RUNNING.add(proc)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            RUNNING.discard(proc)
    return {
        "wall": wall,
        "code": proc.returncode,
        "rss_kib": usage.ru_maxrss,  # kilobytes on Linux; see GNU_TIME
        "rss_exact": False,
        "stdout": out_path.read_text() if out_path else "",
    }


def kill_running() -> None:
    for proc in list(RUNNING):
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(ChildProcessError, OSError):
            proc.wait()


# ---------------------------------------------------------------------------
# The world: an IAM user who may send, the identity in another region
# ---------------------------------------------------------------------------


class World:
    def __init__(self, emulator: str, home: Path):
        import boto3  # from the emulator's venv

        self.emulator, self.home = emulator, home
        account = http_json(emulator, "POST", "/_ses_doctor/accounts", {})
        self.account_id = account["account_id"]
        self.admin = account["admin"]
        session = boto3.session.Session(
            aws_access_key_id=self.admin["access_key_id"],
            aws_secret_access_key=self.admin["secret_access_key"],
        )
        # Built directly against the emulator, not through the proxy: not measured.
        iam = session.client("iam", region_name="us-east-1", endpoint_url=emulator)
        iam.create_user(UserName=SENDER)
        key = iam.create_access_key(UserName=SENDER)["AccessKey"]
        self.sender = {"access_key_id": key["AccessKeyId"],
                       "secret_access_key": key["SecretAccessKey"]}
        iam.attach_user_policy(UserName=SENDER, PolicyArn=FULL_ACCESS)
        session.client("sesv2", region_name=IDENTITY_REGION, endpoint_url=emulator) \
            .create_email_identity(EmailIdentity=DOMAIN)
        base = f"/_ses_doctor/accounts/{self.account_id}"
        http_json(emulator, "POST", f"{base}/verify", {"region": IDENTITY_REGION, "identity": DOMAIN})
        http_json(emulator, "POST", f"{base}/ses-account",
                  {"region": IDENTITY_REGION, "production_access": True, "sending_enabled": True})

        # The mailer's profile sends through us-east-1; `admin` inspects IAM (--admin-profile).
        aws = home / ".aws"
        aws.mkdir(mode=0o700)
        self.config = aws / "config"
        self.credentials = aws / "credentials"
        self.config.write_text(
            f"[profile {SENDER}]\nregion = {SENDING_REGION}\n\n[profile admin]\nregion = us-east-1\n")
        self.credentials.write_text(
            f"[{SENDER}]\naws_access_key_id = {self.sender['access_key_id']}\n"
            f"aws_secret_access_key = {self.sender['secret_access_key']}\n\n"
            f"[admin]\naws_access_key_id = {self.admin['access_key_id']}\n"
            f"aws_secret_access_key = {self.admin['secret_access_key']}\n")
        self.credentials.chmod(0o600)

    def profile_of(self, key_id: str | None) -> str:
        return "admin" if key_id == self.admin["access_key_id"] else SENDER

    def keys_of(self, profile: str) -> dict[str, str]:
        return self.admin if profile == "admin" else self.sender

    def env(self, endpoint: str) -> dict[str, str]:
        """Nothing of the caller's AWS setup: this home, this endpoint (as tests/e2e/cli.rs Home)."""
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("AWS_") or k.startswith("SES_DOCTOR_") or k == "GITHUB_ACTIONS")}
        env.update({
            "HOME": str(self.home),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(self.config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
            "NO_COLOR": "1",
            "AWS_PAGER": "",  # the AWS CLI must not wait on a pager
        })
        return env


# ---------------------------------------------------------------------------
# What a logged call is, as an AWS CLI command and as a botocore call
# ---------------------------------------------------------------------------


def service_of(entry: dict[str, Any]) -> str:
    """botocore's name: the signing name "ses" covers SES v1 and v2 (paths under /v2/)."""
    if entry["service"] == "ses" and entry["path"].startswith("/v2/"):
        return "sesv2"
    return entry["service"] or "?"


def kebab(name: str) -> str:
    out = ""
    for i, c in enumerate(name):
        if c.isupper() and i and not name[i - 1].isupper():
            out += "-"
        out += c.lower()
    return out


def call_spec(entry: dict[str, Any], world: World) -> dict[str, Any]:
    """The call a logged request stands for. The proxy logs the operation, region and
    key, not the parameters: they are rebuilt from the world, which the bench built."""
    service, action, region = service_of(entry), entry["action"], entry["region"]
    profile = world.profile_of(entry["access_key_id"])
    keys = world.keys_of(profile)
    user_arn = f"arn:aws:iam::{world.account_id}:user/{SENDER}"
    identity_arn = f"arn:aws:ses:{IDENTITY_REGION}:{world.account_id}:identity/{DOMAIN}"
    params: dict[str, Any] = {
        ("iam", "GetUser"): {"UserName": SENDER},
        ("iam", "ListAccessKeys"): {"UserName": SENDER},
        ("iam", "ListAttachedUserPolicies"): {"UserName": SENDER},
        ("iam", "ListUserPolicies"): {"UserName": SENDER},
        ("iam", "ListGroupsForUser"): {"UserName": SENDER},
        ("iam", "GetAccessKeyLastUsed"): {"AccessKeyId": world.sender["access_key_id"]},
        ("sts", "GetAccessKeyInfo"): {"AccessKeyId": world.sender["access_key_id"]},
        ("iam", "SimulatePrincipalPolicy"): {
            "PolicySourceArn": user_arn,
            "ActionNames": ["ses:SendEmail", "ses:SendRawEmail"],
            "ResourceArns": [identity_arn],
        },
        ("sesv2", "SendEmail"): {
            "FromEmailAddress": f"ses-doctor@{DOMAIN}",
            "Destination": {"ToAddresses": [TEST_RECIPIENT]},
            "Content": {"Simple": {"Subject": {"Data": "ses-doctor test"},
                                   "Body": {"Text": {"Data": "test"}}}},
        },
    }.get((service, action), {})
    mapped = (service, action) in KNOWN_CALLS
    return {"service": service, "action": action, "region": region, "profile": profile,
            "keys": keys, "params": params, "mapped": mapped}


# Every call ses-doctor made in this world (checked: the bench says so if one is not here).
KNOWN_CALLS = {
    ("sts", "GetCallerIdentity"), ("sts", "GetAccessKeyInfo"),
    ("sesv2", "GetAccount"), ("sesv2", "ListEmailIdentities"), ("sesv2", "SendEmail"),
    ("iam", "GetUser"), ("iam", "ListAccessKeys"), ("iam", "ListAttachedUserPolicies"),
    ("iam", "ListUserPolicies"), ("iam", "ListGroupsForUser"), ("iam", "GetAccessKeyLastUsed"),
    ("iam", "SimulatePrincipalPolicy"),
}


def cli_argv(spec: dict[str, Any]) -> list[str]:
    argv = ["aws", spec["service"], kebab(spec["action"]), "--region", spec["region"],
            "--profile", spec["profile"], "--output", "json"]
    for name, value in spec["params"].items():
        argv.append("--" + kebab(name))
        if isinstance(value, list):
            argv += value
        elif isinstance(value, dict):
            argv.append(json.dumps(value))
        else:
            argv.append(str(value))
    return argv


# Level of the bound: STS first; then the region scan and every IAM look-up; then the
# permission simulation (it needs the identities' ARNs) and the test email (its region).
def bound_level(spec: dict[str, Any]) -> int:
    if (spec["service"], spec["action"]) == ("sts", "GetCallerIdentity"):
        return 1
    if spec["action"] in ("SimulatePrincipalPolicy", "SendEmail"):
        return 3
    return 2


# ---------------------------------------------------------------------------
# What the proxy saw
# ---------------------------------------------------------------------------


def levels(entries: list[dict[str, Any]]) -> list[int]:
    """Level of a request: 1 + the highest level among requests that ended before it
    started (it may have waited on them); 1 if none did."""
    out: list[int] = []
    for e in entries:
        before = [out[i] for i, p in enumerate(entries[: len(out)])
                  if p["t_end"] is not None and p["t_end"] <= e["t_start"]]
        out.append(1 + max(before, default=0))
    return out


def duplicates(entries: list[dict[str, Any]]) -> int:
    """Requests that repeat an earlier one: same service, operation, region, key, and
    the same method, path, query and body (the proxy's request_sha256)."""
    seen: set[tuple] = set()
    dup = 0
    for e in entries:
        key = (service_of(e), e["action"], e["region"], e["access_key_id"], e["request_sha256"])
        dup += key in seen
        seen.add(key)
    return dup


def proxy_log(proxy: str) -> list[dict[str, Any]]:
    entries = http_json(proxy, "GET", "/_fault/log")
    return sorted(entries, key=lambda e: e["t_start"])


def observe(proxy: str) -> dict[str, Any]:
    entries = proxy_log(proxy)
    lv = levels(entries)
    return {"entries": entries, "calls": len(entries), "duplicates": duplicates(entries),
            "levels": max(lv, default=0), "entry_levels": lv,
            # Answered with an AWS error (opt-in regions not enabled), or not at all.
            "errors": sum(1 for e in entries if e["status"] is None or e["status"] >= 400)}


def reset(proxy: str, rules: list[dict[str, Any]]) -> None:
    http_json(proxy, "POST", "/_fault/rules", rules)
    http_json(proxy, "DELETE", "/_fault/log")


# ---------------------------------------------------------------------------
# The measured bound: the same calls, as concurrent as their dependencies allow
# ---------------------------------------------------------------------------


class Captured(Exception):
    """Raised from botocore's before-send hook: the request is built and signed, not sent."""

    def __init__(self, request: Any):
        self.request = request


class Bound:
    """The measured bound. botocore builds and signs every request before the clock
    starts (in Python that takes ~1 ms of CPU each, which in a burst of 60 spreads a
    level over more than the latency; a compiled client signs in microseconds); then
    the signed requests are sent with http.client, a thread and a connection each,
    one level after the other."""

    def __init__(self, specs: list[dict[str, Any]], endpoint: str):
        import botocore.config
        import botocore.session

        self.specs = specs
        session = botocore.session.get_session()
        config = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})
        self.clients = {}
        for s in specs:
            k = (s["service"], s["region"], s["profile"])
            if k not in self.clients:
                client = session.create_client(
                    s["service"], region_name=s["region"], endpoint_url=endpoint,
                    aws_access_key_id=s["keys"]["access_key_id"],
                    aws_secret_access_key=s["keys"]["secret_access_key"], config=config)
                client.meta.events.register_first("before-send", self.capture)
                self.clients[k] = client

    @staticmethod
    def capture(request: Any, **_: Any) -> None:
        raise Captured(request)

    def signed(self, spec: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes]:
        client = self.clients[(spec["service"], spec["region"], spec["profile"])]
        try:
            getattr(client, kebab(spec["action"]).replace("-", "_"))(**spec["params"])
        except Captured as c:
            r = c.request
            body = r.body or b""
            data = body.encode() if isinstance(body, str) else body
            return r.method, r.url, dict(r.headers.items()), data
        raise RuntimeError(f"botocore sent {spec['action']} without the hook")

    @staticmethod
    def send(request: tuple[str, str, dict[str, str], bytes]) -> None:
        import http.client
        import urllib.parse

        method, url, headers, body = request
        split = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(split.hostname, split.port, timeout=30)
        try:
            target = split.path + ("?" + split.query if split.query else "")
            conn.request(method, target or "/", body=body, headers=headers)
            conn.getresponse().read()  # an AWS error (opt-in region) is an answer too
        finally:
            conn.close()

    def run(self) -> float:
        by_level: dict[int, list[tuple]] = {}
        for s in self.specs:
            by_level.setdefault(bound_level(s), []).append(self.signed(s))
        width = max(len(v) for v in by_level.values())
        with ThreadPoolExecutor(max_workers=width) as pool:
            # Every worker thread started before the clock too.
            ready = threading.Barrier(width)
            list(pool.map(lambda _: ready.wait(), range(width)))
            start = time.perf_counter()
            for level in sorted(by_level):
                list(pool.map(self.send, by_level[level]))
            return time.perf_counter() - start


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------


def binary() -> Path:
    given = os.environ.get("SES_DOCTOR_BIN")
    if given:
        path = Path(given).resolve()
        if not os.access(path, os.X_OK):
            raise SystemExit(f"bench: SES_DOCTOR_BIN={given} is not an executable")
        return path
    log("cargo build --release --locked")
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=REPO, check=True)
    return target_dir() / "release" / "ses-doctor"


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="runs per case; the median is shown (5)")
    p.add_argument("--latency-ms", type=int, default=50,
                   help="delay the proxy adds to every request (50)")
    p.add_argument("--region-latency", action="append", default=[], metavar="REGION=MS",
                   help="another delay for one region's requests; repeatable")
    p.add_argument("--hang-region", default="ap-south-1",
                   help="the region that never answers in the hang case (ap-south-1)")
    p.add_argument("--no-aws-cli", action="store_true",
                   help="leave out the AWS CLI case (the slowest: one process per call)")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    args.region_delays = []
    for item in args.region_latency:
        region, _, ms = item.partition("=")
        if not region or not ms.isdigit():
            p.error(f"--region-latency wants REGION=MS, not {item!r}")
        args.region_delays.append((region, int(ms)))
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    ensure_pinned_python()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        with contextlib.ExitStack() as cleanup:
            return bench(args, cleanup)
    except Interrupted as e:
        log(f"interrupted ({e}); everything stopped and removed")
        return 130


def bench(args: argparse.Namespace, cleanup: contextlib.ExitStack) -> int:
    exe = binary()
    # Other work on the machine shows in every number: say how busy it was.
    load_before = os.getloadavg()[0]
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="ses-doctor-bench-"))
    cleanup.callback(shutil.rmtree, work, ignore_errors=True)
    cleanup.callback(kill_running)  # runs first: nothing may still use the home
    home = work / "home"
    home.mkdir()
    python = sys.executable

    log("starting the emulator and the proxy")
    emulator = Service("emulator", [python, str(EMULATOR), "--host", "127.0.0.1", "--port", "0"],
                       work / "emulator.log")
    cleanup.callback(emulator.stop)
    proxy = Service("fault proxy", [python, str(FAULT_PROXY), emulator.url,
                                    "--host", "127.0.0.1", "--port", "0"], work / "proxy.log")
    cleanup.callback(proxy.stop)
    world = World(emulator.url, home)
    env = world.env(proxy.url)

    latency = [{"region": r, "delay_ms": ms} for r, ms in args.region_delays]
    latency.append({"delay_ms": args.latency_ms})
    hang = [{"region": args.hang_region, "hang": True}] + latency

    diagnose = [str(exe), "diagnose", "--output", "json", "--dry-run",
                "--profile", SENDER, "--admin-profile", "admin"]
    out_json = work / "report.json"

    # The call list comes from a first, unmeasured ses-doctor run (it also warms the
    # emulator: moto builds each region's backend on first use).
    reset(proxy.url, latency)
    first = timed_run(diagnose, env, out_json)
    seen = observe(proxy.url)
    report = json.loads(first["stdout"])
    regions_scanned = sorted({e["region"] for e in seen["entries"]
                              if (service_of(e), e["action"]) == ("sesv2", "GetAccount")})
    specs = [call_spec(e, world) for e in seen["entries"]]
    unmapped = sorted({(s["service"], s["action"]) for s in specs if not s["mapped"]})
    describe_run(world, report, first, seen, regions_scanned, unmapped)
    bound = Bound(specs, proxy.url)

    aws = shutil.which("aws", path=env.get("PATH"))
    if args.no_aws_cli:
        aws_note = "left out (--no-aws-cli)"
    elif aws is None:
        aws_note = "not installed (no `aws` on PATH): left out"
    else:
        aws_note = None

    def subset(n: int) -> list[str]:
        # The identity's region first, then the others alphabetically.
        rest = [r for r in regions_scanned if r != IDENTITY_REGION]
        return [IDENTITY_REGION] + rest[: n - 1]

    counts = [n for n in (1, 5, 10) if n < len(regions_scanned)]
    results: dict[str, list[dict[str, Any]]] = {}

    # The bound of each --regions case too, from its own calls: how much longer a scan of every
    # region takes is partly the emulator's (54 requests at once on 2 cores), and the bound
    # shows how much.
    subset_bounds: dict[int, Bound] = {}
    for n in counts:
        reset(proxy.url, latency)
        timed_run(diagnose + ["--regions", ",".join(subset(n))], env)
        subset_seen = observe(proxy.url)
        subset_bounds[n] = Bound([call_spec(e, world) for e in subset_seen["entries"]], proxy.url)

    def record(case: str, sample: dict[str, Any]) -> None:
        results.setdefault(case, []).append(sample)

    for run in range(1, args.runs + 1):
        log(f"run {run}/{args.runs}")
        # Cases in the same order each run, so slow drift hits them alike.
        reset(proxy.url, latency)
        r = timed_run(diagnose, env, out_json, rss=True)
        record("diagnose", {**r, **observe(proxy.url)})

        if aws_note is None:
            reset(proxy.url, latency)
            start = time.perf_counter()
            for s in specs:
                timed_run(cli_argv(s), env)
            record("aws", {"wall": time.perf_counter() - start, **observe(proxy.url)})

        reset(proxy.url, latency)
        record("bound", {"wall": bound.run(), **observe(proxy.url)})

        reset(proxy.url, hang)
        r = timed_run(diagnose, env, out_json)
        record("hang", {**r, **observe(proxy.url)})

        for n in counts:
            reset(proxy.url, latency)
            r = timed_run(diagnose + ["--regions", ",".join(subset(n))], env)
            record(f"regions-{n}", {**r, **observe(proxy.url)})
            reset(proxy.url, latency)
            record(f"bound-{n}", {"wall": subset_bounds[n].run(), **observe(proxy.url)})

        r = timed_run([str(exe), "--help"], env)
        # Timed bare (GNU time's own exec would show at this scale); measured wrapped.
        measured = timed_run([str(exe), "--help"], env, rss=True)
        r.update(rss_kib=measured["rss_kib"], rss_exact=measured["rss_exact"])
        record("help", r)

    load = (load_before, os.getloadavg()[0])
    print_table(args, version, results, regions_scanned, counts, aws_note, load)
    return 0


def describe_run(world: World, report: dict[str, Any], run: dict[str, Any], seen: dict[str, Any],
                 regions: list[str], unmapped: list[tuple[str, str]]) -> None:
    """On stderr: what ses-doctor found and which calls it made at which level."""
    log(f"ses-doctor exit {run['code']}, outcome {report['summary']['outcome']}; "
        f"findings: {', '.join(f['code'] for s in report['steps'] for f in s['findings'])}")
    log(f"{seen['calls']} calls, {seen['duplicates']} duplicates, {seen['levels']} levels, "
        f"{len(regions)} regions scanned, {seen['errors']} answered with an AWS error: "
        + ", ".join(sorted({f"{e['region']}" for e in seen["entries"]
                            if e["status"] is None or e["status"] >= 400})))
    groups: dict[tuple, list[str]] = {}
    for e, level in zip(seen["entries"], seen["entry_levels"]):
        who = world.profile_of(e["access_key_id"])
        groups.setdefault((level, service_of(e), e["action"], who), []).append(e["region"])
    for (level, service, action, who), where in sorted(groups.items(), key=lambda kv: kv[0]):
        shown = where[0] if len(set(where)) == 1 else f"{len(set(where))} regions"
        log(f"  level {level}: {service}:{action} x{len(where)} ({shown}; {who}'s key)")
    if unmapped:
        log(f"calls the bench has no parameters for (sent without): {unmapped}")


def print_table(args: argparse.Namespace, version: str, results: dict[str, list[dict[str, Any]]],
                regions: list[str], counts: list[int], aws_note: str | None,
                load: tuple[float, float]) -> None:
    def wall(case: str) -> float:
        return median([s["wall"] for s in results[case]])

    def calls(case: str, key: str) -> str:
        values = {s[key] for s in results[case]}
        return str(values.pop()) if len(values) == 1 else f"{min(values)}-{max(values)}"

    n = len(regions)
    def rss(case: str) -> str:
        exact = all(s["rss_exact"] for s in results[case])
        return (f"peak RSS {'' if exact else 'at most '}"
                f"{median([s['rss_kib'] for s in results[case]]) / 1024:.1f} MiB")

    rows = [("`ses-doctor diagnose --dry-run`, every SES region (" + str(n) + ")",
             "diagnose", rss("diagnose"))]
    if aws_note is None:
        rows.append(("AWS CLI, the same calls, one `aws` process each, in sequence", "aws",
                     f"{calls('aws', 'errors')} answered with an AWS error "
                     f"(ses-doctor: {calls('diagnose', 'errors')})"))
    rows.append(("Bound: the same calls, maximal concurrency (threads)", "bound",
                 "signed by botocore before the clock starts"))
    rows.append((f"`ses-doctor diagnose`, {args.hang_region} never answers", "hang",
                 "ses-doctor's default --timeout 10"))
    for k in counts:
        rows.append((f"`ses-doctor diagnose --regions` ({k})", f"regions-{k}",
                     f"bound {fmt_s(wall(f'bound-{k}'))} "
                     f"({wall(f'regions-{k}') / wall(f'bound-{k}'):.2f}x)"))

    latency = f"{args.latency_ms} ms per request" + "".join(
        f", {r} {ms} ms" for r, ms in args.region_delays)
    print(f"ses-doctor benchmark: {version}; {machine()}; "
          f"{datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"Latency added by the proxy: {latency}. Median of {args.runs} runs. "
          f"Load average (1 min): {load[0]:.2f} at the start, {load[1]:.2f} at the end.\n")
    print("| Case | Wall time | Calls | Duplicate calls | Dependency levels | Notes |")
    print("|---|---:|---:|---:|---:|---|")
    for label, case, note in rows:
        print(f"| {label} | {fmt_s(wall(case))} | {calls(case, 'calls')} | "
              f"{calls(case, 'duplicates')} | {calls(case, 'levels')} | {note} |")
    if aws_note is not None:
        print(f"| AWS CLI | - | - | - | - | {aws_note} |")
    print(f"| `ses-doctor --help` (start-up) | {fmt_s(wall('help'))} | 0 | - | - | {rss('help')} |")
    print(f"\nses-doctor / bound: {wall('diagnose') / wall('bound'):.2f}x"
          + (f"; AWS CLI / ses-doctor: {wall('aws') / wall('diagnose'):.1f}x" if aws_note is None else ""))
    if 1 in counts:
        print(f"Every region / one region: ses-doctor {wall('diagnose') / wall('regions-1'):.2f}x, "
              f"bound {wall('bound') / wall('bound-1'):.2f}x. "
              f"A silent region costs {fmt_s(wall('hang') - wall('diagnose'))} more.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
