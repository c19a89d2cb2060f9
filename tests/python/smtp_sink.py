"""A real SMTP server for the tests (aiosmtpd, pinned in scripts/test): it prints "ready" once it
listens on 127.0.0.1:PORT and serves until it is killed. Each message is parsed with Python's own
email parser and written to OUT_DIR/<n>.json: the envelope, the headers, the plain-text body,
whether the session was encrypted and who logged in.

    smtp_sink.py PORT OUT_DIR [--tls CERT KEY] [--login USER PASSWORD]

With --tls the server offers STARTTLS (and requires it); with --login it requires AUTH, which it
offers only over TLS.
"""
import argparse
import email
import json
import os
import ssl
import time
import warnings
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out):
        self.out = out
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        body = message.get_body(("plain",))
        login = getattr(session, "auth_data", None)
        if isinstance(login, LoginPassword):
            login = login.login.decode()
        self.count += 1
        record = {
            "mail-from": envelope.mail_from,
            "rcpt-tos": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "from": str(message["from"]),
            "to": str(message["to"]),
            "body": body.get_content() if body is not None else None,
            "tls": session.ssl is not None,
            "login": login,
        }
        with open(os.path.join(self.out, f"{self.count}.json"), "w") as f:
            json.dump(record, f)
        return "250 OK"


def main():
    # aiosmtpd 1.4 warns about its own use of a field it renamed.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("out")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--login", nargs=2, metavar=("USER", "PASSWORD"))
    args = parser.parse_args()
    context = None
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.tls)
    authenticator = None
    if args.login:
        user, password = (part.encode() for part in args.login)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == user and auth_data.password == password
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

    controller = Controller(
        Sink(args.out),
        hostname="127.0.0.1",
        port=args.port,
        tls_context=context,
        require_starttls=context is not None,
        authenticator=authenticator,
        auth_required=authenticator is not None,
        auth_require_tls=True,
    )
    controller.start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


main()
