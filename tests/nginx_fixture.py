"""Run the real nginx with the committed `infra/nginx/satrank.conf` in front of a test server.

The committed file stays production-shaped; `render_site` swaps only ports, certificate
and webroot paths (and drops the IPv6 listens), failing loudly if the file no longer
holds what it replaces. The certificate is self-signed, made with `cryptography`.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.ports import free_port

SITE_CONF = Path(__file__).resolve().parents[1] / "infra" / "nginx" / "satrank.conf"


@dataclass(frozen=True)
class NginxHandle:
    https_url: str
    http_url: str
    cert_path: Path
    tls_port: int


def write_self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls.cert", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    return cert_path, key_path


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"infra/nginx/satrank.conf should contain {old!r} once"
    return text.replace(old, new)


def render_site(
    *, upstream_port: int, tls_port: int, http_port: int, cert: Path, key: Path, webroot: Path
) -> str:
    text = SITE_CONF.read_text()
    domain = "/etc/letsencrypt/live/satrank.example.com"
    for old, new in [
        ("server 127.0.0.1:3000;", f"server 127.0.0.1:{upstream_port};"),
        ("    listen 443 ssl http2;", f"    listen 127.0.0.1:{tls_port} ssl http2;"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("    listen 80;", f"    listen 127.0.0.1:{http_port};"),
        ("    listen [::]:80;\n", ""),
        (f"{domain}/fullchain.pem", str(cert)),
        (f"{domain}/privkey.pem", str(key)),
        ("root /var/www/letsencrypt;", f"root {webroot};"),
    ]:
        text = _replace_once(text, old, new)
    return text


def _main_conf(site: Path) -> str:
    return f"""worker_processes 1;
daemon off;
pid logs/nginx.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
    include {site};
}}
"""


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("nginx exited: " + process.stderr.read().decode()  # type: ignore[union-attr]
                               if process.stderr else "nginx exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start listening")


@contextmanager
def running_nginx(tmp_dir: Path, upstream_port: int) -> Iterator[NginxHandle]:
    """nginx serving the rendered site config; yields its URLs; stopped on exit."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    for sub in ("logs", "tmp", "webroot"):
        (tmp_dir / sub).mkdir(parents=True, exist_ok=True)
    cert, key = write_self_signed(tmp_dir)
    tls_port, http_port = free_port(), free_port()
    site = tmp_dir / "satrank.conf"
    site.write_text(render_site(upstream_port=upstream_port, tls_port=tls_port,
                                http_port=http_port, cert=cert, key=key,
                                webroot=tmp_dir / "webroot"))
    main = tmp_dir / "nginx.conf"
    main.write_text(_main_conf(site))
    args = [binary, "-p", str(tmp_dir), "-c", str(main), "-e", "stderr"]
    checked = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(tls_port, process)
        yield NginxHandle(f"https://127.0.0.1:{tls_port}", f"http://127.0.0.1:{http_port}",
                          cert, tls_port)
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stderr:
            process.stderr.close()
