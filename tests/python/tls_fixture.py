"""Test CA, server certificate and tiembed config for the TLS and
caching_sha2_password client tests (Python and Node suites).

    python tests/python/tls_fixture.py OUTDIR

writes OUTDIR/ca.pem (the CA clients verify against), OUTDIR/server-cert.pem
and OUTDIR/server-key.pem (signed by that CA, for 127.0.0.1 and localhost)
and OUTDIR/tiembed.toml, which configures TLS with them and the ACCOUNTS
below. scripts/test-all.sh starts the client-suite server with
`--config OUTDIR/tiembed.toml` and exports TIEMBED_TLS_CA=OUTDIR/ca.pem; the
TLS/auth tests skip when that variable is not set.

caching_sha2_password only authenticates fast once a full authentication
put the account into the server's cache. So that the first login of a test
is a full authentication on a freshly started server, each full-auth test
has an account of its own (mysql-connector's `sha2_connector_plain` must
never log in: its full authentication over plain TCP is refused).
"""

import datetime
import os
import sys

# name -> (password, plugin or None for the server default)
SHA2_PASSWORD = "sha2-secret"
ACCOUNTS = {
    "root": ("", None),
    "native_user": ("native-secret", "mysql_native_password"),
    "sha2_user": (SHA2_PASSWORD, "caching_sha2_password"),
    "sha2_empty": ("", "caching_sha2_password"),
    "sha2_pymysql_tls": (SHA2_PASSWORD, "caching_sha2_password"),
    "sha2_pymysql_rsa": (SHA2_PASSWORD, "caching_sha2_password"),
    "sha2_connector_tls": (SHA2_PASSWORD, "caching_sha2_password"),
    "sha2_connector_plain": (SHA2_PASSWORD, "caching_sha2_password"),
    "sha2_node_tls": (SHA2_PASSWORD, "caching_sha2_password"),
    "sha2_node_rsa": (SHA2_PASSWORD, "caching_sha2_password"),
}


def make_ca(common_name="tiembed test CA"):
    """A self-signed CA: (certificate, private key) as cryptography objects."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_server_cert(ca_cert, ca_key):
    """A server certificate for 127.0.0.1 / localhost signed by the CA."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def pem_cert(cert):
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def pem_key(key):
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def toml_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_fixture(outdir):
    os.makedirs(outdir, exist_ok=True)
    ca_cert, ca_key = make_ca()
    cert, key = make_server_cert(ca_cert, ca_key)
    paths = {name: os.path.join(outdir, name) for name in ("ca.pem", "server-cert.pem", "server-key.pem")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(pem_cert(ca_cert))
    with open(paths["server-cert.pem"], "wb") as f:
        f.write(pem_cert(cert))
    fd = os.open(paths["server-key.pem"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem_key(key))
    lines = [
        "# Written by tests/python/tls_fixture.py for the client suites.",
        "[tls]",
        f"cert = {toml_string(os.path.abspath(paths['server-cert.pem']))}",
        f"key = {toml_string(os.path.abspath(paths['server-key.pem']))}",
        "",
    ]
    for name, (password, plugin) in ACCOUNTS.items():
        lines += ["[[users]]", f"name = {toml_string(name)}", f"password = {toml_string(password)}"]
        if plugin:
            lines.append(f"plugin = {toml_string(plugin)}")
        lines.append("")
    with open(os.path.join(outdir, "tiembed.toml"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: tls_fixture.py OUTDIR")
    write_fixture(sys.argv[1])
