#!/usr/bin/env python3
"""What botocore makes of the shared AWS config and credentials files, for
ses-doctor's differential tests: "does botocore (and so boto3 and the AWS CLI
v1, which load these files through it) read these files the way the Rust SDK
does?". A test writes the files, sets the environment, runs

    python3 botocore_probe.py [PROFILE]

and compares the one JSON object this prints on stdout with what ses-doctor
(the Rust SDK) reports. Environment read (as botocore reads it):
AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE,
AWS_DEFAULT_PROFILE, AWS_DEFAULT_REGION (botocore ignores AWS_REGION),
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
AWS_ENDPOINT_URL (where a role profile's AssumeRole call goes), HOME.

Output (one line, nothing else on stdout; never a secret):

    {"profile": the profile botocore's Session selects (PROFILE when given,
                else AWS_DEFAULT_PROFILE, else AWS_PROFILE, else "default"),
     "config_error": null | "<ExceptionClass>: <message>",
         what botocore raises loading the config file (botocore.configloader
         .load_config); for a ConfigParseError the configparser error under it
         follows in parentheses, e.g. "(DuplicateSectionError: ...)". A
         missing file is not an error (null).
     "credentials_file_error": null | "<ExceptionClass>: <message>",
         the same for the credentials file, parsed as botocore's
         SharedCredentialProvider parses it (configloader.raw_config_parse).
     "profiles": {name: {key: value}} | null,
         session.full_config["profiles"]: the config file's profiles, into
         which botocore merges every credentials-file section (credentials-file
         values win); null when loading either file failed.
     "credentials_profiles": {name: {key: value}} | null,
         the credentials file's sections; null when the file is absent or
         failed to parse.
     "region": session.get_config_variable("region"), or null (also when
         loading a file failed),
     "credentials": null | {"method": "env" | "shared-credentials-file" |
                    "config-file" | "assume-role" | ..., "access_key_id": ...,
                    "secret_sha256": hex, "secret_length": n,
                    "token_present": bool, "token_sha256": hex | null,
                    "token_length": n | null},
     "credentials_error": null | "<ExceptionClass>: <message>"
         (PartialCredentialsError, ProfileNotFound, a ClientError from
         AssumeRole, a parse error, ...)}

In "profiles" and "credentials_profiles" the values of aws_secret_access_key,
aws_session_token and aws_security_token (any case) are replaced by
{"sha256": hex of the UTF-8 value, "length": n}, so a test can check which
string botocore took (e.g. whether an inline "# comment" stayed in it)
without the secret being printed. Error messages are scrubbed the same way.
Each part is computed on its own, so one failure does not hide the others.
Nothing reaches the network but AWS_ENDPOINT_URL: instance metadata is off.
"""

from __future__ import annotations

import configparser
import hashlib
import io
import json
import os
import re
import sys
from typing import Any, Callable

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # never ask 169.254.169.254

import botocore.configloader  # noqa: E402
import botocore.exceptions  # noqa: E402
import botocore.session  # noqa: E402

SECRET_KEYS = frozenset({"aws_secret_access_key", "aws_session_token", "aws_security_token"})
# "<secret key> = value" inside an error message (a parse error may quote a line).
SECRET_IN_TEXT = re.compile(
    r"(?i)\b(aws_secret_access_key|aws_session_token|aws_security_token)(\s*[=:]\s*)([^\s'\"\\]+)"
)


def fingerprint(value: str) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(value.encode("utf-8")).hexdigest(), "length": len(value)}


def redact(section: Any) -> Any:
    """A profile's keys and values, secrets replaced by their fingerprint
    (nested sections, such as "s3 =" blocks, likewise)."""
    if not isinstance(section, dict):
        return section
    result: dict[str, Any] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            result[key] = redact(value)
        elif str(key).lower() in SECRET_KEYS and isinstance(value, str):
            result[key] = fingerprint(value)
        else:
            result[key] = value
    return result


def redact_profiles(profiles: dict[str, Any]) -> dict[str, Any]:
    return {name: redact(section) for name, section in profiles.items()}


def scrub(text: str) -> str:
    """An error message with any secret value it quotes replaced, and the
    secrets of the environment (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
    masked wherever they appear."""
    text = SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}<redacted>", text)
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, "<redacted>")
    return text


def _configparser_error(error: BaseException) -> str:
    """A configparser error without the file lines it quotes (a line may hold
    a secret): line numbers only."""
    if isinstance(error, configparser.MissingSectionHeaderError):
        return (f"MissingSectionHeaderError: File contains no section headers. "
                f"file: {error.source!r}, line: {error.lineno}")
    if isinstance(error, configparser.ParsingError):
        lines = ", ".join(str(lineno) for lineno, _ in error.errors)
        return f"ParsingError: Source contains parsing errors: {error.source!r} (lines {lines})"
    return f"{type(error).__name__}: {error}"


def describe(error: BaseException) -> str:
    """ "<ExceptionClass>: <message>", with the configparser (or decoding)
    error under a botocore ConfigParseError in parentheses; scrubbed."""
    message = f"{type(error).__name__}: {error}"
    inner = getattr(error, "kwargs", {}).get("error") if isinstance(
        error, botocore.exceptions.ConfigParseError) else None
    if isinstance(inner, BaseException):
        message += f" ({_configparser_error(inner)})"
    elif isinstance(error, configparser.Error):
        message = _configparser_error(error)
    return " ".join(scrub(message).split())


def attempt(function: Callable[[], Any]) -> tuple[Any, str | None]:
    try:
        return function(), None
    except Exception as error:  # noqa: BLE001 - every failure is a finding
        return None, describe(error)


def probe(profile: str | None) -> dict[str, Any]:
    # A fresh Session for each part: a Session caches what it loaded, even
    # after a failure (full_config keeps the config file's profiles when
    # merging in the credentials file raised), so one part would otherwise
    # see another's leftovers.
    def fresh() -> botocore.session.Session:
        return botocore.session.Session(profile=profile)

    result: dict[str, Any] = {}

    selected, _ = attempt(lambda: fresh().profile)
    result["profile"] = profile or selected or "default"

    def config_file_profiles() -> None:
        path = fresh().get_config_variable("config_file")
        try:
            botocore.configloader.load_config(path)
        except botocore.exceptions.ConfigNotFound:
            pass

    _, result["config_error"] = attempt(config_file_profiles)

    def credentials_file_profiles() -> dict[str, Any] | None:
        path = fresh().get_config_variable("credentials_file")
        try:
            return redact_profiles(botocore.configloader.raw_config_parse(path))
        except botocore.exceptions.ConfigNotFound:
            return None

    credentials_profiles, result["credentials_file_error"] = attempt(credentials_file_profiles)

    profiles, _ = attempt(lambda: redact_profiles(fresh().full_config.get("profiles", {})))
    result["profiles"] = profiles
    result["credentials_profiles"] = credentials_profiles

    region, _ = attempt(lambda: fresh().get_config_variable("region"))
    result["region"] = region

    def credentials() -> dict[str, Any] | None:
        creds = fresh().get_credentials()
        if creds is None:
            return None
        frozen = creds.get_frozen_credentials()  # runs AssumeRole for a role profile
        secret = frozen.secret_key or ""
        return {
            "method": creds.method,
            "access_key_id": frozen.access_key,
            "secret_sha256": hashlib.sha256(secret.encode("utf-8")).hexdigest(),
            "secret_length": len(secret),
            "token_present": bool(frozen.token),
            # Which token botocore took (it prefers aws_security_token and
            # AWS_SECURITY_TOKEN over the *_session_token names).
            "token_sha256": hashlib.sha256(frozen.token.encode("utf-8")).hexdigest()
            if frozen.token else None,
            "token_length": len(frozen.token) if frozen.token else None,
        }

    result["credentials"], result["credentials_error"] = attempt(credentials)
    return result


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        sys.stderr.write("usage: botocore_probe.py [PROFILE]\n")
        return 2
    profile = argv[1] if len(argv) == 2 else None
    real_stdout = sys.stdout
    sys.stdout = io.StringIO()  # whatever botocore might print stays off stdout
    try:
        result = probe(profile)
    finally:
        stray, sys.stdout = sys.stdout.getvalue(), real_stdout
    if stray:
        sys.stderr.write(scrub(stray))
    real_stdout.write(json.dumps(result, sort_keys=False) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
