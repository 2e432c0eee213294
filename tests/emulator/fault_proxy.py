#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 reverse proxy in front of the AWS emulator, for
ses-doctor's end-to-end tests of how it copes with AWS misbehaving (throttling,
5xx, unreadable answers, hangs, resets, slow answers), and for the benchmark
(bench/), which uses its delays as network latency and its log's timestamps.
Standard library only.

Usage:
    python3 fault_proxy.py http://127.0.0.1:EMULATOR_PORT [--host 127.0.0.1] [--port 0]

Prints exactly one line ``READY http://127.0.0.1:PORT`` on stdout once it listens
(then nothing more on stdout). Exits when its stdin reaches EOF (so a test that
ends, or dies, takes it along), on SIGTERM and on SIGINT; nothing keeps running
after that. Diagnostics go to stderr.

Every request that is not for the control API is forwarded to the emulator
byte for byte (request line, headers, body: the SigV4 signature covers the Host
header the client sent, which the emulator checks), on a fresh upstream
connection per request. Client connections are kept alive as HTTP/1.1 allows.

Each request is classified from what a real AWS front end sees:
    service, region  the SigV4 credential scope of the Authorization header
                     (Credential=AKID/DATE/REGION/SERVICE/aws4_request), or of
                     X-Amz-Credential in a presigned URL
    account          the account encoded in the access key ID (as
                     sts:GetAccessKeyInfo decodes it; the emulator's key IDs use
                     AWS's encoding)
    action           query protocol (STS, IAM, SES v1): the Action parameter of
                     the form body or query string. SES v2 (rest-json, paths
                     under /v2/): the operation whose HTTP method and requestUri
                     template in botocore's sesv2 model match the request, e.g.
                     POST /v2/email/outbound-emails = SendEmail, GET
                     /v2/email/account = GetAccount, GET /v2/email/identities =
                     ListEmailIdentities, POST /v2/email/identities =
                     CreateEmailIdentity, GET /v2/email/identities/X =
                     GetEmailIdentity; plus the paths of the newer model
                     aws-sdk-sesv2 uses (NEWER_SESV2_ROUTES: ListEmailIdentities
                     is POST /v2/email/list-identities there).

Control API (on the proxy itself, plain JSON, never forwarded):

    POST   /_fault/rules   [rule, ...]  -> 200 {"rules": n}
           Replaces the rules (400 {"error": ...} for an invalid rule, rules
           unchanged). Requests held by a hang are released (forwarded and
           answered normally).
    DELETE /_fault/rules   -> 200 {"rules": 0}; clears them, releasing hangs.
    GET    /_fault/rules   -> 200 the rules, each with "applied" (times used).
    GET    /_fault/log     -> 200 [entry, ...], oldest first, one per request:
           {"seq", "method", "path", "service", "region", "action", "account",
            "access_key_id", "request_sha256" (of the method, path, query
            and body: equal for repeats of one call; the signature headers,
            which carry the time, are left out),
            "rule" (index of the rule applied, or null),
            "fault" (its kind: "status", "truncate", "body", "hang",
                     "reset_after_forward", "trickle_ms", "delay_ms"; or null),
            "status" (the HTTP status the client was sent; null if none was),
            "upstream_status" (the emulator's, when forwarded),
            "outcome": "pending" | "answered" | "reset" | "client-gone" |
                       "released" | "limit" | "upstream-error: ...",
            "t_start" (seconds since the proxy started, float: when the whole
                       request had been read),
            "t_end" (likewise: when the answer had been sent, or the request
                     was otherwise done with; null while pending)}
    DELETE /_fault/log     -> 200 {"log": 0}; empties it.

A rule is a JSON object. Matchers, all optional, each a string or a list of
strings (any of them): "service" (sts, iam, ses), "region", "action", "account".
"times": N applies the rule to its first N matching requests only; after that
it no longer matches (later rules, or plain forwarding, take over). The first
rule that matches (and is not used up) is applied. Exactly one fault:

    {"status": 429, "code": "Throttling", "message": "Rate exceeded"}
        Answered at once, not forwarded, in the service's protocol: awsQuery
        XML <ErrorResponse> (text/xml) for STS, IAM, SES v1; rest-json for SES
        v2 ({"message": ...} and the code in x-amzn-ErrorType), as the
        emulator's render_error. Always with x-amzn-RequestId and Date. "code"
        defaults by status (429 Throttling, 500 InternalFailure, 503
        ServiceUnavailable), "message" by code.
    {"truncate": N}       forwarded; only the first N bytes of the emulator's
                          body are sent, with Content-Length N (a complete
                          message whose document is cut off).
    {"body": "..."}       forwarded; the body is replaced (Content-Length fixed).
    {"hang": true}        not forwarded, never answered: held until the client
                          closes the connection (then dropped), or the rules
                          change (then forwarded and answered), or 600 s pass
                          (then the connection is closed without an answer).
                          "hang_seconds" lowers that bound.
    {"reset_after_forward": true}
                          forwarded and fully processed by the emulator, then
                          the client connection is reset (SO_LINGER 0: RST),
                          without a byte of the answer.
    {"trickle_ms": M}     forwarded; the whole answer (status line, headers,
                          body) is sent one byte every M ms, until done, the
                          client goes away, or 600 s pass.
    {"delay_ms": M}       forwarded after M ms (at most 600000), then
                          answered normally: latency. A client that goes
                          away meanwhile is dropped ("client-gone"), not
                          forwarded. With the matchers, a per-region latency
                          table is a list of rules, e.g.
                          [{"region": "ap-south-1", "delay_ms": 250},
                           {"delay_ms": 50}].

Bounds: a client has 120 s to send a request (and between requests on a kept
connection), the emulator 300 s to answer; hangs and trickles end after 600 s.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import gzip
import hashlib
import importlib.util
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from base64 import b32decode
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

HEAD_LIMIT = 64 * 1024
BODY_LIMIT = 32 * 1024 * 1024
CLIENT_IDLE_SECONDS = 120.0
UPSTREAM_SECONDS = 300.0
HANG_LIMIT_SECONDS = 600.0
TRICKLE_LIMIT_SECONDS = 600.0
DELAY_LIMIT_MS = 600_000
# The log's timestamps count from here (monotonic: immune to clock changes).
STARTED = time.monotonic()

FAULT_KINDS = (
    "status", "truncate", "body", "hang", "reset_after_forward", "trickle_ms", "delay_ms",
)
MATCHERS = ("service", "region", "action", "account")
RULE_KEYS = frozenset(MATCHERS + FAULT_KINDS + ("times", "code", "message", "hang_seconds"))

DEFAULT_CODES = {
    400: "ValidationError",
    403: "AccessDenied",
    429: "Throttling",
    500: "InternalFailure",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
DEFAULT_MESSAGES = {
    "Throttling": "Rate exceeded",
    "ThrottlingException": "Rate exceeded",
    "TooManyRequestsException": "Too Many Requests",
    "InternalFailure": "The request processing has failed because of an unknown error, "
    "exception or failure.",
    "ServiceUnavailable": "Service is unavailable. Please try again later.",
}
# Used when botocore's models cannot be found (the emulator's Python has them).
FALLBACK_XML_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "ses": "http://ses.amazonaws.com/doc/2010-12-01/",
}
FALLBACK_SESV2_ROUTES = [
    ("GET", "/v2/email/account", "GetAccount"),
    ("GET", "/v2/email/identities", "ListEmailIdentities"),
    ("POST", "/v2/email/identities", "CreateEmailIdentity"),
    ("GET", "/v2/email/identities/{EmailIdentity}", "GetEmailIdentity"),
    ("DELETE", "/v2/email/identities/{EmailIdentity}", "DeleteEmailIdentity"),
    ("POST", "/v2/email/outbound-emails", "SendEmail"),
    ("POST", "/v2/email/account/details", "PutAccountDetails"),
]

# aws-sdk-sesv2 1.145 (ses-doctor's) is built from a newer model than
# botocore 1.43's, which moved some operations to new paths; both are
# recognised, these first.
NEWER_SESV2_ROUTES = [
    ("POST", "/v2/email/list-identities", "ListEmailIdentities"),
    ("POST", "/v2/email/list-configuration-sets", "ListConfigurationSets"),
    ("POST", "/v2/email/update-configuration-sets", "UpdateConfigurationSet"),
    ("POST", "/v2/email/email-address-insights", "GetEmailAddressInsights"),
    ("GET", "/v2/email/insights/{MessageId}", "GetMessageInsights"),
    ("PUT", "/v2/email/account/pricing-attributes", "PutAccountPricingAttributes"),
    ("POST", "/v2/email/tenant/suppression", "PutTenantSuppressionAttributes"),
    ("POST", "/v2/email/identity/certificates", "AssociateEmailIdentityCertificate"),
    ("POST", "/v2/email/identity/certificates/delete", "DisassociateEmailIdentityCertificate"),
    ("POST", "/v2/email/identity/certificates/list", "ListEmailIdentityCertificates"),
]


class ProtocolError(Exception):
    pass


# ---------------------------------------------------------------------------
# botocore's models, read as data (gzip + json), without importing botocore
# ---------------------------------------------------------------------------


def _model(service: str) -> dict[str, Any] | None:
    try:
        spec = importlib.util.find_spec("botocore")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations))) / "data" / service
    versions = sorted(p for p in data.glob("*") if p.is_dir()) if data.is_dir() else []
    for version in reversed(versions):
        for name, opener in (("service-2.json.gz", gzip.open), ("service-2.json", open)):
            path = version / name
            if path.exists():
                with opener(path, "rt", encoding="utf-8") as f:
                    return json.load(f)
    return None


def _route_pattern(uri: str) -> re.Pattern[str]:
    path = uri.split("?", 1)[0]
    out, pos = "", 0
    for m in re.finditer(r"\{([^}]+)\}", path):
        out += re.escape(path[pos:m.start()])
        out += ".+" if m.group(1).endswith("+") else "[^/]+"
        pos = m.end()
    out += re.escape(path[pos:])
    return re.compile(out + "/?")


def load_sesv2_routes() -> list[tuple[str, re.Pattern[str], str, int]]:
    model = _model("sesv2")
    routes: list[tuple[str, str, str]] = []
    if model:
        for name, op in model.get("operations", {}).items():
            http = op.get("http", {})
            if http.get("method") and http.get("requestUri"):
                routes.append((http["method"], http["requestUri"], name))
    if not routes:
        routes = FALLBACK_SESV2_ROUTES
    compiled = []
    for newer, table in ((1, NEWER_SESV2_ROUTES), (0, routes)):
        for method, uri, name in table:
            literal = len(re.sub(r"\{[^}]+\}", "", uri.split("?", 1)[0]))
            compiled.append((method.upper(), _route_pattern(uri), name, newer, literal))
    # The newer model first, then the most specific template (most literal characters).
    compiled.sort(key=lambda r: (-r[3], -r[4]))
    return [(method, pattern, name, literal) for method, pattern, name, _, literal in compiled]


def load_xml_namespaces() -> dict[str, str]:
    namespaces = dict(FALLBACK_XML_NAMESPACES)
    for service in namespaces:
        model = _model(service)
        ns = (model or {}).get("metadata", {}).get("xmlNamespace")
        if ns:
            namespaces[service] = ns
    return namespaces


SESV2_ROUTES = load_sesv2_routes()
XML_NAMESPACES = load_xml_namespaces()


# ---------------------------------------------------------------------------
# HTTP/1.1 messages
# ---------------------------------------------------------------------------


class Stream:
    """A StreamReader with our own buffer, so a connection can be watched for
    EOF (a client giving up) without losing bytes it sends meanwhile."""

    def __init__(self, reader: asyncio.StreamReader):
        self.reader = reader
        self.buf = bytearray()
        self.eof = False

    async def fill(self) -> bool:
        if self.eof:
            return False
        data = await self.reader.read(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        if len(self.buf) > HEAD_LIMIT + BODY_LIMIT:
            raise ProtocolError("too much data")
        return True

    async def until_eof(self) -> None:
        """Reads (and keeps) until the peer closes its side."""
        try:
            while await self.fill():
                pass
        except (ConnectionError, ProtocolError, OSError):
            self.eof = True

    async def read_line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i + 2])
                del self.buf[:i + 2]
                return line
            if len(self.buf) > HEAD_LIMIT:
                raise ProtocolError("line too long")
            if not await self.fill():
                raise ProtocolError("connection closed mid-message")

    async def read_head(self) -> bytes | None:
        """Up to and including the blank line; None on a clean EOF before it."""
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = bytes(self.buf[:i + 4])
                del self.buf[:i + 4]
                return head
            if len(self.buf) > HEAD_LIMIT:
                raise ProtocolError("head too long")
            if not await self.fill():
                if self.buf.strip():
                    raise ProtocolError("connection closed mid-head")
                return None

    async def read_exact(self, n: int) -> bytes:
        if n > BODY_LIMIT:
            raise ProtocolError("body too long")
        while len(self.buf) < n:
            if not await self.fill():
                raise ProtocolError("connection closed mid-body")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def read_to_eof(self) -> bytes:
        while await self.fill():
            pass
        data = bytes(self.buf)
        self.buf.clear()
        return data


class Message:
    def __init__(self, head: bytes):
        self.head = head
        lines = head.decode("latin-1").split("\r\n")
        self.start = lines[0]
        self.headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if not line:
                continue
            if ":" not in line:
                raise ProtocolError(f"bad header line {line!r}")
            name, value = line.split(":", 1)
            self.headers.append((name.strip(), value.strip()))
        self.raw_body = b""  # as framed on the wire (chunked stays chunked)
        self.body = b""  # decoded

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def wants_close(self) -> bool:
        return "close" in (self.header("Connection") or "").lower()

    @property
    def raw(self) -> bytes:
        return self.head + self.raw_body


async def read_body(stream: Stream, msg: Message, until_eof: bool) -> None:
    te = (msg.header("Transfer-Encoding") or "").lower()
    if "chunked" in te:
        raw, body = bytearray(), bytearray()
        while True:
            line = await stream.read_line()
            raw += line
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {line!r}") from None
            if size == 0:
                while True:  # trailers, up to the blank line
                    trailer = await stream.read_line()
                    raw += trailer
                    if trailer == b"\r\n":
                        break
                break
            chunk = await stream.read_exact(size + 2)
            raw += chunk
            body += chunk[:-2]
            if len(body) > BODY_LIMIT:
                raise ProtocolError("body too long")
        msg.raw_body, msg.body = bytes(raw), bytes(body)
    elif msg.header("Content-Length") is not None:
        try:
            n = int(msg.header("Content-Length") or "")
        except ValueError:
            raise ProtocolError("bad Content-Length") from None
        msg.body = msg.raw_body = await stream.read_exact(n)
    elif until_eof:
        msg.body = msg.raw_body = await stream.read_to_eof()


class Request(Message):
    def __init__(self, head: bytes):
        super().__init__(head)
        parts = self.start.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise ProtocolError(f"bad request line {self.start!r}")
        self.method, self.target, self.version = parts
        split = urlsplit(self.target)
        self.path, self.query = split.path, split.query


class Response(Message):
    def __init__(self, head: bytes):
        super().__init__(head)
        parts = self.start.split(" ", 2)
        try:
            self.status = int(parts[1])
        except (IndexError, ValueError):
            raise ProtocolError(f"bad status line {self.start!r}") from None


async def read_request(stream: Stream) -> Request | None:
    head = await stream.read_head()
    if head is None:
        return None
    req = Request(head)
    await read_body(stream, req, until_eof=False)
    return req


async def read_response(stream: Stream, method: str) -> Response:
    prefix = b""
    while True:
        head = await stream.read_head()
        if head is None:
            raise ProtocolError("upstream closed without an answer")
        resp = Response(head)
        if 100 <= resp.status < 200:  # 100 Continue and the like: pass along
            prefix += head
            continue
        break
    if not (method == "HEAD" or resp.status in (204, 304)):
        await read_body(stream, resp, until_eof=True)
    resp.head = prefix + resp.head
    return resp


def http_date() -> str:
    return email.utils.formatdate(time.time(), usegmt=True)


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def build_response(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason_phrase(status)}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def reframed(resp: Response, body: bytes) -> bytes:
    """The emulator's answer with another body: its status and headers, but
    framed by a Content-Length for exactly the bytes sent."""
    skip = {"content-length", "transfer-encoding"}
    headers = [(k, v) for k, v in resp.headers if k.lower() not in skip]
    return build_response(resp.status, headers, body)


# ---------------------------------------------------------------------------
# What a request is
# ---------------------------------------------------------------------------


def account_from_key_id(key_id: str | None) -> str | None:
    """The account ID encoded in an AKIA/ASIA key ID (sts:GetAccessKeyInfo)."""
    if not key_id or len(key_id) < 16 or key_id[:4] not in ("AKIA", "ASIA"):
        return None
    rest = key_id[4:]
    try:
        decoded = b32decode(rest + "=" * (-len(rest) % 8))
    except (ValueError, TypeError):
        return None
    value = int.from_bytes(decoded[:6], "big")
    return f"{(value & 0x7FFFFFFFFF80) >> 7:012d}"


def classify(req: Request) -> dict[str, Any]:
    scope: list[str] = []
    m = re.search(r"Credential=([^,\s]+)", req.header("Authorization") or "")
    if m:
        scope = m.group(1).split("/")
    elif "X-Amz-Credential=" in req.query:
        scope = parse_qs(req.query).get("X-Amz-Credential", [""])[0].split("/")
    key_id = scope[0] if scope and scope[0] else None
    region = scope[2] if len(scope) > 2 else None
    service = scope[3] if len(scope) > 3 else None
    action = None
    if service == "ses" and req.path.startswith("/v2/"):
        for method, pattern, name, _ in SESV2_ROUTES:
            if method == req.method and pattern.fullmatch(req.path):
                action = name
                break
    else:
        params: dict[str, list[str]] = {}
        content_type = (req.header("Content-Type") or "").lower()
        if content_type.startswith("application/x-www-form-urlencoded"):
            params = parse_qs(req.body.decode("utf-8", "replace"))
        action = (params.get("Action") or parse_qs(req.query).get("Action") or [None])[0]
    fingerprint = hashlib.sha256()
    for part in (req.method, req.path, req.query):
        fingerprint.update(part.encode("utf-8", "replace") + b"\n")
    fingerprint.update(req.body)
    return {
        "method": req.method,
        "path": req.path,
        "service": service,
        "region": region,
        "action": action,
        "account": account_from_key_id(key_id),
        "access_key_id": key_id,
        "request_sha256": fingerprint.hexdigest(),
    }


def error_answer(info: dict[str, Any], fault: dict[str, Any]) -> tuple[int, bytes]:
    status = int(fault["status"])
    code = fault.get("code") or DEFAULT_CODES.get(status, "InternalFailure")
    message = fault.get("message") or DEFAULT_MESSAGES.get(code) or reason_phrase(status)
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id), ("Date", http_date())]
    service = info["service"]
    rest_json = (service == "ses" and info["path"].startswith("/v2/")) or (
        service not in XML_NAMESPACES and service is not None)
    if rest_json:
        headers += [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", f"{code}:http://internal.amazon.com/coral/com.amazon.coral.service/"),
        ]
        body = json.dumps({"message": message})
    else:
        ns = XML_NAMESPACES.get(service or "")
        xmlns = f' xmlns="{ns}"' if ns else ""
        kind = "Receiver" if status >= 500 else "Sender"
        body = (
            f"<ErrorResponse{xmlns}>\n"
            f"  <Error>\n"
            f"    <Type>{kind}</Type>\n"
            f"    <Code>{xml_escape(code)}</Code>\n"
            f"    <Message>{xml_escape(message)}</Message>\n"
            f"  </Error>\n"
            f"  <RequestId>{request_id}</RequestId>\n"
            f"</ErrorResponse>\n"
        )
        headers.append(("Content-Type", "text/xml"))
    return status, build_response(status, headers, body.encode())


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------
# Rules and the log
# ---------------------------------------------------------------------------


def validate_rule(rule: Any, index: int) -> dict[str, Any]:
    where = f"rule {index}"
    if not isinstance(rule, dict):
        raise ValueError(f"{where}: not an object")
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    for key in MATCHERS:
        value = rule.get(key)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{where}: {key} must be a string or a list of strings")
    faults = [k for k in FAULT_KINDS if k in rule]
    if len(faults) != 1:
        raise ValueError(f"{where}: exactly one fault of {list(FAULT_KINDS)}, got {faults}")
    kind = faults[0]
    value = rule[kind]
    if kind == "status" and not (isinstance(value, int) and 400 <= value <= 599):
        raise ValueError(f"{where}: status must be an HTTP error status (400-599)")
    if kind in ("truncate", "trickle_ms") and not (isinstance(value, int) and value >= 0):
        raise ValueError(f"{where}: {kind} must be a non-negative integer")
    if kind == "trickle_ms" and value > 60_000:
        raise ValueError(f"{where}: trickle_ms at most 60000")
    if kind == "delay_ms" and not (isinstance(value, int) and 0 <= value <= DELAY_LIMIT_MS):
        raise ValueError(f"{where}: delay_ms must be an integer, 0 to {DELAY_LIMIT_MS}")
    if kind == "body" and not isinstance(value, str):
        raise ValueError(f"{where}: body must be a string")
    if kind in ("hang", "reset_after_forward") and value is not True:
        raise ValueError(f"{where}: {kind} must be true")
    if ("code" in rule or "message" in rule) and kind != "status":
        raise ValueError(f"{where}: code and message go with status")
    for key in ("code", "message"):
        if key in rule and not isinstance(rule[key], str):
            raise ValueError(f"{where}: {key} must be a string")
    if "hang_seconds" in rule:
        seconds = rule["hang_seconds"]
        if kind != "hang" or not isinstance(seconds, (int, float)) or not 0 < seconds <= HANG_LIMIT_SECONDS:
            raise ValueError(f"{where}: hang_seconds goes with hang, 0 < s <= {HANG_LIMIT_SECONDS:.0f}")
    if "times" in rule and not (isinstance(rule["times"], int) and rule["times"] >= 1):
        raise ValueError(f"{where}: times must be an integer >= 1")
    return {**rule, "kind": kind, "applied": 0}


class State:
    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []
        self.seq = 0
        self.rules_changed = asyncio.Event()

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        self.rules = rules
        # Release every request held by a hang; later ones wait on a new event.
        self.rules_changed.set()
        self.rules_changed = asyncio.Event()

    def match(self, info: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        for index, rule in enumerate(self.rules):
            if "times" in rule and rule["applied"] >= rule["times"]:
                continue
            if all(
                key not in rule
                or info.get(key) in (rule[key] if isinstance(rule[key], list) else [rule[key]])
                for key in MATCHERS
            ):
                rule["applied"] += 1
                return index, rule
        return None

    def entry(self, info: dict[str, Any], matched: tuple[int, dict[str, Any]] | None) -> dict[str, Any]:
        self.seq += 1
        entry = {
            "seq": self.seq,
            **info,
            "rule": matched[0] if matched else None,
            "fault": matched[1]["kind"] if matched else None,
            "status": None,
            "upstream_status": None,
            "outcome": "pending",
            "t_start": since_start(),
            "t_end": None,
        }
        self.log.append(entry)
        return entry


STATE: State | None = None


def since_start() -> float:
    return round(time.monotonic() - STARTED, 6)


# ---------------------------------------------------------------------------
# The proxy
# ---------------------------------------------------------------------------


async def send(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Writes, waiting at most CLIENT_IDLE_SECONDS for a client that does not read."""
    writer.write(data)
    await asyncio.wait_for(writer.drain(), CLIENT_IDLE_SECONDS)


class Proxy:
    def __init__(self, upstream: str):
        split = urlsplit(upstream)
        if split.scheme != "http" or not split.hostname or not split.port:
            raise SystemExit(f"upstream must be http://HOST:PORT, not {upstream!r}")
        self.upstream_host, self.upstream_port = split.hostname, split.port

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stream = Stream(reader)
        aborted = False
        try:
            while True:
                try:
                    req = await asyncio.wait_for(read_request(stream), CLIENT_IDLE_SECONDS)
                except (asyncio.TimeoutError, ProtocolError, ConnectionError, OSError):
                    break
                if req is None:
                    break
                if req.path.startswith("/_fault/"):
                    await send(writer, self.control(req))
                    keep = not req.wants_close()
                else:
                    keep, aborted = await self.serve(req, stream, writer)
                if not keep or aborted:
                    break
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        finally:
            if not aborted:
                writer.close()
                try:
                    await asyncio.wait_for(writer.wait_closed(), 5)
                except (asyncio.TimeoutError, ConnectionError, OSError):
                    pass

    # -- control API ---------------------------------------------------------

    def control(self, req: Request) -> bytes:
        assert STATE is not None
        status, payload = 200, None
        if req.path == "/_fault/rules" and req.method == "POST":
            try:
                rules = json.loads(req.body or b"null")
                if not isinstance(rules, list):
                    raise ValueError("the rules must be a JSON list")
                STATE.set_rules([validate_rule(r, i) for i, r in enumerate(rules)])
                payload = {"rules": len(rules)}
            except ValueError as e:  # json.JSONDecodeError is a ValueError
                status, payload = 400, {"error": str(e)}
        elif req.path == "/_fault/rules" and req.method == "DELETE":
            STATE.set_rules([])
            payload = {"rules": 0}
        elif req.path == "/_fault/rules" and req.method == "GET":
            payload = [{k: v for k, v in r.items() if k != "kind"} for r in STATE.rules]
        elif req.path == "/_fault/log" and req.method == "GET":
            payload = STATE.log
        elif req.path == "/_fault/log" and req.method == "DELETE":
            STATE.log.clear()
            payload = {"log": 0}
        else:
            status, payload = 404, {"error": f"no control endpoint {req.method} {req.path}"}
        return build_response(
            status, [("Content-Type", "application/json")], json.dumps(payload).encode()
        )

    # -- forwarding ----------------------------------------------------------

    async def forward(self, req: Request) -> Response:
        """One request on a fresh upstream connection, bounded."""

        async def exchange() -> Response:
            reader, writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
            try:
                writer.write(req.raw)
                await writer.drain()
                return await read_response(Stream(reader), req.method)
            finally:
                writer.close()

        return await asyncio.wait_for(exchange(), UPSTREAM_SECONDS)

    async def serve(
        self, req: Request, stream: Stream, writer: asyncio.StreamWriter
    ) -> tuple[bool, bool]:
        """Answers one request. Returns (keep the connection, it was aborted)."""
        assert STATE is not None
        info = classify(req)
        matched = STATE.match(info)
        entry = STATE.entry(info, matched)
        try:
            return await self.answer(req, stream, writer, info, matched, entry)
        finally:
            # Every way out, an exception included (a client that stopped reading).
            entry["t_end"] = since_start()

    async def answer(
        self,
        req: Request,
        stream: Stream,
        writer: asyncio.StreamWriter,
        info: dict[str, Any],
        matched: tuple[int, dict[str, Any]] | None,
        entry: dict[str, Any],
    ) -> tuple[bool, bool]:
        rule = matched[1] if matched else {"kind": None}
        kind = rule["kind"]
        keep = not req.wants_close()

        if kind == "status":
            status, data = error_answer(info, rule)
            await send(writer, data)
            entry.update(status=status, outcome="answered")
            return keep, False

        if kind == "hang":
            outcome = await self.hold(stream, rule)
            entry["outcome"] = outcome
            if outcome != "released":
                # The client left, or the bound passed: close without an answer.
                return False, False

        if kind == "delay_ms":
            if await self.client_left_within(stream, rule["delay_ms"] / 1000):
                entry["outcome"] = "client-gone"
                return False, False

        try:
            resp = await self.forward(req)
        except (asyncio.TimeoutError, ProtocolError, ConnectionError, OSError) as e:
            why = f"{type(e).__name__}: {e}".strip().rstrip(":")
            data = build_response(502, [("Content-Type", "text/plain")], why.encode())
            await send(writer, data)
            entry.update(status=502, outcome=f"upstream-error: {why}")
            return False, False
        entry["upstream_status"] = resp.status
        keep = keep and not resp.wants_close()

        if kind == "reset_after_forward":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            writer.transport.abort()
            entry["outcome"] = "reset"
            return False, True

        if kind == "trickle_ms":
            outcome = await self.trickle(resp.raw, rule["trickle_ms"] / 1000, stream, writer)
            entry.update(status=resp.status if outcome == "answered" else None, outcome=outcome)
            return keep and outcome == "answered", False

        if kind == "truncate":
            data = reframed(resp, resp.body[: rule["truncate"]])
        elif kind == "body":
            data = reframed(resp, rule["body"].encode())
        else:
            data = resp.raw
        await send(writer, data)
        if entry["outcome"] == "pending":
            entry["outcome"] = "answered"
        entry["status"] = resp.status
        return keep, False

    async def hold(self, stream: Stream, rule: dict[str, Any]) -> str:
        assert STATE is not None
        limit = float(rule.get("hang_seconds", HANG_LIMIT_SECONDS))
        gone = asyncio.ensure_future(stream.until_eof())
        released = asyncio.ensure_future(STATE.rules_changed.wait())
        try:
            done, _ = await asyncio.wait({gone, released}, timeout=limit,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            released.cancel()
        if gone in done:
            return "client-gone"
        if released in done:
            return "released"
        return "limit"

    async def client_left_within(self, stream: Stream, seconds: float) -> bool:
        """Waits `seconds`; True if the client closed its side meanwhile."""
        gone = asyncio.ensure_future(stream.until_eof())
        try:
            done, _ = await asyncio.wait({gone}, timeout=seconds)
        finally:
            gone.cancel()
        return gone in done

    async def trickle(
        self, data: bytes, interval: float, stream: Stream, writer: asyncio.StreamWriter
    ) -> str:
        deadline = time.monotonic() + TRICKLE_LIMIT_SECONDS
        gone = asyncio.ensure_future(stream.until_eof())
        try:
            for i in range(len(data)):
                if gone.done() or writer.is_closing():
                    return "client-gone"
                if time.monotonic() > deadline:
                    return "limit"
                await send(writer, data[i:i + 1])
                if i + 1 < len(data):
                    await asyncio.wait({gone}, timeout=interval)
            return "answered"
        except (asyncio.TimeoutError, ConnectionError, OSError):
            return "client-gone"
        finally:
            gone.cancel()


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def exit_on_stdin_eof() -> None:
    """The test harness holds our stdin open; when it exits (or dies), EOF."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    os._exit(0)


async def serve(upstream: str, host: str, port: int) -> None:
    global STATE
    STATE = State()
    proxy = Proxy(upstream)
    server = await asyncio.start_server(proxy.handle, host, port, limit=HEAD_LIMIT)
    bound = server.sockets[0].getsockname()
    sys.stdout.write(f"READY http://{bound[0]}:{bound[1]}\n")
    sys.stdout.flush()
    # Nothing else goes to stdout: nobody reads it after READY.
    sys.stdout = sys.stderr
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upstream", help="the emulator, http://127.0.0.1:PORT")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))
    threading.Thread(target=exit_on_stdin_eof, name="stdin-eof", daemon=True).start()
    asyncio.run(serve(args.upstream, args.host, args.port))


if __name__ == "__main__":
    main()
