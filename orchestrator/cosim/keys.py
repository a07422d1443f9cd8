"""ZeroMQ CURVE keys for served adapters (``astra-cosim adapter keygen``).

A stack shares one key pair: the adapter server encrypts with it and admits only engines that
prove they hold the same secret (their client key is the pair's public key), so an engine
without the key file can neither read nor drive the adapter. The files use ZeroMQ's
certificate format (``zmq.auth.load_certificate`` reads them): ``NAME.key_secret`` holds both
keys and is the one to hand to ``adapter serve --curve-secret-key`` and the engine's
``--adapter-key``; ``NAME.key`` holds the public key alone, for the record.
"""

from __future__ import annotations

import datetime
import os

from orchestrator.errors import InputError

KEY_NAME = "adapter"
ENV_KEY = "ASTRA_ADAPTER_KEY"   # the key file, when no flag names one (compose stacks)


def _write(path: str, text: str, mode: int) -> None:
    """Create ``path`` with ``mode`` from the first byte (never readable by others first)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(handle, "w", encoding="ascii") as out:
        out.write(text)
    os.chmod(path, mode)          # the umask may have narrowed it


def generate(directory: str, *, shared: bool = False, force: bool = False
             ) -> tuple[str, str, bool]:
    """Write ``DIR/adapter.key_secret`` and ``DIR/adapter.key``; returns their paths and
    whether they were written now (an existing pair is kept unless ``force``). ``shared``
    makes the secret file readable by every user, for a volume only the stack's containers
    mount (their users differ); otherwise only its owner may read it."""
    import zmq

    secret_path = os.path.join(directory, f"{KEY_NAME}.key_secret")
    public_path = os.path.join(directory, f"{KEY_NAME}.key")
    if os.path.exists(secret_path) and not force:
        load(secret_path, "--curve-secret-key")        # a kept pair must be usable
        return secret_path, public_path, False
    os.makedirs(directory, exist_ok=True)
    for path in (secret_path, public_path):
        if os.path.exists(path):
            os.unlink(path)
    public, secret = zmq.curve_keypair()
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    head = f"#   astra-cosim adapter key, {stamp}\n"
    _write(public_path, f"{head}#   ZeroMQ CURVE public certificate\n\nmetadata\ncurve\n"
                        f"    public-key = \"{public.decode()}\"\n", 0o644)
    _write(secret_path, f"{head}#   ZeroMQ CURVE secret certificate: give it only to this "
                        f"stack's adapters and engines\n\nmetadata\ncurve\n"
                        f"    public-key = \"{public.decode()}\"\n"
                        f"    secret-key = \"{secret.decode()}\"\n", 0o644 if shared else 0o600)
    return secret_path, public_path, True


def load(path: str, flag: str) -> tuple[bytes, bytes]:
    """(public, secret) from a secret key file, or one line naming the file and the flag."""
    from zmq.auth import load_certificate

    try:
        public, secret = load_certificate(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{flag} {path}: cannot read the key file ({exc})") from None
    if secret is None:
        raise InputError(f"{flag} {path}: holds no secret key; expected the "
                         f"{KEY_NAME}.key_secret file of 'astra-cosim adapter keygen'")
    if len(public) != 40 or len(secret) != 40:
        raise InputError(f"{flag} {path}: expected 40-character Z85 CURVE keys")
    return public, secret


def key_file(given: str | None) -> str | None:
    """The key file a flag names, else the one ``$ASTRA_ADAPTER_KEY`` names, else none."""
    return given or os.environ.get(ENV_KEY) or None
