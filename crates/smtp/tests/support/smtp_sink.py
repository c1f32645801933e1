#!/usr/bin/env python3
"""SMTP sink for the portal-access-smtp tests (needs `pip install aiosmtpd`).

Binds 127.0.0.1 on a free port, prints the port on stdout, and writes each
message it accepts to DIR as NNNNNN.eml (the DATA as received) plus
NNNNNN.json ({"mail_from", "rcpt_tos", "client_port"}), each by rename, the .json last.
Exits when its stdin closes (the test process ended).
"""
import argparse, asyncio, itertools, json, logging, os, ssl, sys, threading, warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

args = argparse.ArgumentParser()
args.add_argument("--dir", required=True)
args.add_argument("--tls-cert"), args.add_argument("--tls-key")  # enables STARTTLS (required)
args.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte, not STARTTLS")
args.add_argument("--auth", help="USER:PASSWORD; AUTH PLAIN/LOGIN is then required")
args.add_argument("--reject-rcpt", action="store_true", help="answer 550 to every RCPT")
args.add_argument("--stall", action="store_true", help="accept TCP, never say anything")
args.add_argument("--delay", type=float, default=0,
                  help="seconds to wait before answering each message's DATA (a slow server)")
args.add_argument("--delay-to", help="with --delay: only messages to a recipient containing this")
args.add_argument("--bench", action="store_true",
                  help="for the load driver: write only an empty NNNNNN.json per message, run on uvloop")
opts = args.parse_args()
seq = itertools.count(1)
warnings.simplefilter("ignore")  # AUTH without TLS is what the plain AUTH test wants
logging.getLogger("mail.log").setLevel(logging.ERROR)


def write(name, data):
    with open(os.path.join(opts.dir, "." + name), "wb") as f:
        f.write(data)
    os.rename(os.path.join(opts.dir, "." + name), os.path.join(opts.dir, name))


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if opts.reject_rcpt:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if opts.delay and (not opts.delay_to or any(opts.delay_to in r for r in envelope.rcpt_tos)):
            await asyncio.sleep(opts.delay)
        n = "%06d" % next(seq)
        if opts.bench:  # the load driver only counts the messages
            os.close(os.open(os.path.join(opts.dir, n + ".json"), os.O_CREAT | os.O_WRONLY, 0o644))
            return "250 2.0.0 accepted as " + n
        write(n + ".eml", envelope.original_content)
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "client_port": session.peer[1]}
        write(n + ".json", json.dumps(meta).encode())
        return "250 2.0.0 accepted as " + n


def authenticate(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and (data.login + b":" + data.password) == opts.auth.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 235 or 535


def tls_context():
    if not opts.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(opts.tls_cert, opts.tls_key)
    return context


def factory():
    tls = None if opts.implicit_tls else tls_context()
    return SMTP(Sink(), hostname="sink.test", tls_context=tls, require_starttls=tls is not None,
                authenticator=authenticate if opts.auth else None, auth_required=bool(opts.auth),
                auth_require_tls=tls is not None, command_call_limit=None)


async def stalled(reader, writer):
    await asyncio.sleep(3600)  # hold the connection open, answer nothing


def exit_with_parent():
    sys.stdin.read()  # EOF once the test process is gone, however it ended
    os._exit(0)


async def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    handler = stalled if opts.stall else None
    if handler:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
    else:
        ssl_context = tls_context() if opts.implicit_tls else None
        server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0, ssl=ssl_context)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if opts.bench:
    import uvloop  # scripts/bench installs it
    uvloop.run(main())
else:
    asyncio.run(main())
