#!/usr/bin/python3
"""The certificates of the host-trust end-to-end test, made with python3-cryptography (mitmproxy's
own dependency), written to DIR:

  root.pem                 "AZL Test Root CA": the company root Windows trusts
  intercept.pem            "AZL Test Intercept CA", an intermediate signed by the root: the
                           TLS-inspecting proxy signs with it (mitmproxy-ca.pem: its key and cert)
  upstream-ca.pem, server.pem, server.key
                           the repository server's own CA and certificate (127.0.0.2); only the
                           proxy trusts them
  expired.pem              a CA certificate that expired yesterday
  leaf.der                 a certificate that is not a CA, in DER
  garbage.pem              a PEM block that is not a certificate

Usage: make-test-pki.py DIR
"""
import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AZL Test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, key, issuer=None, issuer_key=None, ca=True, start=NOW - DAY, end=NOW + 3650 * DAY,
         san=None):
    b = (x509.CertificateBuilder()
         .subject_name(name(subject))
         .issuer_name(name(issuer or subject))
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(start)
         .not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                            critical=True)
    if issuer_key is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def key_pem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def write(fname, data):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = cert("AZL Test Root CA", root_key)
    icpt_key = ec.generate_private_key(ec.SECP256R1())
    icpt = cert("AZL Test Intercept CA", icpt_key, "AZL Test Root CA", root_key)
    up_key = ec.generate_private_key(ec.SECP256R1())
    up = cert("AZL Upstream CA", up_key)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv = cert("127.0.0.2", srv_key, "AZL Upstream CA", up_key, ca=False,
               san=[x509.IPAddress(ipaddress.ip_address("127.0.0.2"))])
    old_key = ec.generate_private_key(ec.SECP256R1())
    old = cert("AZL Test Expired CA", old_key, start=NOW - 400 * DAY, end=NOW - DAY)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert("AZL Test Not A CA", leaf_key, "AZL Test Root CA", root_key, ca=False)

    write("root.pem", pem(root))
    write("intercept.pem", pem(icpt))
    write("mitmproxy-ca.pem", key_pem(icpt_key) + pem(icpt))
    write("upstream-ca.pem", pem(up))
    write("server.pem", pem(srv))
    write("server.key", key_pem(srv_key))
    write("expired.pem", pem(old))
    write("leaf.der", leaf.public_bytes(serialization.Encoding.DER))
    write("garbage.pem", b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")


if __name__ == "__main__":
    main()
