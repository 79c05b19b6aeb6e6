#!/usr/bin/env python3
"""A minimal SIP phone that performs an attended transfer through the PBX (RFC 3891/3515).

    attended_transferor.py PBX_HOST:PORT LOCAL_PORT USER PASSWORD TARGET

It registers USER (digest MD5), answers the first INVITE (call 1), calls TARGET (call 2),
then sends REFER on call 1 with Refer-To: <sip:TARGET@PBX?Replaces=call 2's dialog>. It
expects 202, answers every NOTIFY, requires a NOTIFY carrying "SIP/2.0 200" with
Subscription-State terminated, and the PBX's BYE on both calls. Exit 0 on success; any
deviation or a 20 s deadline prints why and exits 1. Written from RFC 3261/3515/3891 alone,
independently of the Rust code under test.
"""

import hashlib
import random
import re
import socket
import sys
import time

pbx_host, pbx_port = sys.argv[1].rsplit(":", 1)
PBX = (pbx_host, int(pbx_port))
LOCAL_PORT, USER, PASSWORD, TARGET = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ME = f"127.0.0.1:{LOCAL_PORT}"
DEADLINE = time.time() + 20
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", LOCAL_PORT))


def fail(why):
    print(f"transferor: FAIL: {why}", flush=True)
    sys.exit(1)


def branch():
    return f"z9hG4bK{random.getrandbits(48):x}"


def sdp(port):
    body = (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
    return "application/sdp", body


def build(first, headers, body=None):
    lines = [first] + [f"{k}: {v}" for k, v in headers]
    if body:
        lines += [f"Content-Type: {body[0]}", f"Content-Length: {len(body[1])}", "", body[1]]
    else:
        lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines)


def send(text):
    sock.sendto(text.encode(), PBX)


def parse(data):
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    lines = head.split("\r\n")
    hdrs = []
    for l in lines[1:]:
        name, _, value = l.partition(":")
        hdrs.append((name.strip().lower(), value.strip()))
    return lines[0], hdrs, body


def hdr(hdrs, name):
    return next((v for n, v in hdrs if n == name), None)


def tag(value):
    m = re.search(r";\s*tag=([^;>\s]+)", value or "")
    return m.group(1) if m else None


def uri_of(value):
    m = re.search(r"<([^>]+)>", value or "")
    return m.group(1) if m else (value or "").split(";")[0]


def recv():
    """The next message: (first line, headers, body)."""
    while True:
        left = DEADLINE - time.time()
        if left <= 0:
            fail("deadline passed")
        sock.settimeout(left)
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            fail("deadline passed")
        if data.strip():
            return parse(data)


def reply(hdrs, code, reason, to_tag=None, extra=(), body=None):
    to = hdr(hdrs, "to")
    if to_tag and not tag(to):
        to = f"{to};tag={to_tag}"
    h = [("Via", v) for n, v in hdrs if n == "via"]
    h += [("From", hdr(hdrs, "from")), ("To", to), ("Call-ID", hdr(hdrs, "call-id")),
          ("CSeq", hdr(hdrs, "cseq")), *extra]
    send(build(f"SIP/2.0 {code} {reason}", h, body))


def digest(challenge, method, uri):
    f = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    ha1 = hashlib.md5(f"{USER}:{f['realm']}:{PASSWORD}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    auth = f'Digest username="{USER}", realm="{f["realm"]}", nonce="{f["nonce"]}", uri="{uri}"'
    if "auth" in f.get("qop", "").split(","):
        cnonce = f"{random.getrandbits(32):08x}"
        resp = hashlib.md5(f"{ha1}:{f['nonce']}:00000001:{cnonce}:auth:{ha2}".encode()).hexdigest()
        auth += f', qop=auth, nc=00000001, cnonce="{cnonce}"'
    else:
        resp = hashlib.md5(f"{ha1}:{f['nonce']}:{ha2}".encode()).hexdigest()
    auth += f', response="{resp}", algorithm=MD5'
    if "opaque" in f:
        auth += f', opaque="{f["opaque"]}"'
    return auth


# 1. Register.
reg_uri = f"sip:{pbx_host}:{pbx_port}"
reg_cid, reg_tag = f"reg-{random.getrandbits(32):x}", f"r{random.getrandbits(24):x}"


def register(cseq, auth=None):
    h = [("Via", f"SIP/2.0/UDP {ME};branch={branch()};rport"), ("Max-Forwards", "70"),
         ("From", f"<sip:{USER}@{pbx_host}>;tag={reg_tag}"), ("To", f"<sip:{USER}@{pbx_host}>"),
         ("Call-ID", reg_cid), ("CSeq", f"{cseq} REGISTER"), ("Contact", f"<sip:{USER}@{ME}>"),
         ("Expires", "300")]
    if auth:
        h.append(("Authorization", auth))
    send(build(f"REGISTER {reg_uri} SIP/2.0", h))


register(1)
first, hdrs, _ = recv()
if " 401 " not in first:
    fail(f"REGISTER: expected 401, got {first}")
register(2, digest(hdr(hdrs, "www-authenticate"), "REGISTER", reg_uri))
first, hdrs, _ = recv()
if " 200 " not in first:
    fail(f"REGISTER with credentials: got {first}")

# 2. Call 1 arrives: answer it.
my_tag1 = f"x1{random.getrandbits(24):x}"
while True:
    first, inv1, _ = recv()
    if first.startswith("INVITE "):
        break
reply(inv1, 200, "OK", my_tag1, [("Contact", f"<sip:{USER}@{ME}>")], sdp(46000))
while True:
    first, hdrs, _ = recv()
    if first.startswith("ACK "):
        break
    if first.startswith("INVITE "):  # our 200 crossed a retransmission
        reply(inv1, 200, "OK", my_tag1, [("Contact", f"<sip:{USER}@{ME}>")], sdp(46000))
call1 = hdr(inv1, "call-id")
pbx_tag1 = tag(hdr(inv1, "from"))
pbx_target1 = uri_of(hdr(inv1, "contact"))
print(f"transferor: call 1 up ({call1})", flush=True)

# 3. Call 2 to the target.
call2, my_tag2 = f"consult-{random.getrandbits(32):x}", f"x2{random.getrandbits(24):x}"
target_uri = f"sip:{TARGET}@{pbx_host}:{pbx_port}"
inv2_via = f"SIP/2.0/UDP {ME};branch={branch()};rport"
send(build(f"INVITE {target_uri} SIP/2.0", [
    ("Via", inv2_via), ("Max-Forwards", "70"), ("From", f"<sip:{USER}@{pbx_host}>;tag={my_tag2}"),
    ("To", f"<{target_uri}>"), ("Call-ID", call2), ("CSeq", "1 INVITE"),
    ("Contact", f"<sip:{USER}@{ME}>")], sdp(46002)))
while True:
    first, hdrs, _ = recv()
    if hdr(hdrs, "call-id") != call2 or not first.startswith("SIP/2.0"):
        continue
    code = int(first.split()[1])
    if code >= 300:
        fail(f"call 2 refused: {first}")
    if code >= 200:
        break
pbx_tag2 = tag(hdr(hdrs, "to"))
pbx_target2 = uri_of(hdr(hdrs, "contact"))
send(build(f"ACK {pbx_target2} SIP/2.0", [
    ("Via", f"SIP/2.0/UDP {ME};branch={branch()};rport"), ("Max-Forwards", "70"),
    ("From", f"<sip:{USER}@{pbx_host}>;tag={my_tag2}"), ("To", f"<{target_uri}>;tag={pbx_tag2}"),
    ("Call-ID", call2), ("CSeq", "1 ACK")]))
print(f"transferor: call 2 up ({call2})", flush=True)

# 4. REFER on call 1, replacing call 2 (RFC 3891 §7: our dialog with the PBX, seen from it).
replaces = f"{call2};to-tag={pbx_tag2};from-tag={my_tag2}"
escaped = replaces.replace("@", "%40").replace(";", "%3B").replace("=", "%3D")
send(build(f"REFER {pbx_target1} SIP/2.0", [
    ("Via", f"SIP/2.0/UDP {ME};branch={branch()};rport"), ("Max-Forwards", "70"),
    ("From", f"{hdr(inv1, 'to').split(';tag=')[0]};tag={my_tag1}"),
    ("To", hdr(inv1, "from")), ("Call-ID", call1), ("CSeq", "2 REFER"),
    ("Contact", f"<sip:{USER}@{ME}>"),
    ("Refer-To", f"<sip:{TARGET}@{pbx_host}:{pbx_port}?Replaces={escaped}>"),
    ("Referred-By", f"<sip:{USER}@{pbx_host}>")]))

# 5. 202, the NOTIFYs, and both BYEs.
accepted = notified = False
byes = set()
while not (accepted and notified and byes == {call1, call2}):
    first, hdrs, body = recv()
    cid = hdr(hdrs, "call-id")
    if first.startswith("SIP/2.0") and hdr(hdrs, "cseq") == "2 REFER":
        if " 202 " not in first:
            fail(f"REFER answered {first}")
        accepted = True
    elif first.startswith("NOTIFY "):
        reply(hdrs, 200, "OK")
        state = hdr(hdrs, "subscription-state") or ""
        if body.startswith("SIP/2.0 200") and state.startswith("terminated"):
            notified = True
        elif body.startswith("SIP/2.0 ") and not body.startswith("SIP/2.0 1"):
            fail(f"transfer failed: {body.splitlines()[0]}")
    elif first.startswith("BYE "):
        reply(hdrs, 200, "OK")
        byes.add(cid)
print("transferor: transferred; both calls hung up by the PBX", flush=True)
