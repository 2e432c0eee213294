#!/usr/bin/env python3
"""AWS emulator for ses-doctor's end-to-end tests: moto, with IAM authentication
enforced from the first request, patched where moto 5.2.1 differs from AWS in ways
ses-doctor depends on.

Usage:
    python3 emulator.py [--host 127.0.0.1] [--port 0] [--demo] [--no-patches]

    --demo        also build a small broken world and print, on stderr, how to
                  point ses-doctor at it
    --no-patches  debugging: stock moto behind the same front end (control API,
                  Date header), to see what a patch changes

Prints exactly one line ``READY http://127.0.0.1:PORT`` on stdout once it listens.
Exits when its stdin reaches EOF (so a test process that dies takes it along),
on SIGTERM, and on SIGINT. Logs to stderr at warning level only.

Point an AWS SDK at it with ``endpoint_url = http://127.0.0.1:PORT``: STS, IAM,
SES v1 and SES v2 are all served from that one address (moto routes on the
service named in the SigV4 credential scope). SES's SMTP interface has its own
listeners per region (POST /_ses_doctor/smtp; see "SMTP interface" below).

Control API (plain JSON over HTTP, unsigned, never seen by moto):

    GET  /_ses_doctor/health
         -> 200 {"status": "ok"}
    POST /_ses_doctor/accounts
         -> 200 {"account_id": "<12 digits, new>",
                 "admin": {"user_name": "admin", "access_key_id": "AKIA...",
                           "secret_access_key": "..."},
                 "root":  {"access_key_id": "AKIA...", "secret_access_key": "..."}}
         A fresh, isolated account: IAM user "admin" with AdministratorAccess and
         one active key, plus a root key (GetCallerIdentity answers
         arn:aws:iam::<id>:root; root may do everything but assume a role,
         as on AWS).
    POST /_ses_doctor/accounts/<id>/ses-account
         {"region": "eu-west-1", "production_access": true, "sending_enabled": true,
          "max_24_hour_send": 50000, "max_send_rate": 14,
          "enforcement_status": "HEALTHY"}            (all fields optional;
                                                       region defaults to us-east-1)
         -> 200 the resulting state. Default per region: sandbox
         (production_access false), sending enabled, 200 per 24 h, 1 per second,
         HEALTHY.
    POST /_ses_doctor/accounts/<id>/verify
         {"region": "us-east-1", "identity": "example.com" | "a@b.c"}
         -> 200; marks an existing identity verified (the stand-in for clicking the
         link / publishing the DNS records). 404 if the identity does not exist.
    POST /_ses_doctor/accounts/<id>/clock
         {"offset_seconds": -900}
         -> 200; requests signed with this account's keys are judged against
         (real now + offset), and responses to them carry that time in ``Date``.
    POST /_ses_doctor/accounts/<id>/regions
         {"region": "af-south-1", "enabled": true}
         -> 200 {"enabled_opt_in_regions": ["af-south-1", ...]} (sorted). Enables
         or disables an opt-in region (``OPT_IN_REGIONS``) for the account; a new
         account has none enabled, as on AWS. 400 for a region that is not opt-in.
    POST /_ses_doctor/accounts/<id>/hang
         {"region": "ap-south-1", "seconds": 300}
         -> 200 {"hang_seconds": {"ap-south-1": 300.0, ...}}. Requests signed
         with this account's keys for that region wait that long before being
         handled; other requests are not held up. 0 removes the hang (and
         releases requests already waiting).
    POST /_ses_doctor/accounts/<id>/keys/<access_key_id>
         {"age_days": 120, "last_used_days_ago": 30, "last_used_service": "ses",
          "last_used_region": "eu-west-1"}            (all optional; service and
                                                       region default to "ses" and
                                                       us-east-1)
         -> 200 {"access_key_id": "AKIA...", "user_name": "...", "status": "Active",
                 "create_date": "2025-01-01T12:00:00Z",
                 "last_used_date": "...Z" | null, "last_used_service": "ses" | "N/A",
                 "last_used_region": "eu-west-1" | "N/A"}.
         Backdates an IAM user key: created age_days ago (ListAccessKeys
         CreateDate), last used last_used_days_ago (GetAccessKeyLastUsed);
         "last_used_days_ago": null means never used. A later accepted request
         records a new last use. 400 for a last use before creation; 404 for an
         unknown account or a key that is not one of its IAM keys (root keys
         keep their fixed 2020-01-01 date).
    POST /_ses_doctor/accounts/<id>/propagation
         {"seconds": 8}
         -> 200 {"seconds": 8.0, "keys_created_after": "...Z" | null}. IAM
         propagation delay: IAM user keys created from now on (CreateAccessKey,
         by anyone) are refused as unknown keys for that many seconds after
         their create date. Keys created earlier, or backdated with .../keys/<id>,
         are unaffected; 0 (the default) turns it off.
    POST /_ses_doctor/accounts/<id>/sso
         {"token": "...", "role_name": "Sender", "user_name": "sso-user",
          "expires_in_seconds": 28800}                (user_name and
                                                       expires_in_seconds
                                                       optional)
         -> 200 {"user_name": "sso-user", "expires_at": "...Z",
                 "assignments": [{"account_id": "<id>", "role_name": "Sender"}]}.
         Registers an IAM Identity Center access token (what ``aws sso login``
         caches in ~/.aws/sso/cache) of user user_name, allowed to get
         credentials for that IAM role of that account (see "SSO portal"
         below). The same token again adds a role (of this or another
         account); expires_in_seconds (default 8 h, Identity Center's default
         session; 0: expired at once, a token AWS no longer honours although
         the cache file still says it is valid) sets when AWS stops taking it.
         400 without a token or for a role the account does not have.

    POST /_ses_doctor/smtp
         {"region": "eu-west-1"}
         -> 200 {"region": "eu-west-1", "host": "127.0.0.1", "starttls_port": N,
                 "tls_port": M, "ca_file": "/abs/path/ca.pem"}
         Starts the region's stand-in for email-smtp.<region>.amazonaws.com (the
         same answer again for a region already started): starttls_port speaks
         plain SMTP and offers STARTTLS (as SES's 587/25/2587), tls_port is TLS
         from the first byte (as 465/2465). Their certificate is for localhost,
         127.0.0.1 and email-smtp.<region>.amazonaws.com, signed by the test CA
         in ca_file. 400 for a malformed region name.
    GET  /_ses_doctor/accounts/<id>/smtp-messages
         -> 200 [{"region": "eu-west-1", "mail_from": "a@example.com",
                  "rcpt_to": ["b@example.com"], "message_id": "0100...-000000",
                  "access_key_id": "AKIA...", "data": "<the message, as text>"}]
         Messages the SMTP interface accepted for the account, oldest first.
    GET  /_ses_doctor/accounts/<id>/smtp-auth
         -> 200 [{"region": "eu-west-1", "access_key_id": "AKIA...",
                  "mechanism": "PLAIN" | "LOGIN", "outcome": "...",
                  "derived_for": "us-east-1" | null, "time": "...Z"}]
         SMTP AUTH attempts with the account's keys, oldest first, never with
         the password. outcome: ok, wrong-password, secret-as-password (the
         IAM secret itself), other-region (a v4 password derived for the
         region in derived_for), legacy-v2, inactive-key, propagating-key,
         region-not-enabled.

    Errors: 400 {"error": "..."} on bad JSON or fields, 404 on unknown account or
    path.

SMTP interface (aiosmtpd on one asyncio loop in its own thread; ``SmtpService``,
``smtp_authenticate``, ``smtp_deliver``), as SES's behaves:
    - TLS is mandatory: on the STARTTLS port every command but EHLO, NOOP,
      STARTTLS and QUIT gets "530 Must issue a STARTTLS command first" until
      TLS is up. EHLO offers "AUTH PLAIN LOGIN" before TLS too (so clients
      that skip STARTTLS meet that 530: Pylons/pyramid_exclog#24,
      Kitura/Swift-SMTP#22).
    - AUTH PLAIN / LOGIN: user name = access key ID, password = the SMTP
      password derived from the key's secret for *this listener's region*
      (v4: HMAC-SHA256 chain from "AWS4"+secret over "11111111", region,
      "ses", "aws4_request", "SendRawEmail"; base64(0x04 || MAC)). The key
      must exist (IAM user key or root key), be Active, be past the account's
      IAM propagation delay, and the region must be enabled for its account.
      Success: "235 Authentication successful."; any failure "535
      Authentication Credentials Invalid"; a matching legacy v2 password
      (base64(0x02 || HMAC-SHA256(secret, "SendRawEmail"))) gets SES's "535
      Signature Version 2 is deprecated for use with SES from March 26, 2021.
      From that date on, ..." (one line; hackclub/api#459,
      yugabyte/yugabyte-db#8180, EFForg/action-center-platform#873) and a
      warning in the log.
    - MAIL FROM before AUTH: "530 Authentication required". MAIL FROM and
      RCPT TO are otherwise accepted ("250 Ok"); SES judges the message at
      the end of DATA (users see SMTPDataError 554), in this order:
      1. ses:SendRawEmail (identity policies, ``evaluate``) on the identity
         covering each sender (From: header addresses, then MAIL FROM), root
         allowed -> "554 Access denied: User `arn:aws:iam::ACCOUNT:user/NAME'
         is not authorized to perform `ses:SendRawEmail' on resource
         `arn:aws:ses:REGION:ACCOUNT:identity/IDENTITY'"
         (ministryofjustice/analytical-platform#6944, GSA/data.gov#3810);
      2. sending paused (ses-account sending_enabled false) -> "554 Message
         rejected: Sending paused for this account. For more information,
         please check the inbox of the email address associated with your AWS
         account." (as logged by PHPMailer "DATA END command failed" and gomail
         in public code; the API says the same in GoodDollar/GoodServer#419);
      3. every sender, and in the sandbox every recipient except
         *@simulator.amazonses.com, covered by a verified identity of the
         account in this region (the address, its domain or a parent domain)
         -> "554 Message rejected: Email address is not verified. The
         following identities failed the check in region EU-WEST-1: ..." (the
         From: header as written, then the envelope sender if it reads
         differently, then recipients; invoiceninja/invoiceninja#2653,
         mageplaza/magento-2-smtp#152).
      Accepted: "250 Ok 0100<ms hex>-<uuid>-000000" (SES's id shape, as in
      postfix logs), recorded (GET .../smtp-messages) and counted in
      GetAccount's SentLast24Hours.

SSO portal (IAM Identity Center's portal.sso.<region>.amazonaws.com, which
moto lacks; ``sso_get_role_credentials``), on the same address:
    GET /federation/credentials?role_name=ROLE&account_id=ACCOUNT with header
    x-amz-sso_bearer_token: TOKEN, unsigned (GetRoleCredentials: the SDKs'
    SSO credential providers call it with the token cached by ``aws sso
    login``). rest-json, as AWS answers:
    - 200 {"roleCredentials": {"accessKeyId": "ASIA...", "secretAccessKey",
      "sessionToken", "expiration": <epoch milliseconds>}}: credentials of a
      one-hour session of the IAM role, issued as sts:AssumeRole issues them
      (session name: the token's user_name), so GetCallerIdentity answers
      arn:aws:sts::ACCOUNT:assumed-role/ROLE/USER and the role's policies
      decide what it may do;
    - an unknown or expired token (or none): 401 UnauthorizedException
      "Session token not found or invalid" (aws/aws-cli#7340);
    - a role of an account the token was not registered for: 403
      ForbiddenException "No access" (not in the service model: the SDKs
      see an unmodelled error code; ministryofjustice/modernisation-platform
      #10161).

Differences from stock moto 5.2.1, one patch function each (see ``PATCHES``):
    signature_uses_raw_request   SigV4 check over the bytes and path actually sent
    clock_skew                   "Signature expired" beyond 5 minutes; Date header
    root_credentials             per-account root keys
    inactive_keys_rejected       Inactive key -> InvalidClientTokenId
    last_used_after_auth         key "last used" only recorded for accepted requests
    policy_evaluation            one IAM evaluator for enforcement and simulation
    sts_assume_role_trust        AssumeRole needs an existing role whose trust
                                 policy allows the caller (and, unless it names
                                 the caller itself, an identity policy); AWS's
                                 AccessDenied texts; root keys refused ("Roles
                                 may not be assumed by root accounts.")
    auth_error_format            AWS-shaped auth errors for query and rest-json
    sts_web_identity             AssumeRoleWithWebIdentity taken unsigned; the
                                 credentials are for the role ARN's account
    iam_resources                resource ARNs in IAM/SES AccessDenied messages
    iam_simulate_principal_policy  for a user, group or role ARN, with its
                                 permissions boundary (PermissionsBoundaryDecisionDetail)
    user_permissions_boundary    Put/DeleteUserPermissionsBoundary; boundaries of
                                 users and roles enforced on API calls (AccessDenied
                                 "... in a permissions boundary"; not on SMTP)
    sesv2_list_identities_route  POST /v2/email/list-identities
    sesv2_get_account
    sesv2_identity_verification  identities start pending; a verified domain
                                 covers its subdomains (SES "Creating and
                                 verifying identities")
    sesv2_send_email_checks      sandbox, paused sending, AWS's rejection texts
    managed_policy_cache         parse AWS managed policies once, not per account
    (front end)                  unsigned request -> MissingAuthenticationToken
                                 (but for sts:AssumeRoleWithWebIdentity, and
                                 the SSO portal's GetRoleCredentials);
                                 one Date and one Server header per response
    (front end)                  long-term key (AKIA..., user or root) sent with
                                 a session token -> InvalidClientTokenId /
                                 UnrecognizedClientException
    (front end)                  AssumeRoleWithWebIdentity: token of 4+
                                 characters (else ValidationError), existing
                                 role whose trust policy allows a federated
                                 principal (else AccessDenied); the token
                                 itself is not verified
    (front end)                  opt-in region not enabled for the account ->
                                 InvalidClientTokenId / UnrecognizedClientException
    (front end)                  hanging regions (per account and region)
    (front end)                  regional endpoints: a path /_endpoint/<AWS host>/...
                                 stands for a request to that host (an
                                 AWS_ENDPOINT_URL_STS or profile endpoint_url
                                 of http://HOST:PORT/_endpoint/sts.eu-west-1.amazonaws.com);
                                 signed for another region than the host's ->
                                 SignatureDoesNotMatch "Credential should be
                                 scoped to a valid region, not 'R'. "
    (front end)                  IAM propagation delay: a new key is refused for
                                 N seconds -> InvalidClientTokenId /
                                 UnrecognizedClientException
    (control API)                backdated key create date and last use
    (SMTP interface)             SES's SMTP endpoints, which moto lacks (above)
    (SSO portal)                 GetRoleCredentials, which moto lacks (above);
                                 the front end keeps its bearer token header,
                                 which werkzeug drops (a "_" in its name)

Extension points: ``AccountState`` holds the per-account switches (clock offset,
SES account settings, enabled opt-in regions, hanging regions, IAM propagation
delay) and what the SMTP interface recorded (messages, AUTH attempts);
``World.sso_tokens`` the Identity Center tokens and the roles each may use;
``pre_dispatch_checks`` runs one function per check, by the SigV4 credential
scope and the account owning the key, before moto sees the request, and answers
in the request's protocol through ``early_error``. The SMTP interface reuses the
same state and checks (``WORLD.key_propagating``, ``WORLD.region_enabled``,
``evaluate``, ``covering_identity``); its replies are the ``SMTP_*`` constants.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import email.parser
import email.policy
import email.utils
import hashlib
import hmac
import io
import ipaddress
import json
import logging
import os
import random
import re
import secrets
import shutil
import signal
import ssl
import string
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

# moto reads these when its settings module is first imported: set them before.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"  # authenticate every request
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # AdministratorAccess & co.
os.environ.pop("MOTO_ACCOUNT_ID", None)  # would pin every request to one account

from aiosmtpd.smtp import SMTP as AioSMTP, AuthResult, Envelope, LoginPassword, Session  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from werkzeug.exceptions import HTTPException  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

import moto  # noqa: E402
import moto.core.responses as core_responses  # noqa: E402
import moto.iam.access_control as access_control  # noqa: E402
import moto.iam.models as iam_models  # noqa: E402
import moto.ses.models as ses_models  # noqa: E402
import moto.sts.models as sts_models  # noqa: E402
from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.core.utils import get_service_model  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.iam.responses import IamResponse as IAMResponse  # noqa: E402
from moto.iam.utils import generate_access_key_id_from_account_id  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    create_backend_app,
)
from moto.sesv2.models import sesv2_backends  # noqa: E402
from moto.sesv2.responses import SESV2Response  # noqa: E402
from moto.sts.responses import TokenResponse  # noqa: E402

log = logging.getLogger("ses-doctor-emulator")

PINNED_MOTO = "5.2.1"
PARTITION = "aws"
CLOCK_SKEW_LIMIT = timedelta(minutes=5)
ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
SIMULATOR_DOMAIN = "simulator.amazonses.com"

# Regions launched after 2019-03-20: disabled until the account enables them
# (Account Management "opt-in" regions). Must match the regions marked opt-in in
# src/regions.rs; re-check both when AWS announces a region.
OPT_IN_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
    "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
    "me-central-1", "me-south-1", "mx-central-1",
})


# ---------------------------------------------------------------------------
# Emulator state (beside moto's backends)
# ---------------------------------------------------------------------------


@dataclass
class SesAccountSettings:
    """What sesv2 GetAccount reports for one account in one region."""

    production_access: bool = False
    sending_enabled: bool = True
    max_24_hour_send: float = 200.0
    max_send_rate: float = 1.0
    enforcement_status: str = "HEALTHY"


@dataclass
class AccountState:
    clock_offset_seconds: int = 0
    ses: dict[str, SesAccountSettings] = field(default_factory=dict)
    # Opt-in regions the account has enabled; like a new AWS account, none.
    enabled_opt_in_regions: set[str] = field(default_factory=set)
    # Region -> seconds a request signed for it waits before being handled.
    hang_seconds: dict[str, float] = field(default_factory=dict)
    # IAM propagation delay: IAM user keys created at or after propagation_since
    # are refused for propagation_seconds after their creation (0: off).
    propagation_seconds: float = 0.0
    propagation_since: datetime | None = None
    # SMTP interface: messages it accepted, and AUTH attempts with the
    # account's keys (never the password), oldest first.
    smtp_messages: list[dict[str, Any]] = field(default_factory=list)
    smtp_auth_attempts: list[dict[str, Any]] = field(default_factory=list)

    def ses_settings(self, region: str) -> SesAccountSettings:
        return self.ses.setdefault(region, SesAccountSettings())


@dataclass
class RootKey:
    account_id: str
    secret_access_key: str


@dataclass
class SsoToken:
    """An IAM Identity Center access token (``aws sso login``) of one user, and
    the roles it may get credentials for (the user's account assignments)."""

    user_name: str
    expires_at: datetime
    assignments: set[tuple[str, str]] = field(default_factory=set)  # (account id, role name)


class World:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        # Notified when a hang changes, so requests already waiting re-read it.
        self.hangs_changed = threading.Condition(self.lock)
        self.accounts: dict[str, AccountState] = {}
        self.root_keys: dict[str, RootKey] = {}
        # Identity Center access tokens (not per account: one token may be
        # assigned roles in several accounts).
        self.sso_tokens: dict[str, SsoToken] = {}

    def account(self, account_id: str) -> AccountState:
        with self.lock:
            return self.accounts.setdefault(account_id, AccountState())

    def clock_offset(self, account_id: str | None) -> int:
        if account_id is None:
            return 0
        state = self.accounts.get(account_id)
        return state.clock_offset_seconds if state else 0

    def region_enabled(self, account_id: str, region: str) -> bool:
        if region not in OPT_IN_REGIONS:
            return True
        state = self.accounts.get(account_id)
        return state is not None and region in state.enabled_opt_in_regions

    def hang_seconds(self, account_id: str, region: str) -> float:
        state = self.accounts.get(account_id)
        return state.hang_seconds.get(region, 0.0) if state else 0.0

    def key_propagating(self, account_id: str, access_key_id: str | None) -> bool:
        """Whether an IAM user key of the account is still within the account's
        propagation delay (judged by the key's create date in moto's backend)."""
        state = self.accounts.get(account_id)
        if state is None or not state.propagation_seconds or state.propagation_since is None:
            return False
        key = iam_backends[account_id][PARTITION].access_keys.get(access_key_id or "")
        if key is None or key.user_name is None:  # root keys, STS session keys
            return False
        created = as_utc(key.create_date)
        if created < state.propagation_since:
            return False
        return utcnow() < created + timedelta(seconds=state.propagation_seconds)


WORLD = World()


# The request being served by this thread, as it came off the wire. werkzeug's
# threaded server runs each request (and moto's handling of it) on one thread.
@dataclass
class WireRequest:
    method: str
    raw_uri: str  # path and query exactly as sent, percent-encoding intact
    body: bytes
    account_id: str | None  # account owning the signing key, if any


_local = threading.local()


def wire_request() -> WireRequest | None:
    return getattr(_local, "request", None)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """moto keeps naive UTC datetimes (create_date, last used); ours are aware."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def moto_time(value: datetime) -> datetime:
    """An aware datetime as moto stores one: naive UTC."""
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def access_key_from_authorization(auth: str | None) -> str | None:
    match = re.search(r"Credential=([^/,\s]+)/", auth or "")
    return match.group(1) if match else None


def credential_scope(auth: str | None) -> list[str]:
    match = re.search(r"Credential=([^,\s]+)", auth or "")
    return match.group(1).split("/") if match else []


def account_of_key(access_key_id: str | None) -> str | None:
    """Account that owns a key (IAM user key or emulated root key), or None."""
    if not access_key_id:
        return None
    root = WORLD.root_keys.get(access_key_id)
    if root:
        return root.account_id
    for account_id, account in list(iam_backends.items()):
        if access_key_id in account[PARTITION].access_keys:
            return account_id
    return None


def account_id_from_key_id(access_key_id: str) -> str | None:
    """Decode the account id embedded in an AKIA/ASIA key id, as AWS does for
    sts:GetAccessKeyInfo (moto's key ids use the same encoding)."""
    try:
        decoded = base64.b32decode(access_key_id[4:] + "=" * (-len(access_key_id[4:]) % 8))
    except (ValueError, TypeError):
        return None
    value = int.from_bytes(decoded[:6], "big")
    return f"{(value & 0x7FFFFFFFFF80) >> 7:012d}"


# ---------------------------------------------------------------------------
# AWS-shaped errors
# ---------------------------------------------------------------------------


class AuthError(Exception):
    """An authentication/authorization failure, rendered per service protocol.

    query_code is what STS/IAM/SES v1 (awsQuery) send; json_code what rest-json
    services such as SES v2 send for the same failure."""

    def __init__(self, query_code: str, json_code: str, message: str, status: int = 403):
        super().__init__(message)
        self.query_code = query_code
        self.json_code = json_code
        self.message = message
        self.status = status


def invalid_client_token() -> AuthError:
    return AuthError(
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


def signature_mismatch(message: str | None = None) -> AuthError:
    return AuthError(
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        message
        or "The request signature we calculated does not match the signature you "
        "provided. Check your AWS Secret Access Key and signing method. Consult the "
        "service documentation for details.",
    )


def access_denied(
    principal_arn: str, action: str, resource: str, explicit: bool, layer: str = "identity-based policy"
) -> AuthError:
    """AWS's AccessDenied, naming the layer that decided: "an identity-based policy" or "a
    permissions boundary" ("with an explicit deny in a permissions boundary", "because no
    permissions boundary allows the ... action")."""
    on_resource = f" on resource: {resource}" if resource and resource != "*" else ""
    article = "an" if layer[0] in "aeiou" else "a"
    reason = (
        f"with an explicit deny in {article} {layer}"
        if explicit
        else f"because no {layer} allows the {action} action"
    )
    return AuthError(
        "AccessDenied",
        "AccessDeniedException",
        f"User: {principal_arn} is not authorized to perform: {action}{on_resource} {reason}",
    )


def missing_authentication_token() -> AuthError:
    return AuthError(
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
        "Request is missing Authentication Token",
    )


def render_error(
    protocol: str, xml_namespace: str | None, code: str, message: str, status: int,
    request_id: str | None = None,
) -> tuple[int, dict[str, str], str]:
    """AWS's wire format for an error: awsQuery XML, or rest-json/json body plus
    the x-amzn-ErrorType header the SDKs read the code from. (moto adds the
    x-amzn-RequestId header, and puts the same id in <RequestId>.)"""
    request_id = request_id or str(uuid.uuid4())
    if protocol in ("rest-json", "json"):
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.coral.service/",
        }
        return status, headers, json.dumps({"message": message})
    xmlns = f' xmlns="{xml_namespace}"' if xml_namespace else ""
    body = (
        f"<ErrorResponse{xmlns}>\n"
        f"  <Error>\n"
        f"    <Type>Sender</Type>\n"
        f"    <Code>{xml_escape(code)}</Code>\n"
        f"    <Message>{xml_escape(message)}</Message>\n"
        f"  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        f"</ErrorResponse>\n"
    )
    return status, {"Content-Type": "text/xml"}, body


def service_protocol(response: core_responses.BaseResponse) -> tuple[str, str | None]:
    model = get_service_model(response.boto3_service_name)
    return model.protocol, model.metadata.get("xmlNamespace")


def json_error(code: str, message: str, status: int = 400) -> tuple[str, dict[str, Any]]:
    """A rest-json error as a moto response method's return value."""
    status, headers, body = render_error("rest-json", None, code, message, status)
    headers["status"] = status
    return body, headers


# ---------------------------------------------------------------------------
# IAM policy evaluation (shared by enforcement and SimulatePrincipalPolicy)
# ---------------------------------------------------------------------------


@dataclass
class SourcePolicy:
    policy_id: str  # SimulatePrincipalPolicy's SourcePolicyId
    policy_type: str  # user | group | role | aws-managed | user-managed
    document: dict[str, Any]


@dataclass
class Decision:
    decision: str  # allowed | implicitDeny | explicitDeny
    matched: list[SourcePolicy]
    missing_context: list[str]


def _wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern
    )
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _substitute(pattern: str, variables: dict[str, str]) -> str:
    return re.sub(
        r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1).lower(), m.group(0)), pattern
    )


def _statement_applies(
    statement: dict[str, Any],
    action: str,
    resource: str,
    variables: dict[str, str],
    context: dict[str, list[str]],
    missing: list[str],
) -> bool:
    if "Action" in statement:
        if not any(_wildcard(p, action, True) for p in _as_list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(_wildcard(p, action, True) for p in _as_list(statement["NotAction"])):
            return False
    else:
        return False
    if "Resource" in statement:
        patterns = [_substitute(p, variables) for p in _as_list(statement["Resource"])]
        if not any(_wildcard(p, resource, False) for p in patterns):
            return False
    elif "NotResource" in statement:
        patterns = [_substitute(p, variables) for p in _as_list(statement["NotResource"])]
        if any(_wildcard(p, resource, False) for p in patterns):
            return False
    if "Condition" in statement:
        return _conditions_hold(statement["Condition"], context, missing)
    return True


def _conditions_hold(
    conditions: dict[str, Any], context: dict[str, list[str]], missing: list[str]
) -> bool:
    """Enough of IAM's condition operators for SES sending policies. A key that the
    caller did not supply makes the statement not apply (and is reported as a
    missing context value, as the simulator does)."""
    for operator, entries in conditions.items():
        op = operator.replace("ForAllValues:", "").replace("ForAnyValue:", "")
        if_exists = op.endswith("IfExists")
        op = op.removesuffix("IfExists")
        for key, expected in entries.items():
            actual = context.get(key.lower())
            if actual is None:
                if if_exists:
                    continue
                if key not in missing:
                    missing.append(key)
                return False
            expected_values = [str(v) for v in _as_list(expected)]
            if op == "StringEquals":
                ok = any(a in expected_values for a in actual)
            elif op == "StringNotEquals":
                ok = all(a not in expected_values for a in actual)
            elif op == "StringEqualsIgnoreCase":
                ok = any(a.lower() in [e.lower() for e in expected_values] for a in actual)
            elif op == "StringLike":
                ok = any(_wildcard(e, a, False) for a in actual for e in expected_values)
            elif op == "StringNotLike":
                ok = not any(_wildcard(e, a, False) for a in actual for e in expected_values)
            elif op == "Bool":
                ok = any(a.lower() in [e.lower() for e in expected_values] for a in actual)
            else:  # unknown operator: be conservative, the statement does not apply
                ok = False
            if not ok:
                return False
    return True


def evaluate(
    policies: list[SourcePolicy],
    action: str,
    resource: str,
    variables: dict[str, str] | None = None,
    context: dict[str, list[str]] | None = None,
) -> Decision:
    """IAM's identity-policy logic: an explicit Deny wins, otherwise any Allow
    allows, otherwise the action is implicitly denied."""
    variables = variables or {}
    context = context or {}
    allows: list[SourcePolicy] = []
    denies: list[SourcePolicy] = []
    missing: list[str] = []
    for policy in policies:
        for statement in _as_list(policy.document.get("Statement", [])):
            if not _statement_applies(statement, action, resource, variables, context, missing):
                continue
            target = denies if statement.get("Effect") == "Deny" else allows
            if policy not in target:
                target.append(policy)
    if denies:
        return Decision("explicitDeny", denies, missing)
    if allows:
        return Decision("allowed", allows, [])
    return Decision("implicitDeny", [], missing)


def _document(policy: Any) -> dict[str, Any]:
    # moto's own IAMPolicy knows where each kind of policy keeps its default document.
    return access_control.IAMPolicy(policy)._policy_json


def _managed(policy: Any) -> SourcePolicy:
    kind = "aws-managed" if ":aws:policy/" in policy.arn else "user-managed"
    return SourcePolicy(policy.name, kind, _document(policy))


def user_policies(account_id: str, user_name: str) -> list[SourcePolicy]:
    """Every identity policy that applies to an IAM user: inline, attached, and
    both kinds through each group."""
    backend = iam_backends[account_id][PARTITION]
    user = backend.get_user(user_name)
    result = [
        SourcePolicy(name, "user", _document(user.get_policy(name)))
        for name in list(user.policies)
    ]
    result += [_managed(p) for p in list(user.managed_policies.values())]
    for group in backend.get_groups_for_user(user_name):
        result += [
            SourcePolicy(name, "group", _document(group.get_policy(name)))
            for name in list(group.policies)
        ]
        result += [_managed(p) for p in list(group.managed_policies.values())]
    return result


def boundary_policy(account_id: str, kind: str, name: str) -> SourcePolicy | None:
    """The permissions boundary of a user or role, when it has one."""
    backend = iam_backends[account_id][PARTITION]
    entity = backend.get_user(name) if kind == "user" else backend.get_role(name)
    arn = getattr(entity, "permissions_boundary_arn", None)
    if not arn:
        return None
    return _managed(backend.get_policy(arn))


@dataclass
class Bounded:
    decision: Decision
    # None: no boundary; else whether the boundary allows the action.
    allowed_by_boundary: bool | None


def evaluate_bounded(
    policies: list[SourcePolicy],
    boundary: SourcePolicy | None,
    action: str,
    resource: str,
    variables: dict[str, str] | None = None,
    context: dict[str, list[str]] | None = None,
) -> Bounded:
    """IAM with a permissions boundary: the action must be allowed by the identity
    policies and by the boundary; a Deny in either wins."""
    decision = evaluate(policies, action, resource, variables, context)
    if boundary is None:
        return Bounded(decision, None)
    capped = evaluate([boundary], action, resource, variables, context)
    if capped.decision == "explicitDeny":
        own = decision.matched if decision.decision == "explicitDeny" else []
        return Bounded(Decision("explicitDeny", own + capped.matched, capped.missing_context), False)
    if capped.decision != "allowed":
        if decision.decision == "explicitDeny":
            return Bounded(decision, False)
        return Bounded(Decision("implicitDeny", [], capped.missing_context), False)
    return Bounded(decision, True)


def patch_user_permissions_boundary() -> None:
    """iam:PutUserPermissionsBoundary / DeleteUserPermissionsBoundary, which moto 5.2.1
    lacks for users (it has them for roles). The boundary is enforced and simulated
    (``evaluate_bounded``)."""

    def put_user_permissions_boundary(self: IAMResponse) -> Any:
        user = self.backend.get_user(self._get_param("UserName"))
        user.permissions_boundary_arn = self._get_param("PermissionsBoundary")
        return core_responses.ActionResult({})

    def delete_user_permissions_boundary(self: IAMResponse) -> Any:
        user = self.backend.get_user(self._get_param("UserName"))
        user.permissions_boundary_arn = None
        return core_responses.ActionResult({})

    IAMResponse.put_user_permissions_boundary = put_user_permissions_boundary
    IAMResponse.delete_user_permissions_boundary = delete_user_permissions_boundary


def group_policies(account_id: str, group_name: str) -> list[SourcePolicy]:
    group = iam_backends[account_id][PARTITION].get_group(group_name)
    result = [
        SourcePolicy(name, "group", _document(group.get_policy(name))) for name in list(group.policies)
    ]
    return result + [_managed(p) for p in list(group.managed_policies.values())]


def role_policies(account_id: str, role_name: str) -> list[SourcePolicy]:
    backend = iam_backends[account_id][PARTITION]
    role = backend.get_role(role_name)
    result = [
        SourcePolicy(name, "role", json.loads(doc) if isinstance(doc, str) else doc)
        for name, doc in list(role.policies.items())
    ]
    return result + [_managed(p) for p in list(role.managed_policies.values())]


# ---------------------------------------------------------------------------
# Role trust policies (sts:AssumeRole, sts:AssumeRoleWithWebIdentity)
# ---------------------------------------------------------------------------

ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role/(?:[^/]+/)*[^/]+")


def find_role(role_arn: str) -> Any | None:
    """The role an ARN names, in the account the ARN names, or None. Never
    creates a moto backend for an account nobody made."""
    match = ROLE_ARN.fullmatch(role_arn or "")
    if not match or match.group(1) not in iam_backends:
        return None
    try:
        return iam_backends[match.group(1)][PARTITION].get_role_by_arn(role_arn)
    except Exception:  # moto's NotFoundException
        return None


def _trust_document(role: Any) -> dict[str, Any]:
    document = role.assume_role_policy_document
    for text in (document, unquote(document)) if isinstance(document, str) else ():
        try:
            document = json.loads(text)
            break
        except ValueError:
            document = None
    return document if isinstance(document, dict) else {}


@dataclass
class Caller:
    """Who calls sts:AssumeRole, as a trust policy sees them."""

    arn: str  # as AWS names the caller in AccessDenied
    account_id: str
    names: set[str]  # principal ARNs in a trust policy that mean exactly this caller
    policies: list[SourcePolicy]  # the caller's identity policies
    variables: dict[str, str]  # policy variables, e.g. ${aws:username}
    principal_arn: str  # aws:PrincipalArn (for a role session: the role's ARN)


def _principal_kind(principal: Any, caller: Caller) -> str | None:
    """How a trust policy's Principal element names the caller: "direct" (the
    caller's own ARN: user, role or role session), "account" (the caller's
    account, as arn:aws:iam::ACCT:root or ACCT, or "*"), or None."""
    if principal == "*":
        return "account"
    if not isinstance(principal, dict):
        return None
    kinds = set()
    for value in (str(v) for v in _as_list(principal.get("AWS", []))):
        if value == "*" or value in (caller.account_id, f"arn:aws:iam::{caller.account_id}:root"):
            kinds.add("account")
        elif value in caller.names:
            kinds.add("direct")
    return "direct" if "direct" in kinds else "account" if kinds else None


def trust_decision(
    document: dict[str, Any], caller: Caller, action: str, role_arn: str,
    context: dict[str, list[str]],
) -> tuple[str, str | None]:
    """A role trust policy's answer for a caller: ("explicitDeny", None),
    ("allowed", "direct" | "account") or ("implicitDeny", None). Conditions
    are evaluated as in identity policies (``_statement_applies``)."""
    allowed: str | None = None
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, dict):
            continue
        if "NotPrincipal" in statement:
            kind = None if _principal_kind(statement["NotPrincipal"], caller) else "account"
        else:
            kind = _principal_kind(statement.get("Principal"), caller)
        if kind is None or not _statement_applies(statement, action, role_arn, {}, context, []):
            continue
        if statement.get("Effect") == "Deny":
            return "explicitDeny", None
        allowed = "direct" if "direct" in (kind, allowed) else "account"
    return ("allowed", allowed) if allowed else ("implicitDeny", None)


def assume_role_denied(caller_arn: str, role_arn: str) -> AuthError:
    """AWS's AccessDenied for sts:AssumeRole, whatever the reason (no such
    role, trust policy, identity policy): it never says which."""
    return AuthError(
        "AccessDenied",
        "AccessDeniedException",
        f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
    )


def web_identity_denied() -> AuthError:
    return AuthError(
        "AccessDenied", "AccessDeniedException",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )


def root_cannot_assume_roles() -> AuthError:
    return AuthError("AccessDenied", "AccessDeniedException", "Roles may not be assumed by root accounts.")


# ---------------------------------------------------------------------------
# Patches: one function each; PATCHES at the bottom lists them in order.
# ---------------------------------------------------------------------------


class RootAccessKey:
    """The emulated root user of an account (moto has no root credentials)."""

    def __init__(self, account_id: str, access_key_id: str, root: RootKey):
        self.account_id = account_id
        self.partition = PARTITION
        self._access_key_id = access_key_id
        self._secret_access_key = root.secret_access_key

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    def create_credentials(self) -> Credentials:
        return Credentials(self._access_key_id, self._secret_access_key)

    def collect_policies(self) -> list[str]:
        return [ALLOW_ALL]


def patch_root_credentials() -> None:
    """AWS: every account has a root user; its access keys work everywhere, and
    sts:GetCallerIdentity answers arn:aws:iam::<account>:root with the account id
    as UserId. moto has no root user, so requests signed with a root key would be
    unknown (InvalidClientTokenId) or land in the default account."""
    original_get_account_id_from = iam_models.get_account_id_from

    def get_account_id_from(access_key: str) -> str:
        root = WORLD.root_keys.get(access_key)
        return root.account_id if root else original_get_account_id_from(access_key)

    iam_models.get_account_id_from = get_account_id_from

    original_create_access_key = access_control.create_access_key

    def create_access_key(account_id: str, partition: str, access_key_id: str, headers: Any) -> Any:
        root = WORLD.root_keys.get(access_key_id)
        if root and root.account_id == account_id:
            return RootAccessKey(account_id, access_key_id, root)
        return original_create_access_key(account_id, partition, access_key_id, headers)

    access_control.create_access_key = create_access_key

    original_get_caller_identity = sts_models.STSBackend.get_caller_identity

    def get_caller_identity(self: Any, access_key_id: str, region: str) -> tuple[str, str, str]:
        root = WORLD.root_keys.get(access_key_id)
        if root:
            return root.account_id, f"arn:aws:iam::{root.account_id}:root", root.account_id
        return original_get_caller_identity(self, access_key_id, region)

    sts_models.STSBackend.get_caller_identity = get_caller_identity

    # AWS answers GetAccessKeyInfo for any well-formed key id by decoding the
    # owning account from it; moto answers the *caller's* account for keys it
    # does not know, which hides "key from another account".
    def get_access_key_info(self: Any, access_key_id: str) -> dict[str, str]:
        owner = account_of_key(access_key_id) or account_id_from_key_id(access_key_id)
        return {"Account": owner or self.account_id}

    sts_models.STSBackend.get_access_key_info = get_access_key_info

    # iam:GetUser / ListAccessKeys without UserName, called with a root key,
    # describe the root user (AWS omits UserName for root).
    original_get_user = IAMResponse.get_user

    def get_user(self: IAMResponse) -> Any:
        root = WORLD.root_keys.get(self.get_access_key())
        if root and not self._get_param("UserName"):
            return core_responses.ActionResult(
                {
                    "User": {
                        "UserId": root.account_id,
                        "Arn": f"arn:aws:iam::{root.account_id}:root",
                        "CreateDate": datetime(2020, 1, 1, tzinfo=timezone.utc),
                        "Path": "/",
                    }
                }
            )
        return original_get_user(self)

    IAMResponse.get_user = get_user

    original_list_access_keys = IAMResponse.list_access_keys

    def list_access_keys(self: IAMResponse) -> Any:
        access_key_id = self.get_access_key()
        root = WORLD.root_keys.get(access_key_id)
        if root and not self._get_param("UserName"):
            keys = [
                {
                    "AccessKeyId": key_id,
                    "Status": "Active",
                    "CreateDate": datetime(2020, 1, 1, tzinfo=timezone.utc),
                }
                for key_id, key in list(WORLD.root_keys.items())
                if key.account_id == root.account_id
            ]
            return core_responses.ActionResult({"AccessKeyMetadata": keys, "IsTruncated": False})
        return original_list_access_keys(self)

    IAMResponse.list_access_keys = list_access_keys


def patch_inactive_keys_rejected() -> None:
    """AWS: a request signed with an Inactive access key fails authentication with
    InvalidClientTokenId "The security token included in the request is invalid."
    (UnrecognizedClientException on rest-json services). moto accepts it."""
    patched_create_access_key = access_control.create_access_key

    def create_access_key(account_id: str, partition: str, access_key_id: str, headers: Any) -> Any:
        key = patched_create_access_key(account_id, partition, access_key_id, headers)
        stored = iam_backends[account_id][partition].access_keys.get(access_key_id)
        if stored is not None and getattr(stored, "status", "Active") != "Active":
            raise access_control.CreateAccessKeyFailure(reason="InvalidId")
        return key

    access_control.create_access_key = create_access_key


def patch_signature_uses_raw_request() -> None:
    """AWS computes the SigV4 canonical request from the request as sent: the
    percent-encoded path (encoded once more for non-S3 services) and the exact
    body bytes. moto rebuilds it from the decoded path and, when the body is
    empty (every GET), from a form-encoding of its parsed parameters, so every
    sesv2 GET (GetAccount, GetEmailIdentity) failed with a signature mismatch,
    as would any form body whose encoding differs from Python's."""

    def _create_aws_request(self: access_control.IAMRequestBase) -> AWSRequest:
        wire = wire_request()
        signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"])
        headers = self._create_headers_for_aws_request(signed.split(";"), self._headers)
        if wire is None:  # not served through EmulatorApp (should not happen)
            url, body = self._path, self._body or b""
        else:
            url, body = wire.raw_uri, wire.body
        request = AWSRequest(method=self._method, url=url, data=body, headers=headers)
        request.context["timestamp"] = headers.get("X-Amz-Date") or headers.get("x-amz-date")
        return request

    access_control.IAMRequestBase._create_aws_request = _create_aws_request


def patch_clock_skew() -> None:
    """AWS rejects a request whose X-Amz-Date is more than 5 minutes away from
    its clock: SignatureDoesNotMatch "Signature expired: <sent> is now earlier
    than <now-5min> (<now> - 5 min.)" or "Signature not yet current: <sent> is
    still later than <now+5min> (<now> + 5 min.)". moto never checks the time.
    Here each account has a clock offset (control endpoint), so tests can skew
    "AWS's" clock; EmulatorApp puts the same time in the Date header."""
    original_check_signature = access_control.IAMRequestBase.check_signature

    def check_signature(self: access_control.IAMRequestBase) -> None:
        fmt = "%Y%m%dT%H%M%SZ"
        sent_text = self._headers.get("X-Amz-Date", "")
        now = utcnow() + timedelta(seconds=WORLD.clock_offset(self.account_id))
        try:
            sent = datetime.strptime(sent_text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            sent = None
        if sent is not None and sent < now - CLOCK_SKEW_LIMIT:
            raise signature_mismatch(
                f"Signature expired: {sent_text} is now earlier than "
                f"{(now - CLOCK_SKEW_LIMIT).strftime(fmt)} ({now.strftime(fmt)} - 5 min.)"
            )
        if sent is not None and sent > now + CLOCK_SKEW_LIMIT:
            raise signature_mismatch(
                f"Signature not yet current: {sent_text} is still later than "
                f"{(now + CLOCK_SKEW_LIMIT).strftime(fmt)} ({now.strftime(fmt)} + 5 min.)"
            )
        original_check_signature(self)

    access_control.IAMRequestBase.check_signature = check_signature


def ses_send_context(action: str) -> dict[str, list[str]]:
    """Condition keys SES supplies for a send (ses:FromAddress, ses:Recipients)."""
    wire = wire_request()
    if action != "ses:SendEmail" or wire is None:
        return {}
    try:
        params = json.loads(wire.body or b"{}")
    except ValueError:
        return {}
    context: dict[str, list[str]] = {}
    if params.get("FromEmailAddress"):
        context["ses:fromaddress"] = [email.utils.parseaddr(params["FromEmailAddress"])[1]]
    destination = params.get("Destination") or {}
    recipients = [a for k in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destination.get(k) or []]
    if recipients:
        context["ses:recipients"] = recipients
    return context


def patch_policy_evaluation() -> None:
    """AWS evaluates identity policies with case-insensitive actions, NotResource,
    policy variables such as ${aws:username}, and conditions that simply do not
    match when their key is absent. moto's evaluator is case-sensitive, has no
    NotResource, and turns an Allow whose condition fails into a Deny. One
    evaluator (``evaluate``) now serves enforcement and SimulatePrincipalPolicy,
    and the AccessDenied message says which resource, and why, as AWS does."""

    def check_action_permitted(self: access_control.IAMRequestBase, resource: str) -> None:
        if self._action == "sts:GetCallerIdentity":  # cannot be denied, in AWS too
            return
        key = self._access_key
        if isinstance(key, RootAccessKey):
            return
        if isinstance(key, access_control.IAMUserAccessKey):
            policies = user_policies(self.account_id, key._owner_user_name)
            boundary = boundary_policy(self.account_id, "user", key._owner_user_name)
            variables = {"aws:username": key._owner_user_name}
        else:  # assumed role
            policies = role_policies(self.account_id, key._owner_role_name)
            boundary = boundary_policy(self.account_id, "role", key._owner_role_name)
            variables = {}
        context = {"aws:requestedregion": [self._region], **ses_send_context(self._action)}
        bounded = evaluate_bounded(policies, boundary, self._action, resource, variables, context)
        decision = bounded.decision
        if decision.decision != "allowed":
            identity = evaluate(policies, self._action, resource, variables, context)
            # The layer AWS names: the identity policies' own Deny first, then the boundary.
            layer = (
                "permissions boundary"
                if bounded.allowed_by_boundary is False and identity.decision != "explicitDeny"
                else "identity-based policy"
            )
            raise access_denied(
                key.arn, self._action, resource, decision.decision == "explicitDeny", layer
            )

    access_control.IAMRequestBase.check_action_permitted = check_action_permitted


def form_params(body: bytes) -> dict[str, str]:
    """An awsQuery form body as a dict (first value of each name)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def assume_role_caller(key: Any, account_id: str) -> Caller:
    """The caller of sts:AssumeRole: an IAM user, or a role session (whose
    identity policies are its role's, which makes role chains work)."""
    backend = iam_backends[account_id][PARTITION]
    if isinstance(key, access_control.IAMUserAccessKey):
        name = key._owner_user_name
        arn = backend.get_user(name).arn
        return Caller(arn, account_id, {arn}, user_policies(account_id, name),
                      {"aws:username": name}, arn)
    role_name = key._owner_role_name
    try:
        role_arn = backend.get_role(role_name).arn
        policies = role_policies(account_id, role_name)
    except Exception:  # the role was deleted after the session began
        role_arn, policies = f"arn:aws:iam::{account_id}:role/{role_name}", []
    return Caller(key.arn, account_id, {key.arn, role_arn}, policies, {}, role_arn)


def patch_sts_assume_role_trust() -> None:
    """AWS's sts:AssumeRole: the role must exist and its trust policy
    (AssumeRolePolicyDocument) must allow sts:AssumeRole for the caller. A trust
    policy naming the caller itself (its IAM user ARN, or for a role session
    the role's ARN or the session's) is enough in the role's own account; one
    naming the account (arn:aws:iam::ACCT:root, ACCT) or "*" also needs the
    caller's identity policies to allow sts:AssumeRole on the role ARN, and a
    role in another account always needs both. A role session assuming its
    own role must be named in the trust policy (since 2022). An explicit Deny
    in either wins. Anything else: 403 AccessDenied "User: <caller ARN> is not
    authorized to perform: sts:AssumeRole on resource: <role ARN>", which
    never says which check failed. Root keys get AccessDenied "Roles may not
    be assumed by root accounts." whatever the trust policy. moto lets anyone
    allowed sts:AssumeRole assume any role ARN, even one that does not exist,
    and (with ``patch_policy_evaluation``) never reads the trust policy."""
    patched = access_control.IAMRequestBase.check_action_permitted

    def check_action_permitted(self: access_control.IAMRequestBase, resource: str) -> None:
        if self._action != "sts:AssumeRole":
            return patched(self, resource)
        key = self._access_key
        if isinstance(key, RootAccessKey):
            raise root_cannot_assume_roles()
        caller = assume_role_caller(key, self.account_id)
        role = find_role(resource)
        if role is None:
            raise assume_role_denied(caller.arn, resource)
        wire = wire_request()
        params = form_params(wire.body) if wire is not None else {}
        context = {
            "aws:principalarn": [caller.principal_arn],
            "aws:principalaccount": [caller.account_id],
            "aws:requestedregion": [self._region],
        }
        for name, context_key in (("ExternalId", "sts:externalid"),
                                  ("RoleSessionName", "sts:rolesessionname")):
            if params.get(name):
                context[context_key] = [params[name]]
        identity = evaluate(caller.policies, "sts:AssumeRole", resource, caller.variables, context)
        trust, kind = trust_decision(_trust_document(role), caller, "sts:AssumeRole", resource, context)
        same_account = ROLE_ARN.fullmatch(resource).group(1) == caller.account_id
        allowed = (
            identity.decision != "explicitDeny"
            and trust == "allowed"
            and (identity.decision == "allowed" or (same_account and kind == "direct"))
            # A role assuming itself must be named in its trust policy (AWS, 2022).
            and (kind == "direct" or caller.principal_arn != role.arn)
        )
        if not allowed:
            raise assume_role_denied(caller.arn, resource)

    access_control.IAMRequestBase.check_action_permitted = check_action_permitted


def patch_sts_web_identity() -> None:
    """AWS's sts:AssumeRoleWithWebIdentity is not signed: the web identity
    token is the credential (the SDKs send it unsigned). moto routes such a
    request to STS but then fails authenticating it (it has no Authorization
    header), and would let any token assume any role ARN. Here moto's
    authentication is skipped for it; ``web_identity_not_authorized`` has
    already checked the token and the role before moto sees the request. The
    credentials moto issues are for the account in the role ARN; its
    AssumedRoleId (a fixed "ARO123EXAMPLE123:...") is made the role's id, as
    for AssumeRole."""
    patched_auth = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def _authenticate_and_authorize_action(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if self.service_name == "sts" and self._get_action() == "AssumeRoleWithWebIdentity":
            return
        patched_auth(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize_action

    original = TokenResponse.assume_role_with_web_identity

    def assume_role_with_web_identity(self: TokenResponse) -> Any:
        result = original(self)
        payload = getattr(result, "result", None)
        if isinstance(payload, dict) and "Credentials" in payload:
            payload["AssumedRoleUser"]["AssumedRoleId"] = payload["Credentials"].user_id
        return result

    TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity


def patch_auth_error_format() -> None:
    """AWS's auth errors: awsQuery services (STS, IAM, SES v1) send text/xml
    <ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message>
    </Error><RequestId>..</RequestId></ErrorResponse>; rest-json services (SES v2)
    send a JSON body and the code in x-amzn-ErrorType, with their own codes
    (UnrecognizedClientException, InvalidSignatureException,
    AccessDeniedException). moto sends, for every protocol, text/html with an
    extra <Errors> level, so the Rust SDK decoded no code (query) or "403"
    (rest-json). (Unsigned requests: see ``pre_dispatch_checks``.)"""

    def raise_invalid_key(self: Any, reason: str) -> None:
        raise invalid_client_token()

    def raise_bad_signature(self: Any) -> None:
        raise signature_mismatch()

    access_control.IAMRequest._raise_invalid_access_key = raise_invalid_key
    access_control.IAMRequest._raise_signature_does_not_match = raise_bad_signature

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def _authenticate_and_authorize_action(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        try:
            original(self, iam_request_cls, resource)
        except AuthError as error:
            protocol, namespace = service_protocol(self)
            code = error.json_code if protocol in ("rest-json", "json") else error.query_code
            status, headers, body = render_error(protocol, namespace, code, error.message, error.status)
            # call_action() answers an HTTPException with its description as the
            # body, the code as status, and self.response_headers as headers.
            self.response_headers.update(headers)
            http_error = HTTPException(description=body)
            http_error.code = status
            raise http_error from None

    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize_action


def patch_last_used_after_auth() -> None:
    """AWS records an access key's last use (GetAccessKeyLastUsed) only for
    requests it accepted, under the service's signing name. moto records it for
    every request, before authentication, even ones with a wrong secret."""
    original = iam_models.mark_account_as_visited
    iam_models.mark_account_as_visited = lambda **kwargs: None

    patched_auth = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def _authenticate_and_authorize_action(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        patched_auth(self, iam_request_cls, resource)
        scope = credential_scope(self.headers.get("Authorization"))
        service = scope[3] if len(scope) > 3 else self.service_name
        original(
            account_id=self.current_account,
            access_key=self.access_key,
            service=service,
            region=self.region,
        )

    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize_action


def identity_candidates(address: str) -> list[str]:
    """The SES identities that could cover an address, nearest first: the
    address itself, its domain, then each parent domain (a verified domain
    covers its subdomains: example.com covers user@a.b.example.com). Domains
    are case-insensitive."""
    _, addr = email.utils.parseaddr(address)
    addr = addr or address
    domain = addr.rsplit("@", 1)[-1].lower()
    labels = domain.split(".")
    return [addr] + [".".join(labels[i:]) for i in range(len(labels) - 1)]


def covering_identity(core: Any, address: str, verified_only: bool = False) -> str | None:
    """Name of the nearest identity (of an SES core backend) that covers an
    address, or None. With verified_only, the nearest verified one."""
    identities = core.email_identities
    for name in identity_candidates(address):
        identity = identities.get(name)
        if identity is not None and (not verified_only or identity.verified_for_sending_status):
            return name
    return None


def _sender_identity(backend: Any, address: str) -> str:
    """The SES identity a send from an address is authorized against: the
    nearest identity that covers it, else the address itself."""
    _, addr = email.utils.parseaddr(address)
    return covering_identity(backend.core_backend, address) or addr or address


def patch_iam_resources() -> None:
    """AWS authorizes IAM calls against the resource they act on (user, group,
    policy) and SES sending against the sender's identity ARN, and names that
    resource in AccessDenied. moto authorizes everything but roles against "*"."""
    original_iam_resource = IAMResponse._determine_resource

    def iam_resource(self: IAMResponse) -> str:
        account = self.current_account
        user = self.querystring.get("UserName", [None])[0]
        group = self.querystring.get("GroupName", [None])[0]
        policy_arn = self.querystring.get("PolicyArn", [None])[0]
        if user:
            return f"arn:aws:iam::{account}:user/{user}"
        if group:
            return f"arn:aws:iam::{account}:group/{group}"
        if policy_arn:
            return policy_arn
        action = self.querystring.get("Action", [""])[0]
        if action in ("GetUser", "ListAccessKeys", "CreateAccessKey", "UpdateAccessKey",
                      "DeleteAccessKey", "ListAttachedUserPolicies", "ListUserPolicies",
                      "ListGroupsForUser"):
            owner = iam_backends[account][PARTITION].get_user_from_access_key_id(self.access_key)
            if owner is not None:
                return owner.arn
        return original_iam_resource(self)

    IAMResponse._determine_resource = iam_resource

    def sesv2_resource(self: SESV2Response) -> str:
        action = self._get_action()
        prefix = f"arn:aws:ses:{self.region}:{self.current_account}"
        if action == "SendEmail":
            try:
                params = json.loads(self.body or "{}")
            except ValueError:
                return "*"
            if params.get("FromEmailAddressIdentityArn"):
                return params["FromEmailAddressIdentityArn"]
            sender = params.get("FromEmailAddress")
            if sender:
                backend = sesv2_backends[self.current_account][self.region]
                return f"{prefix}:identity/{_sender_identity(backend, sender)}"
            return "*"
        if action in ("GetEmailIdentity", "CreateEmailIdentity", "DeleteEmailIdentity"):
            name = None
            if self.uri_match is not None and "EmailIdentity" in self.uri_match.groupdict():
                name = self.uri_match.group("EmailIdentity")
            if name is None and self.body:
                try:
                    name = json.loads(self.body).get("EmailIdentity")
                except ValueError:
                    name = None
            if name:
                return f"{prefix}:identity/{unquote(name)}"
        return "*"

    SESV2Response._determine_resource = sesv2_resource


def patch_iam_simulate_principal_policy() -> None:
    """AWS's iam:SimulatePrincipalPolicy evaluates the principal's identity
    policies (for a user: inline, attached, and its groups') for each action
    and resource. moto 5.2.1 does not implement it. Since 2025 AWS returns one
    EvaluationResult per action, with the most restrictive decision across the
    resources on top and one ResourceSpecificResult per resource ARN."""

    def simulate_principal_policy(self: IAMResponse) -> Any:
        from moto.iam.exceptions import IAMException, NotFoundException

        params = self.params
        source_arn = params.get("PolicySourceArn", "")
        actions = list(params.get("ActionNames") or [])
        resources = list(params.get("ResourceArns") or []) or ["*"]
        context: dict[str, list[str]] = {}
        for entry in params.get("ContextEntries") or []:
            context[entry.get("ContextKeyName", "").lower()] = [
                str(v) for v in entry.get("ContextKeyValues") or []
            ]
        match = re.fullmatch(r"arn:aws:iam::(\d{12}):(user|group|role)/(?:.*/)?([^/]+)", source_arn)
        if not match:
            raise IAMException("InvalidInput", f"Invalid ARN: {source_arn}")
        account_id, kind, name = match.groups()
        variables: dict[str, str] = {}
        boundary = None
        try:
            if kind == "user":
                policies = user_policies(account_id, name)
                variables["aws:username"] = name
            elif kind == "group":
                policies = group_policies(account_id, name)
            else:
                policies = role_policies(account_id, name)
            if kind != "group":
                boundary = boundary_policy(account_id, kind, name)
        except NotFoundException:
            raise NotFoundException(f"The {kind} with name {name} cannot be found.") from None

        def statements(decision: Decision) -> list[dict[str, str]]:
            return [
                {"SourcePolicyId": p.policy_id, "SourcePolicyType": p.policy_type}
                for p in decision.matched
            ]

        severity = {"allowed": 0, "implicitDeny": 1, "explicitDeny": 2}
        results = []
        for action in actions:
            bounded = [
                (resource, evaluate_bounded(policies, boundary, action, resource, variables, context))
                for resource in resources
            ]
            per_resource = [(resource, b.decision) for resource, b in bounded]
            worst = max(per_resource, key=lambda item: severity[item[1].decision])[1]
            missing = sorted({k for _, d in per_resource for k in d.missing_context})
            boundary_detail = (
                {}
                if boundary is None
                else {
                    "PermissionsBoundaryDecisionDetail": {
                        "AllowedByPermissionsBoundary": all(b.allowed_by_boundary for _, b in bounded)
                    }
                }
            )
            results.append(
                {
                    "EvalActionName": action,
                    "EvalResourceName": resources[0] if len(resources) == 1 else "*",
                    "EvalDecision": worst.decision,
                    "MatchedStatements": statements(worst),
                    "MissingContextValues": missing,
                    **boundary_detail,
                    "ResourceSpecificResults": [
                        {
                            "EvalResourceName": resource,
                            "EvalResourceDecision": decision.decision,
                            "MatchedStatements": statements(decision),
                            "MissingContextValues": decision.missing_context,
                        }
                        for resource, decision in per_resource
                    ],
                }
            )
        return core_responses.ActionResult({"EvaluationResults": results, "IsTruncated": False})

    IAMResponse.simulate_principal_policy = simulate_principal_policy


def add_sesv2_route(path_regex: str) -> None:
    """moto's sesv2 URL table lists each path (its "/v2/.*" entry is taken by
    Flask literally); requests to an unlisted path get Flask's HTML 404."""
    import moto.sesv2.urls as sesv2_urls

    sesv2_urls.url_paths.setdefault("{0}" + path_regex, SESV2Response.dispatch)


def patch_sesv2_list_identities_route() -> None:
    """aws-sdk-sesv2 1.145 (a newer service model than botocore 1.43's) sends
    ListEmailIdentities as POST /v2/email/list-identities with a JSON body;
    moto 5.2.1 only routes GET /v2/email/identities, so the call got a 404."""
    add_sesv2_route("/v2/email/list-identities$")
    original = core_responses._get_method_urls

    def _get_method_urls(service_name: str, region: str) -> dict[str, dict[str, str]]:
        urls = original(service_name, region)
        if service_name == "sesv2":
            urls["POST"].setdefault("^/v2/email/list-identities$", "ListEmailIdentities")
        return urls

    core_responses._get_method_urls = _get_method_urls


def patch_sesv2_get_account() -> None:
    """sesv2 GetAccount (GET /v2/email/account) reports production access (the
    sandbox), whether sending is enabled, the send quota and the enforcement
    status. moto 5.2.1 does not implement it. Values come from WORLD, set by
    POST /_ses_doctor/accounts/<id>/ses-account; default: a sandboxed account."""
    add_sesv2_route("/v2/email/account$")

    def get_account(self: SESV2Response) -> str:
        settings = WORLD.account(self.current_account).ses_settings(self.region)
        sent = sesv2_backends[self.current_account][self.region].core_backend.sent_message_count
        return json.dumps(
            {
                "DedicatedIpAutoWarmupEnabled": False,
                "EnforcementStatus": settings.enforcement_status,
                "ProductionAccessEnabled": settings.production_access,
                "SendQuota": {
                    "Max24HourSend": float(settings.max_24_hour_send),
                    "MaxSendRate": float(settings.max_send_rate),
                    "SentLast24Hours": float(sent),
                },
                "SendingEnabled": settings.sending_enabled,
                "SuppressionAttributes": {"SuppressedReasons": []},
            }
        )

    SESV2Response.get_account = get_account


def patch_sesv2_identity_verification() -> None:
    """AWS: a new email identity waits for the link in the verification mail to
    be clicked, a new domain identity for its DNS records; until then it is
    VerificationStatus PENDING, VerifiedForSendingStatus false, and cannot be
    used to send. moto creates identities already usable ("SUCCESS"). Here they
    start pending; POST /_ses_doctor/accounts/<id>/verify verifies one. A
    verified domain covers every address at that domain and at its subdomains
    (SES "Creating and verifying identities")."""
    original_init = ses_models.EmailIdentity.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.verification_status = "PENDING"
        self.verified_for_sending_status = False
        self.sending_enabled = False
        if self.identity_type == "DOMAIN":
            self.dkim_attributes["Status"] = "PENDING"
            self.dkim_attributes["SigningEnabled"] = True
            self.dkim_attributes["Tokens"] = [secrets.token_hex(16) for _ in range(3)]

    ses_models.EmailIdentity.__init__ = __init__

    def _is_verified_address(self: Any, source: str) -> bool:
        return covering_identity(self, source, verified_only=True) is not None

    ses_models.SESBackend._is_verified_address = _is_verified_address


def mark_identity_verified(identity: Any) -> None:
    identity.verification_status = "SUCCESS"
    identity.verified_for_sending_status = True
    identity.sending_enabled = True
    if identity.identity_type == "DOMAIN":
        identity.dkim_attributes["Status"] = "SUCCESS"


def patch_sesv2_send_email_checks() -> None:
    """AWS's SendEmail, in order: sending paused for the account ->
    SendingPausedException "Sending is paused for this account"; then every
    identity that fails verification in this region -> MessageRejected "Email
    address is not verified. The following identities failed the check in
    region US-EAST-1: a@b.c, ...": the sender always, and in the sandbox every
    recipient too, except the mailbox simulator (*@simulator.amazonses.com).
    moto checks only the sender, with a different text, and has no sandbox."""
    original_send_email = SESV2Response.send_email

    def send_email(self: SESV2Response) -> Any:
        settings = WORLD.account(self.current_account).ses_settings(self.region)
        if not settings.sending_enabled:
            return json_error("SendingPausedException", "Sending is paused for this account")
        try:
            params = json.loads(self.body or "{}")
        except ValueError:
            return json_error("BadRequestException", "Request body is not valid JSON")
        core = sesv2_backends[self.current_account][self.region].core_backend
        sender = params.get("FromEmailAddress") or ""
        destination = params.get("Destination") or {}
        recipients = [
            address
            for kind in ("ToAddresses", "CcAddresses", "BccAddresses")
            for address in destination.get(kind) or []
        ]
        failed = []
        if sender and not core._is_verified_address(sender):
            failed.append(email.utils.parseaddr(sender)[1] or sender)
        if not settings.production_access:
            for recipient in recipients:
                address = email.utils.parseaddr(recipient)[1] or recipient
                if address.lower().endswith("@" + SIMULATOR_DOMAIN):
                    continue
                if not core._is_verified_address(address) and address not in failed:
                    failed.append(address)
        if failed:
            return json_error(
                "MessageRejected",
                "Email address is not verified. The following identities failed the "
                f"check in region {self.region.upper()}: {', '.join(failed)}",
            )
        return original_send_email(self)

    SESV2Response.send_email = send_email


def patch_managed_policy_cache() -> None:
    """Speed only: moto parses its ~1,500 AWS managed policies (a large JSON
    string) for every new account; parse it once."""
    import moto.iam.aws_managed_policies as managed

    parsed = json.loads(managed.aws_managed_policies_data)

    def _init_aws_policies(self: Any) -> list[Any]:
        return [
            iam_models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in parsed.items()
        ]

    iam_models.IAMBackend._init_aws_policies = _init_aws_policies


# Order matters where one patch wraps another's result.
PATCHES: list[Callable[[], None]] = [
    patch_root_credentials,
    patch_user_permissions_boundary,
    patch_inactive_keys_rejected,
    patch_signature_uses_raw_request,
    patch_clock_skew,
    patch_policy_evaluation,
    patch_sts_assume_role_trust,
    patch_auth_error_format,
    patch_last_used_after_auth,
    patch_sts_web_identity,
    patch_iam_resources,
    patch_iam_simulate_principal_policy,
    patch_sesv2_list_identities_route,
    patch_sesv2_get_account,
    patch_sesv2_identity_verification,
    patch_sesv2_send_email_checks,
    patch_managed_policy_cache,
]


def apply_patches() -> None:
    if moto.__version__ != PINNED_MOTO:
        log.warning("moto %s is not the pinned %s; patches may not fit", moto.__version__, PINNED_MOTO)
    for patch in PATCHES:
        patch()


# ---------------------------------------------------------------------------
# Control API
# ---------------------------------------------------------------------------


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def random_secret() -> str:
    alphabet = string.ascii_letters + string.digits + "+/"
    return "".join(secrets.choice(alphabet) for _ in range(40))


def create_account(admin_user: str = "admin") -> dict[str, Any]:
    with WORLD.lock:
        while True:
            account_id = f"{random.SystemRandom().randrange(10**11, 10**12):012d}"
            if account_id not in WORLD.accounts and account_id != DEFAULT_ACCOUNT_ID \
                    and account_id not in iam_backends:
                break
        WORLD.accounts[account_id] = AccountState()
        root_key_id = generate_access_key_id_from_account_id(account_id, "AKIA")
        root = RootKey(account_id, random_secret())
        WORLD.root_keys[root_key_id] = root
    iam = iam_backends[account_id][PARTITION]
    iam.create_user(region_name="us-east-1", user_name=admin_user)
    iam.attach_user_policy(ADMIN_POLICY_ARN, admin_user)
    key = iam.create_access_key(admin_user)
    return {
        "account_id": account_id,
        "admin": {
            "user_name": admin_user,
            "access_key_id": key.access_key_id,
            "secret_access_key": key.secret_access_key,
        },
        "root": {"access_key_id": root_key_id, "secret_access_key": root.secret_access_key},
    }


def known_account(account_id: str) -> AccountState:
    state = WORLD.accounts.get(account_id)
    if state is None:
        raise ControlError(404, f"unknown account {account_id}")
    return state


def set_ses_account(account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    state = known_account(account_id)
    region = body.get("region", "us-east-1")
    settings = state.ses_settings(region)
    fields = {
        "production_access": bool,
        "sending_enabled": bool,
        "max_24_hour_send": float,
        "max_send_rate": float,
        "enforcement_status": str,
    }
    for name, kind in fields.items():
        if name in body:
            value = body[name]
            if kind is bool and not isinstance(value, bool):
                raise ControlError(400, f"{name} must be true or false")
            setattr(settings, name, kind(value))
    return {"region": region, **settings.__dict__}


def verify_identity(account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    known_account(account_id)
    region = body.get("region", "us-east-1")
    name = body.get("identity")
    if not name:
        raise ControlError(400, "identity is required")
    identities = sesv2_backends[account_id][region].core_backend.email_identities
    identity = identities.get(name) or identities.get(name.lower())
    if identity is None:
        raise ControlError(404, f"no identity {name} in {region} of account {account_id}")
    mark_identity_verified(identity)
    return {"region": region, "identity": identity.email_identity, "verified": True}


def set_clock(account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    state = known_account(account_id)
    try:
        state.clock_offset_seconds = int(body.get("offset_seconds", 0))
    except (TypeError, ValueError):
        raise ControlError(400, "offset_seconds must be an integer") from None
    return {"offset_seconds": state.clock_offset_seconds}


def set_region_enabled(account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    state = known_account(account_id)
    region = body.get("region")
    enabled = body.get("enabled")
    if not isinstance(region, str) or region not in OPT_IN_REGIONS:
        raise ControlError(400, f"region must be an opt-in region ({', '.join(sorted(OPT_IN_REGIONS))})")
    if not isinstance(enabled, bool):
        raise ControlError(400, "enabled must be true or false")
    with WORLD.lock:
        if enabled:
            state.enabled_opt_in_regions.add(region)
        else:
            state.enabled_opt_in_regions.discard(region)
        return {"enabled_opt_in_regions": sorted(state.enabled_opt_in_regions)}


def set_region_hang(account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    state = known_account(account_id)
    region = body.get("region")
    seconds = body.get("seconds")
    if not isinstance(region, str) or not region:
        raise ControlError(400, "region is required")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ControlError(400, "seconds must be a number, 0 or more")
    with WORLD.hangs_changed:
        if seconds:
            state.hang_seconds[region] = float(seconds)
        else:
            state.hang_seconds.pop(region, None)
        WORLD.hangs_changed.notify_all()  # waiting requests re-read their hang
        return {"hang_seconds": dict(sorted(state.hang_seconds.items()))}


def _days(body: dict[str, Any], name: str) -> timedelta:
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ControlError(400, f"{name} must be a number of days, 0 or more")
    return timedelta(days=value)


def _key_view(key: Any) -> dict[str, Any]:
    used = key.last_used
    return {
        "access_key_id": key.access_key_id,
        "user_name": key.user_name,
        "status": key.status,
        "create_date": iso(key.create_date),
        "last_used_date": iso(used.timestamp) if used else None,
        "last_used_service": used.service if used else "N/A",
        "last_used_region": used.region if used else "N/A",
    }


def set_key_age(account_id: str, access_key_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """moto stamps every key with the moment it was created and no last use;
    real accounts have keys created months ago and last used weeks ago
    (ListAccessKeys CreateDate, GetAccessKeyLastUsed). Backdates both; a later
    accepted request records a new last use, as on AWS."""
    known_account(account_id)
    key = iam_backends[account_id][PARTITION].access_keys.get(access_key_id)
    if key is None:
        raise ControlError(404, f"no access key {access_key_id} in account {account_id}")
    now = utcnow().replace(microsecond=0)
    created = now - _days(body, "age_days") if "age_days" in body else as_utc(key.create_date)
    last_used = key.last_used
    where = [name for name in ("last_used_service", "last_used_region") if name in body]
    if "last_used_days_ago" in body and body["last_used_days_ago"] is not None:
        service = body.get("last_used_service", "ses")
        region = body.get("last_used_region", "us-east-1")
        if not isinstance(service, str) or not service or not isinstance(region, str) or not region:
            raise ControlError(400, "last_used_service and last_used_region must be names")
        when = now - _days(body, "last_used_days_ago")
        last_used = iam_models.AccessKeyLastUsed(timestamp=moto_time(when), service=service, region=region)
    elif where:
        raise ControlError(400, f"{', '.join(where)} needs a last_used_days_ago")
    elif "last_used_days_ago" in body:  # null: never used
        last_used = None
    if last_used is not None and as_utc(last_used.timestamp) < created:
        raise ControlError(400, "a key cannot be last used before it was created")
    with WORLD.lock:
        key.create_date = moto_time(created)
        key.last_used = last_used
        return _key_view(key)


def set_propagation_delay(account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    state = known_account(account_id)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ControlError(400, "seconds must be a number, 0 or more")
    with WORLD.lock:
        state.propagation_seconds = float(seconds)
        state.propagation_since = utcnow() if seconds else None
        return {"seconds": state.propagation_seconds, "keys_created_after": iso(state.propagation_since)}


SSO_SESSION_SECONDS = 8 * 3600  # Identity Center's default session duration


def register_sso_token(account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Stands for ``aws sso login`` having given a user an access token, and
    for an account assignment letting that user use a role (a permission set,
    which AWS provisions as an IAM role; here the role is one the test made)."""
    known_account(account_id)
    token = body.get("token")
    role_name = body.get("role_name")
    user_name = body.get("user_name", "sso-user")
    seconds = body.get("expires_in_seconds", SSO_SESSION_SECONDS)
    if not isinstance(token, str) or not token:
        raise ControlError(400, "token is required")
    if not isinstance(role_name, str) or not role_name:
        raise ControlError(400, "role_name is required")
    if not isinstance(user_name, str) or not user_name:
        raise ControlError(400, "user_name must be a name")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ControlError(400, "expires_in_seconds must be a number, 0 or more")
    try:
        iam_backends[account_id][PARTITION].get_role(role_name)
    except Exception:  # moto's NoSuchEntity
        raise ControlError(400, f"no role {role_name} in account {account_id}") from None
    expires_at = utcnow().replace(microsecond=0) + timedelta(seconds=seconds)
    with WORLD.lock:
        known = WORLD.sso_tokens.get(token)
        if known is not None and known.user_name != user_name:
            raise ControlError(400, f"the token is already {known.user_name}'s")
        entry = WORLD.sso_tokens.setdefault(token, SsoToken(user_name, expires_at))
        entry.expires_at = expires_at
        entry.assignments.add((account_id, role_name))
        return {
            "user_name": entry.user_name,
            "expires_at": iso(entry.expires_at),
            "assignments": [
                {"account_id": a, "role_name": r} for a, r in sorted(entry.assignments)
            ],
        }


def control(method: str, path: str, body: bytes) -> tuple[int, Any]:
    try:
        payload = json.loads(body) if body.strip() else {}
        if not isinstance(payload, dict):
            raise ValueError
    except ValueError:
        return 400, {"error": "body must be a JSON object"}
    parts = path.strip("/").split("/")[1:]  # drop "_ses_doctor"
    try:
        if method == "GET" and parts == ["health"]:
            return 200, {"status": "ok", "moto": moto.__version__}
        if method == "POST" and parts == ["accounts"]:
            return 200, create_account()
        if method == "POST" and parts == ["smtp"]:
            return 200, start_smtp(payload)
        if method == "GET" and len(parts) == 3 and parts[0] == "accounts":
            getter = {"smtp-messages": smtp_messages, "smtp-auth": smtp_auth_attempts}.get(parts[2])
            if getter is not None:
                return 200, getter(parts[1])
        if method == "POST" and len(parts) == 3 and parts[0] == "accounts":
            handler = {
                "ses-account": set_ses_account,
                "verify": verify_identity,
                "clock": set_clock,
                "regions": set_region_enabled,
                "hang": set_region_hang,
                "propagation": set_propagation_delay,
                "sso": register_sso_token,
            }.get(parts[2])
            if handler is not None:
                return 200, handler(parts[1], payload)
        if method == "POST" and len(parts) == 4 and parts[0] == "accounts" and parts[2] == "keys":
            return 200, set_key_age(parts[1], parts[3], payload)
        return 404, {"error": f"no control endpoint {method} {path}"}
    except ControlError as error:
        return error.status, {"error": str(error)}


# ---------------------------------------------------------------------------
# SES SMTP interface (email-smtp.<region>.amazonaws.com), on aiosmtpd
# ---------------------------------------------------------------------------

SMTP_HOSTNAME = "email-smtp.amazonaws.com"
SMTP_IDENT = "ESMTP SimpleEmailService-ses-doctor-emulator"
SMTP_DATA_LIMIT = 40 * 1024 * 1024  # SES's message size limit (40 MB)
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")

# SES's replies, as users have reported them (sources in the module docstring).
SMTP_AUTH_OK = "235 Authentication successful."
SMTP_AUTH_INVALID = "535 Authentication Credentials Invalid"
SMTP_AUTH_LEGACY = (
    "535 Signature Version 2 is deprecated for use with SES from March 26, 2021. "
    "From that date on, we are progressively rejecting such requests. To resolve the "
    "issue, you must migrate to Signature Version 4. If you created your SMTP "
    "credentials in the SES Console, please create new credentials and replace the "
    "former ones. If you are deriving Signature Version 2 credentials from a IAM user, "
    "please start using the Signature Version 4 algorithm: "
    "https://docs.aws.amazon.com/ses/latest/DeveloperGuide/smtp-credentials.html"
)
SMTP_AUTH_REQUIRED = "530 Authentication required"
SMTP_ACCESS_DENIED = (
    "554 Access denied: User `{principal}' is not authorized to perform "
    "`ses:SendRawEmail' on resource `{resource}'"
)
SMTP_SENDING_PAUSED = (
    "554 Message rejected: Sending paused for this account. For more information, "
    "please check the inbox of the email address associated with your AWS account."
)
SMTP_NOT_VERIFIED = (
    "554 Message rejected: Email address is not verified. The following identities "
    "failed the check in region {region}: {identities}"
)


def smtp_password_v4(secret: str, region: str) -> str:
    """SES's SMTP password for a secret access key, bound to one region."""
    signature = hmac.new(("AWS4" + secret).encode(), b"11111111", hashlib.sha256).digest()
    for message in (region, "ses", "aws4_request", "SendRawEmail"):
        signature = hmac.new(signature, message.encode(), hashlib.sha256).digest()
    return base64.b64encode(b"\x04" + signature).decode()


def smtp_password_v2(secret: str) -> str:
    """The legacy (Signature Version 2) SMTP password, refused since 2021."""
    signature = hmac.new(secret.encode(), b"SendRawEmail", hashlib.sha256).digest()
    return base64.b64encode(b"\x02" + signature).decode()


_SES_REGIONS: list[str] = []


def ses_regions() -> list[str]:
    """Regions with SES, from botocore's endpoint data (to tell a password
    derived for another region from a wrong one)."""
    if not _SES_REGIONS:
        import botocore.session

        session = botocore.session.get_session()
        _SES_REGIONS.extend(sorted(set(session.get_available_regions("ses")) | OPT_IN_REGIONS))
    return _SES_REGIONS


@dataclass
class SmtpUser:
    """Who an SMTP session authenticated as."""

    account_id: str
    access_key_id: str
    arn: str
    user_name: str | None  # None: the account's root user


def smtp_authenticate(region: str, mechanism: str, login: bytes, password: bytes) -> AuthResult:
    """SES's SMTP AUTH: the user name is an access key ID and the password the
    SMTP password derived from its secret for this endpoint's region. The key
    must be known, Active and past IAM's propagation delay, and the region
    enabled for its account (the checks the HTTPS API makes), else 535
    "Authentication Credentials Invalid". A matching legacy v2 password gets
    SES's deprecation notice, also a 535. Each attempt with a known key is
    recorded in its account (GET .../smtp-auth), never with the password."""
    key_id = login.decode("utf-8", "replace").strip()
    given = password.decode("utf-8", "replace")
    account_id = account_of_key(key_id)
    outcome, derived_for, user = "unknown-key", None, None
    if account_id is not None:
        root = WORLD.root_keys.get(key_id)
        if root is not None:
            secret, user_name, status = root.secret_access_key, None, "Active"
            arn = f"arn:aws:iam::{account_id}:root"
        else:
            iam = iam_backends[account_id][PARTITION]
            key = iam.access_keys.get(key_id)
            owner = iam.users.get(key.user_name) if key is not None else None
            if owner is None:  # deleted meanwhile
                return AuthResult(success=False, handled=False, message=SMTP_AUTH_INVALID)
            secret, user_name, status = key.secret_access_key, key.user_name, key.status
            arn = owner.arn
        if status != "Active":
            outcome = "inactive-key"
        elif WORLD.key_propagating(account_id, key_id):
            outcome = "propagating-key"
        elif not WORLD.region_enabled(account_id, region):
            outcome = "region-not-enabled"
        elif hmac.compare_digest(given.encode(), smtp_password_v4(secret, region).encode()):
            outcome = "ok"
            user = SmtpUser(account_id, key_id, arn, user_name)
        elif hmac.compare_digest(given.encode(), smtp_password_v2(secret).encode()):
            outcome = "legacy-v2"
            log.warning("SMTP AUTH in %s with a legacy (Signature Version 2) password for %s",
                        region, key_id)
        elif hmac.compare_digest(given.encode(), secret.encode()):
            outcome = "secret-as-password"
        else:
            derived_for = next(
                (r for r in ses_regions() if r != region and hmac.compare_digest(
                    given.encode(), smtp_password_v4(secret, r).encode())),
                None,
            )
            outcome = "other-region" if derived_for else "wrong-password"
        with WORLD.lock:
            WORLD.account(account_id).smtp_auth_attempts.append({
                "region": region,
                "access_key_id": key_id,
                "mechanism": mechanism,
                "outcome": outcome,
                "derived_for": derived_for,
                "time": iso(utcnow()),
            })
    if user is not None:
        return AuthResult(success=True, message=SMTP_AUTH_OK, auth_data=user)
    message = SMTP_AUTH_LEGACY if outcome == "legacy-v2" else SMTP_AUTH_INVALID
    return AuthResult(success=False, handled=False, message=message)


def ses_message_id() -> str:
    """An id shaped like SES's: 0100 + milliseconds (hex), a UUID, -000000."""
    return f"0100{int(time.time() * 1000):012x}-{uuid.uuid4()}-000000"


def smtp_deliver(region: str, user: SmtpUser, envelope: Envelope) -> str:
    """What SES answers at the end of DATA (it accepts MAIL FROM and RCPT TO
    and judges the message only then): the user must be allowed
    ses:SendRawEmail on each sender's identity (554 Access denied); sending
    must not be paused (554); every sender (the From: header, then the
    envelope sender) and, in the sandbox, every recipient except the mailbox
    simulator must be covered by a verified identity in this region (554
    Message rejected: Email address is not verified ...). Else 250 Ok <id>,
    and the message is recorded in the account (GET .../smtp-messages)."""
    raw = envelope.original_content or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    mail_from = envelope.mail_from or ""
    recipients = list(envelope.rcpt_tos)
    # (as SES names it in its reply, bare address), From: header(s) first.
    senders: list[tuple[str, str]] = []
    for value in headers.get_all("From") or []:
        value = " ".join(str(value).split())
        addresses = [a for _, a in email.utils.getaddresses([value]) if a]
        senders += [(value if len(addresses) == 1 else a, a) for a in addresses]
    if mail_from:
        senders.append((mail_from, mail_from))

    core = sesv2_backends[user.account_id][region].core_backend
    if user.user_name is not None:  # root may do everything
        try:
            policies = user_policies(user.account_id, user.user_name)
        except Exception:  # the user was deleted meanwhile
            policies = []
        context = {
            "aws:requestedregion": [region],
            "ses:fromaddress": [senders[0][1]] if senders else [],
            "ses:recipients": recipients,
        }
        for address in dict.fromkeys(a for _, a in senders):
            resource = (f"arn:aws:ses:{region}:{user.account_id}:identity/"
                        f"{covering_identity(core, address) or address}")
            decision = evaluate(policies, "ses:SendRawEmail", resource,
                                {"aws:username": user.user_name}, context)
            if decision.decision != "allowed":
                return SMTP_ACCESS_DENIED.format(principal=user.arn, resource=resource)

    settings = WORLD.account(user.account_id).ses_settings(region)
    if not settings.sending_enabled:
        return SMTP_SENDING_PAUSED
    failed: list[str] = []
    for shown, address in senders:
        if covering_identity(core, address, verified_only=True) is None and shown not in failed:
            failed.append(shown)
    if not settings.production_access:
        for address in recipients:
            if address.lower().endswith("@" + SIMULATOR_DOMAIN):
                continue
            if covering_identity(core, address, verified_only=True) is None and address not in failed:
                failed.append(address)
    if failed:
        return SMTP_NOT_VERIFIED.format(region=region.upper(), identities=", ".join(failed))

    message_id = ses_message_id()
    with WORLD.lock:
        WORLD.account(user.account_id).smtp_messages.append({
            "region": region,
            "mail_from": mail_from,
            "rcpt_to": recipients,
            "message_id": message_id,
            "access_key_id": user.access_key_id,
            "data": raw.decode("utf-8", "replace"),
        })
        core.sent_message_count += len(recipients)
    return f"250 Ok {message_id}"


class SesSmtpHandler:
    """aiosmtpd hooks for one region's listeners."""

    def __init__(self, region: str):
        self.region = region

    async def handle_EHLO(self, server: AioSMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        # SES offers AUTH before STARTTLS too (and answers it with 530), which
        # is why clients that skip STARTTLS see "Must issue a STARTTLS command first".
        session.host_name = hostname
        lines = [f"250-{SMTP_HOSTNAME}", "250-8BITMIME"]
        if "250-STARTTLS" in responses:
            lines.append("250-STARTTLS")
        return lines + ["250-AUTH PLAIN LOGIN", "250 Ok"]

    async def handle_MAIL(self, server: AioSMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        if not session.authenticated:
            return SMTP_AUTH_REQUIRED
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 Ok"

    async def handle_RCPT(self, server: AioSMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 Ok"

    async def handle_DATA(self, server: AioSMTP, session: Session, envelope: Envelope) -> str:
        try:
            return smtp_deliver(self.region, session.auth_data, envelope)
        except Exception:
            log.exception("SMTP DATA in %s", self.region)
            return "451 Temporary service failure"


class SesSmtp(AioSMTP):
    """aiosmtpd's server with SES's AUTH LOGIN prompts."""

    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"


class SmtpService:
    """The SMTP listeners, two per region (STARTTLS and TLS wrapper), started
    on demand, all on one asyncio loop in a thread of their own; with a test CA
    (made at start, written to ``ca.pem`` in a temporary directory removed on
    shutdown) that signs one server certificate per region for localhost,
    127.0.0.1 and email-smtp.<region>.amazonaws.com."""

    def __init__(self, host: str):
        self.host = host
        self.directory = tempfile.mkdtemp(prefix="ses-doctor-smtp-")
        CLEANUP_DIRS.append(self.directory)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ses-doctor emulator test CA")])
        now = utcnow()
        self.ca_name = name
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()),
                           critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        self.ca_file = os.path.join(self.directory, "ca.pem")
        with open(self.ca_file, "wb") as out:
            out.write(self.ca_cert.public_bytes(serialization.Encoding.PEM))
        self.lock = threading.Lock()
        self.listeners: dict[str, dict[str, Any]] = {}
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="smtp", daemon=True).start()

    def server_context(self, region: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        now = utcnow()
        names: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.DNSName(f"email-smtp.{region}.amazonaws.com"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
        try:
            if self.host != "127.0.0.1":
                names.append(x509.IPAddress(ipaddress.ip_address(self.host)))
        except ValueError:
            names.append(x509.DNSName(self.host))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(
                NameOID.COMMON_NAME, f"email-smtp.{region}.amazonaws.com")]))
            .issuer_name(self.ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.ca_key.public_key()), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        cert_file = os.path.join(self.directory, f"{region}.pem")
        key_file = os.path.join(self.directory, f"{region}.key")
        with open(cert_file, "wb") as out:
            out.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as out:
            out.write(key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_file, key_file)
        return context

    def start(self, region: str) -> dict[str, Any]:
        """The region's listeners, started on first use."""
        with self.lock:
            if region not in self.listeners:
                context = self.server_context(region)
                future = asyncio.run_coroutine_threadsafe(self._listen(region, context), self.loop)
                starttls_port, tls_port = future.result(timeout=30)
                self.listeners[region] = {
                    "region": region,
                    "host": self.host,
                    "starttls_port": starttls_port,
                    "tls_port": tls_port,
                    "ca_file": self.ca_file,
                }
            return dict(self.listeners[region])

    async def _listen(self, region: str, context: ssl.SSLContext) -> tuple[int, int]:
        handler = SesSmtpHandler(region)

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> AuthResult:
            if not isinstance(auth_data, LoginPassword):
                return AuthResult(success=False, handled=False, message=SMTP_AUTH_INVALID)
            return smtp_authenticate(region, mechanism, auth_data.login, auth_data.password)

        def protocol(wrapped: bool) -> SesSmtp:
            return SesSmtp(
                handler,
                hostname=SMTP_HOSTNAME,
                ident=SMTP_IDENT,
                data_size_limit=SMTP_DATA_LIMIT,
                # STARTTLS port: every command but EHLO/NOOP/STARTTLS/QUIT before
                # TLS gets "530 Must issue a STARTTLS command first", as on SES.
                tls_context=None if wrapped else context,
                require_starttls=not wrapped,
                auth_require_tls=False,  # the 530 above comes first
                authenticator=authenticator,
                timeout=60,
                loop=self.loop,
            )

        plain = await self.loop.create_server(lambda: protocol(False), self.host, 0)
        wrapper = await self.loop.create_server(lambda: protocol(True), self.host, 0, ssl=context)
        return plain.sockets[0].getsockname()[1], wrapper.sockets[0].getsockname()[1]


SMTP: SmtpService | None = None  # made in main()


def start_smtp(body: dict[str, Any]) -> dict[str, Any]:
    region = body.get("region")
    if not isinstance(region, str) or not REGION_NAME.fullmatch(region):
        raise ControlError(400, "region must be a region name such as eu-west-1")
    if SMTP is None:
        raise ControlError(400, "the SMTP interface is not running")
    return SMTP.start(region)


def smtp_messages(account_id: str) -> list[dict[str, Any]]:
    state = known_account(account_id)
    with WORLD.lock:
        return [dict(m) for m in state.smtp_messages]


def smtp_auth_attempts(account_id: str) -> list[dict[str, Any]]:
    state = known_account(account_id)
    with WORLD.lock:
        return [dict(a) for a in state.smtp_auth_attempts]


# ---------------------------------------------------------------------------
# SSO portal (IAM Identity Center's GetRoleCredentials), which moto lacks
# ---------------------------------------------------------------------------

SSO_CREDENTIALS_PATH = "/federation/credentials"
SSO_BEARER_TOKEN_HEADER = "x-amz-sso_bearer_token"
# werkzeug leaves headers whose name has a "_" out of the WSGI environ;
# RequestHandler.make_environ keeps this one here.
SSO_BEARER_TOKEN_ENVIRON_KEY = "ses_doctor.sso_bearer_token"
SSO_ROLE_SESSION_SECONDS = 3600  # a permission set's default session duration


def is_sso_get_role_credentials(wire: WireRequest) -> bool:
    return wire.method == "GET" and urlsplit(wire.raw_uri).path == SSO_CREDENTIALS_PATH


def sso_unauthorized() -> AuthError:
    return AuthError("UnauthorizedException", "UnauthorizedException",
                     "Session token not found or invalid", status=401)


def sso_forbidden() -> AuthError:
    return AuthError("ForbiddenException", "ForbiddenException", "No access", status=403)


def sso_role_credentials(account_id: str, role_name: str, session_name: str) -> dict[str, Any] | None:
    """Credentials of a new session of the role, made by moto's STS as for
    sts:AssumeRole (so moto's authentication knows the ASIA key, its session
    token and its role), or None if the role is gone."""
    try:
        role = iam_backends[account_id][PARTITION].get_role(role_name)
    except Exception:  # moto's NoSuchEntity: deleted since it was assigned
        return None
    session = sts_models.sts_backends[account_id][PARTITION].assume_role(
        region_name="us-east-1", role_session_name=session_name, role_arn=role.arn,
        policy=None, duration=SSO_ROLE_SESSION_SECONDS, external_id=None,
    )
    return {
        "accessKeyId": session.access_key_id,
        "secretAccessKey": session.secret_access_key,
        "sessionToken": session.session_token,
        "expiration": int(as_utc(session.expiration).timestamp() * 1000),
    }


def sso_get_role_credentials(environ: dict[str, Any], wire: WireRequest) -> tuple[int, dict[str, str], str]:
    """AWS's sso:GetRoleCredentials (see "SSO portal" in the module
    docstring): unsigned, the bearer token is the credential. The token is
    judged first (401 UnauthorizedException for an unknown or expired one,
    or none), then whether it may use the role of the account (403
    ForbiddenException "No access", also for a missing role_name or
    account_id); AWS's errors say nothing more."""
    params = query_params(wire)
    token = environ.get(SSO_BEARER_TOKEN_ENVIRON_KEY, "")
    account_id = params.get("account_id", "")
    role_name = params.get("role_name", "")
    request_id = str(uuid.uuid4())
    with WORLD.lock:
        entry = WORLD.sso_tokens.get(token) if token else None
        valid = entry is not None and utcnow() < entry.expires_at
        assigned = valid and (account_id, role_name) in entry.assignments
        session_name = entry.user_name if entry is not None else ""
    credentials = sso_role_credentials(account_id, role_name, session_name) if assigned else None
    if credentials is None:
        error = sso_forbidden() if valid else sso_unauthorized()
        status, headers, body = render_error(
            "rest-json", None, error.json_code, error.message, error.status, request_id
        )
    else:
        status, headers = 200, {"Content-Type": "application/json"}
        body = json.dumps({"roleCredentials": credentials})
    headers["x-amzn-RequestId"] = request_id
    return status, headers, body


# ---------------------------------------------------------------------------
# WSGI front: control API, wire capture, Date header
# ---------------------------------------------------------------------------

CLOCK_OFFSET_ENVIRON_KEY = "ses_doctor.clock_offset"


def query_params(wire: WireRequest) -> dict[str, str]:
    """The query string of the request as sent (first value of each name)."""
    query = urlsplit(wire.raw_uri).query
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


def request_scope(environ: dict[str, Any], wire: WireRequest) -> list[str]:
    """The SigV4 credential scope (key id, date, region, service, aws4_request)
    from the Authorization header, or from X-Amz-Credential in a presigned URL."""
    scope = credential_scope(environ.get("HTTP_AUTHORIZATION"))
    if not scope and "X-Amz-Credential=" in wire.raw_uri:
        scope = query_params(wire).get("X-Amz-Credential", "").split("/")
    return scope


# STS actions AWS takes unsigned: the token or assertion is the credential.
UNSIGNED_STS_ACTIONS = frozenset({"AssumeRoleWithWebIdentity"})


def unsigned_sts_action(environ: dict[str, Any], wire: WireRequest) -> str | None:
    """The action of an unsigned awsQuery request whose action STS accepts
    unsigned (moto routes those to STS by the Action alone), else None."""
    if "HTTP_AUTHORIZATION" in environ or "X-Amz-Credential=" in wire.raw_uri:
        return None
    if not any(a.encode() in wire.body or a in wire.raw_uri for a in UNSIGNED_STS_ACTIONS):
        return None
    action = form_params(wire.body).get("Action") or query_params(wire).get("Action")
    return action if action in UNSIGNED_STS_ACTIONS else None


def request_protocol(environ: dict[str, Any], wire: WireRequest) -> tuple[str, str | None]:
    """The protocol (and XML namespace) of the service a request is for, told
    from its SigV4 credential scope before moto routes it. SES v1 and v2 both
    sign as "ses"; v2's paths start with /v2/. Unsigned: guess from the body."""
    scope = request_scope(environ, wire)
    service = scope[3] if len(scope) > 3 else None
    if service is None and unsigned_sts_action(environ, wire):
        service = "sts"
    if service == "ses" and environ.get("PATH_INFO", wire.raw_uri).startswith("/v2/"):
        service = "sesv2"
    if service:
        try:
            model = get_service_model(service)
            return model.protocol, model.metadata.get("xmlNamespace")
        except Exception:  # not a service botocore knows: fall through
            pass
    is_query = environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
    return ("query" if is_query else "rest-json"), None


def early_error(
    environ: dict[str, Any], wire: WireRequest, error: AuthError
) -> tuple[int, dict[str, str], str]:
    """An AuthError rendered as the request's service would, for answering
    before moto (which would add the x-amzn-RequestId header itself)."""
    protocol, namespace = request_protocol(environ, wire)
    code = error.json_code if protocol in ("rest-json", "json") else error.query_code
    request_id = str(uuid.uuid4())
    status, headers, body = render_error(protocol, namespace, code, error.message, error.status, request_id)
    headers["x-amzn-RequestId"] = request_id
    return status, headers, body


def signing_region(environ: dict[str, Any]) -> str | None:
    scope = credential_scope(environ.get("HTTP_AUTHORIZATION"))
    return scope[2] if len(scope) > 2 else None


def hang_if_region_hangs(environ: dict[str, Any], wire: WireRequest) -> None:
    """A regional endpoint that accepts the connection and never answers (an
    outage, a firewall dropping replies): the SDK only gives up through its
    timeouts, and ses-doctor must not stall on one dead region. Requests signed
    with the account's keys for a hanging region (POST .../hang) wait that long,
    then are handled normally. Each request has its own thread (werkzeug's
    threaded server), so others are not held up; changing or removing the hang
    releases requests already waiting, by the new value."""
    region = signing_region(environ)
    if wire.account_id is None or region is None:
        return
    start = time.monotonic()
    with WORLD.hangs_changed:
        while True:
            remaining = start + WORLD.hang_seconds(wire.account_id, region) - time.monotonic()
            if remaining <= 0:
                return
            WORLD.hangs_changed.wait(remaining)


def missing_authentication(environ: dict[str, Any], wire: WireRequest) -> tuple[int, dict[str, str], str] | None:
    """AWS answers an unsigned request with MissingAuthenticationToken; moto cannot
    even tell which service it is for (it routes on the credential scope) and
    answers from S3 or crashes. Except sts:AssumeRoleWithWebIdentity, which AWS
    takes unsigned (see ``web_identity_not_authorized``)."""
    if "HTTP_AUTHORIZATION" not in environ and "X-Amz-Credential=" not in wire.raw_uri:
        if unsigned_sts_action(environ, wire):
            return None
        return early_error(environ, wire, missing_authentication_token())
    return None


def long_term_key_with_session_token(
    environ: dict[str, Any], wire: WireRequest
) -> tuple[int, dict[str, str], str] | None:
    """AWS: a request signed with a long-term access key (AKIA..., an IAM user's
    or the root user's) that also carries a session token (the
    X-Amz-Security-Token header, or query parameter in a presigned URL) fails
    authentication: InvalidClientTokenId "The security token included in the
    request is invalid." (UnrecognizedClientException on rest-json services such
    as SES v2), HTTP 403. It happens when a profile or the environment pairs a
    user's key with a leftover AWS_SESSION_TOKEN. moto ignored the token for
    root keys and in presigned URLs. Temporary keys (ASIA...) need their token."""
    key_id = (request_scope(environ, wire) or [""])[0]
    has_token = "HTTP_X_AMZ_SECURITY_TOKEN" in environ or (
        "X-Amz-Security-Token=" in wire.raw_uri and "X-Amz-Security-Token" in query_params(wire)
    )
    if key_id.startswith("AKIA") and has_token:
        return early_error(environ, wire, invalid_client_token())
    return None


def web_identity_not_authorized(
    environ: dict[str, Any], wire: WireRequest
) -> tuple[int, dict[str, str], str] | None:
    """AWS's sts:AssumeRoleWithWebIdentity (unsigned, see
    ``missing_authentication``): a token shorter than 4 characters (an empty
    token file) fails validation (ValidationError, HTTP 400); then the role must
    exist in the account its ARN names, and its trust policy must allow
    sts:AssumeRoleWithWebIdentity to a federated principal ({"Federated": ...}
    or "*") with no unconditional Deny, else 403 AccessDenied "Not authorized to
    perform sts:AssumeRoleWithWebIdentity". The token itself is not verified:
    any token of 4 characters or more stands for a valid one from the
    provider, and the trust policy's conditions (aud, sub) are not checked.
    moto issues credentials for any token and any role ARN. (A signed request
    is judged the same way, its signature unchecked.)"""
    if b"AssumeRoleWithWebIdentity" not in wire.body and "AssumeRoleWithWebIdentity" not in wire.raw_uri:
        return None  # (cheap test first: bodies can be large)
    params = form_params(wire.body) or query_params(wire)
    scope = request_scope(environ, wire)
    is_sts = scope[3] == "sts" if len(scope) > 3 else bool(unsigned_sts_action(environ, wire))
    if not is_sts or params.get("Action") != "AssumeRoleWithWebIdentity":
        return None
    token = params.get("WebIdentityToken", "")
    if len(token) < 4:
        return early_error(environ, wire, AuthError(
            "ValidationError", "ValidationException",
            "1 validation error detected: Value at 'webIdentityToken' failed to satisfy "
            "constraint: Member must have length greater than or equal to 4",
            status=400,
        ))
    role = find_role(params.get("RoleArn", ""))
    if role is None:
        return early_error(environ, wire, web_identity_denied())
    allowed = False
    for statement in _as_list(_trust_document(role).get("Statement", [])):
        if not isinstance(statement, dict):
            continue
        principal = statement.get("Principal")
        federated = principal == "*" or (isinstance(principal, dict) and (
            "Federated" in principal or principal.get("AWS") == "*"))
        unconditional = {k: v for k, v in statement.items() if k != "Condition"}
        if not federated or not _statement_applies(
                unconditional, "sts:AssumeRoleWithWebIdentity", role.arn, {}, {}, []):
            continue
        if statement.get("Effect") == "Deny" and "Condition" not in statement:
            return early_error(environ, wire, web_identity_denied())
        if statement.get("Effect") == "Allow":
            allowed = True
    return None if allowed else early_error(environ, wire, web_identity_denied())


def key_not_yet_propagated(environ: dict[str, Any], wire: WireRequest) -> tuple[int, dict[str, str], str] | None:
    """AWS IAM is eventually consistent: a key that CreateAccessKey just returned
    is unknown to STS, IAM and SES for a while (typically 5-15 s), and requests
    signed with it fail as with any unknown key: InvalidClientTokenId "The
    security token included in the request is invalid." (UnrecognizedClientException
    on rest-json services such as SES v2), HTTP 403. A tool that creates a key
    must poll until it works, not sleep a fixed time. moto knows a key at once.
    Here, with POST .../propagation {"seconds": N}, IAM user keys created from
    then on (by the harness or by the tool under test, through CreateAccessKey)
    are refused for N seconds after their create date; a key backdated with
    POST .../keys/<id> is past its delay, as it would be on AWS."""
    if wire.account_id is None:
        return None
    key_id = access_key_from_authorization(environ.get("HTTP_AUTHORIZATION"))
    if not WORLD.key_propagating(wire.account_id, key_id):
        return None
    return early_error(environ, wire, invalid_client_token())


def opt_in_region_disabled(environ: dict[str, Any], wire: WireRequest) -> tuple[int, dict[str, str], str] | None:
    """AWS: an opt-in region (launched after 2019-03-20) is disabled until the
    account enables it, and until then every request signed for it fails
    authentication, whatever the key: InvalidClientTokenId "The security token
    included in the request is invalid." (UnrecognizedClientException on
    rest-json services such as SES v2), HTTP 403. A new account has none
    enabled; POST .../regions enables one. moto serves every region. Judged by
    the credential-scope region and the account owning the key (a key no
    account owns gets the same answer from moto)."""
    region = signing_region(environ)
    if wire.account_id is None or region is None:
        return None
    if WORLD.region_enabled(wire.account_id, region):
        return None
    return early_error(environ, wire, invalid_client_token())


# Regional endpoints. The emulator serves every region from one address; a request
# sent to http://HOST:PORT/_endpoint/<AWS host>/... stands for one sent to that AWS
# host (sts.eu-west-1.amazonaws.com, email.us-west-2.amazonaws.com): the prefix is
# signed like any path, and taken off before moto routes the request.
ENDPOINT_PREFIX = re.compile(r"^/_endpoint/([A-Za-z0-9.-]+)(/.*)?$")
ENDPOINT_HOST_ENVIRON_KEY = "ses_doctor.endpoint_host"
REGIONAL_HOST = re.compile(r"^[a-z0-9-]+(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$")
# Global endpoints sign for their partition's home region.
GLOBAL_HOSTS = {"sts.amazonaws.com": "us-east-1", "iam.amazonaws.com": "us-east-1"}


def endpoint_region(host: str) -> str | None:
    """The region an AWS endpoint host belongs to, or None for a host that names none."""
    host = host.lower()
    if host in GLOBAL_HOSTS:
        return GLOBAL_HOSTS[host]
    match = REGIONAL_HOST.match(host)
    return match.group(1) if match else None


def signing_region_mismatch(environ: dict[str, Any], wire: WireRequest) -> tuple[int, dict[str, str], str] | None:
    """AWS refuses a request whose SigV4 credential scope names another region than
    the endpoint's, before it looks at the key: "Credential should be scoped to a
    valid region, not 'us-east-1'. " (SignatureDoesNotMatch; aws/aws-sdk-java#1097
    for SES, cloud-custodian/cloud-custodian#4874 for STS)."""
    host = environ.get(ENDPOINT_HOST_ENVIRON_KEY)
    signed = signing_region(environ)
    expected = endpoint_region(host) if host else None
    if expected is None or signed is None or signed == expected:
        return None
    return early_error(
        environ, wire, signature_mismatch(f"Credential should be scoped to a valid region, not '{signed}'. ")
    )


def pre_dispatch_checks(environ: dict[str, Any], wire: WireRequest) -> tuple[int, dict[str, str], str] | None:
    """Checks that run before moto sees a request, one function each, in order.
    Returns a response to send, or None to let moto handle the request."""
    hang_if_region_hangs(environ, wire)
    for check in (
        missing_authentication,
        signing_region_mismatch,
        long_term_key_with_session_token,
        web_identity_not_authorized,
        key_not_yet_propagated,
        opt_in_region_disabled,
    ):
        early = check(environ, wire)
        if early is not None:
            return early
    return None


class EmulatorApp:
    def __init__(self, moto_app: Callable[..., Iterable[bytes]]):
        self.moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > 0:
            body = environ["wsgi.input"].read(length)
        elif environ.get("wsgi.input_terminated"):  # chunked request body
            body = environ["wsgi.input"].read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)

        if path.startswith("/_ses_doctor/"):
            status, payload = control(environ["REQUEST_METHOD"], path, body)
            data = json.dumps(payload).encode()
            reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
            start_response(
                f"{status} {reason}",
                [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
            )
            return [data]

        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or path
        endpoint = ENDPOINT_PREFIX.match(path)
        if endpoint is not None:  # signed with the prefix (raw_uri); routed without it
            environ[ENDPOINT_HOST_ENVIRON_KEY] = endpoint.group(1)
            environ["PATH_INFO"] = endpoint.group(2) or "/"
        account_id = account_of_key(access_key_from_authorization(environ.get("HTTP_AUTHORIZATION")))
        wire = WireRequest(environ["REQUEST_METHOD"], raw_uri, body, account_id)
        # Read by RequestHandler.date_time_string for the one Date header.
        environ[CLOCK_OFFSET_ENVIRON_KEY] = WORLD.clock_offset(account_id)

        if is_sso_get_role_credentials(wire):  # unsigned: served here, never by moto
            status, headers, text = sso_get_role_credentials(environ, wire)
            data = text.encode()
            start_response(f"{status} {HTTPStatus(status).phrase}",
                           [*headers.items(), ("Content-Length", str(len(data)))])
            return [data]

        early = pre_dispatch_checks(environ, wire)
        if early is not None:
            status, headers, text = early
            data = text.encode()
            start_response(f"{status} Forbidden" if status == 403 else f"{status} Error",
                           [*headers.items(), ("Content-Length", str(len(data)))])
            return [data]

        def start_response_one_server(status: str, headers: list, exc_info: Any = None) -> Any:
            # http.server adds its own Server header (RequestHandler.version_string);
            # moto echoes the status code as a "status" header.
            headers = [(k, v) for k, v in headers if k.lower() not in ("server", "status")]
            return start_response(status, headers, exc_info)

        _local.request = wire
        try:
            return self.moto_app(environ, start_response_one_server)
        finally:
            _local.request = None


class RequestHandler(WSGIRequestHandler):
    """http.server always writes its own Date header; make it the one Date
    header, in the clock of the account that signed the request. Keeps SSO's
    bearer token header, which werkzeug drops (``make_environ``)."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        if timestamp is None:
            timestamp = time.time() + getattr(self, "environ", {}).get(CLOCK_OFFSET_ENVIRON_KEY, 0)
        return email.utils.formatdate(timestamp, usegmt=True)

    def version_string(self) -> str:
        return "amazon.com"

    def make_environ(self) -> dict[str, Any]:
        # werkzeug leaves out every header whose name has a "_" (CGI could not
        # tell it from "-"); SSO's bearer token header has one.
        environ = super().make_environ()
        token = self.headers.get(SSO_BEARER_TOKEN_HEADER)
        if token is not None:
            environ[SSO_BEARER_TOKEN_ENVIRON_KEY] = token
        return environ

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


# ---------------------------------------------------------------------------
# Demo world
# ---------------------------------------------------------------------------


def build_demo(endpoint: str) -> None:
    """A small broken world for a newcomer to point ses-doctor at."""
    account = create_account()
    account_id = account["account_id"]
    iam = iam_backends[account_id][PARTITION]

    iam.create_user(region_name="us-east-1", user_name="mailer")
    iam.attach_user_policy("arn:aws:iam::aws:policy/AmazonSESFullAccess", "mailer")
    mailer_key = iam.create_access_key("mailer")
    iam.update_access_key("mailer", mailer_key.access_key_id, "Inactive")

    iam.create_user(region_name="us-east-1", user_name="wordpress")
    wordpress_key = iam.create_access_key("wordpress")

    iam.create_user(region_name="us-east-1", user_name="denied")
    iam.attach_user_policy("arn:aws:iam::aws:policy/AmazonSESFullAccess", "denied")
    iam.put_user_policy(
        "denied",
        "NoSending",
        json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "*"}]}),
    )
    denied_key = iam.create_access_key("denied")

    ses_eu = sesv2_backends[account_id]["eu-west-1"]
    ses_eu.create_email_identity("example.com", None, None, None)
    mark_identity_verified(ses_eu.core_backend.email_identities["example.com"])
    ses_us = sesv2_backends[account_id]["us-east-1"]
    ses_us.create_email_identity("noreply@example.com", None, None, None)  # left pending
    set_ses_account(account_id, {"region": "eu-west-1", "production_access": True,
                                 "max_24_hour_send": 50000, "max_send_rate": 14})

    directory = tempfile.mkdtemp(prefix="ses-doctor-demo-")
    CLEANUP_DIRS.append(directory)
    credentials = os.path.join(directory, "credentials")
    config = os.path.join(directory, "config")
    profiles = {
        "admin": account["admin"],
        "mailer": {"access_key_id": mailer_key.access_key_id,
                   "secret_access_key": mailer_key.secret_access_key},
        "wordpress": {"access_key_id": wordpress_key.access_key_id,
                      "secret_access_key": wordpress_key.secret_access_key},
        "denied": {"access_key_id": denied_key.access_key_id,
                   "secret_access_key": denied_key.secret_access_key},
        "typo": {"access_key_id": wordpress_key.access_key_id,
                 "secret_access_key": wordpress_key.secret_access_key[:-3]},
        "root": account["root"],
    }
    with open(credentials, "w", encoding="utf-8") as out:
        for name, keys in profiles.items():
            out.write(f"[{name}]\naws_access_key_id = {keys['access_key_id']}\n"
                      f"aws_secret_access_key = {keys['secret_access_key']}\n\n")
    os.chmod(credentials, 0o600)
    with open(config, "w", encoding="utf-8") as out:
        for name in profiles:
            header = "default" if name == "default" else f"profile {name}"
            out.write(f"[{header}]\nregion = us-east-1\n\n")

    # An SES-like SMTP endpoint for eu-west-1, where example.com is verified.
    smtp = SMTP.start("eu-west-1") if SMTP is not None else None
    smtp_line = (
        f"  ses-doctor diagnose --profile wordpress --admin-profile admin --via smtp \\\n"
        f"      --region eu-west-1 --smtp-endpoint {smtp['host']}:{smtp['starttls_port']} "
        f"--smtp-ca-file {smtp['ca_file']}\n"
        if smtp
        else ""
    )
    sys.stderr.write(
        f"""
ses-doctor demo world (emulator only; these keys work nowhere else)
  account {account_id}, SES identity example.com verified in eu-west-1 only
  (production access there), noreply@example.com pending in us-east-1 (sandbox).
  No opt-in region (af-south-1, me-south-1, ...) is enabled, as in a new account.
  profiles: admin (AdministratorAccess), mailer (SES access, key Inactive),
            wordpress (no SES permission), denied (explicit Deny on sending),
            typo (wordpress's key with a truncated secret), root (root key)

  export AWS_ENDPOINT_URL={endpoint}
  export AWS_SHARED_CREDENTIALS_FILE={credentials}
  export AWS_CONFIG_FILE={config}
  ses-doctor diagnose --profile mailer --admin-profile admin
  ses-doctor diagnose --profile wordpress --admin-profile admin
  ses-doctor diagnose --profile typo --admin-profile admin
  ses-doctor diagnose --profile root
{smtp_line}  (from the repository, `cargo run --locked --` stands in for `ses-doctor`)

Stop with Ctrl-C; the files above are removed then.
"""
    )
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


# Directories to remove on the way out (the demo's credentials files).
CLEANUP_DIRS: list[str] = []


def shutdown(*_: object) -> None:
    """Every way out ends here: remove what we wrote, then exit at once (serve_forever
    holds the main thread, so a normal exit would not happen)."""
    for directory in CLEANUP_DIRS:
        shutil.rmtree(directory, ignore_errors=True)
    os._exit(0)


def exit_on_stdin_eof() -> None:
    """The test harness holds our stdin open; when it exits (or dies), EOF."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--demo", action="store_true", help="create a sample broken world")
    parser.add_argument("--no-patches", action="store_true",
                        help="debugging: stock moto behind the same front (no root keys)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # aiosmtpd warns on every AUTH (its deprecated Session.login_data) and on
    # every unknown command or dropped client.
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    if not args.no_patches:
        apply_patches()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    threading.Thread(target=exit_on_stdin_eof, name="stdin-eof", daemon=True).start()

    global SMTP
    SMTP = SmtpService(args.host)

    app = EmulatorApp(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True, request_handler=RequestHandler)
    endpoint = f"http://{args.host}:{server.server_port}"
    sys.stdout.write(f"READY {endpoint}\n")
    sys.stdout.flush()
    # Nothing else goes to stdout (moto prints there now and then): nobody reads
    # it after READY, and a full pipe would block the emulator.
    sys.stdout = sys.stderr
    if args.demo:
        build_demo(endpoint)
    server.serve_forever()


if __name__ == "__main__":
    main()
