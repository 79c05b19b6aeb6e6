#!/usr/bin/env python3
"""Load on the reference PBX with SIPp on loopback; prints a Markdown report.

    scripts/bench/pbx_load.py cps [RATE ...]        signalling-only calls/s (default 1000 2000 3000 5000)
    scripts/bench/pbx_load.py concurrent [CALLS]    concurrent relayed G.711 calls with RTP (default 500)
    scripts/bench/pbx_load.py registrations [N]     memory per registration (default 1000)

Calls go SIPp uac (user 201) -> PBX (B2BUA, media relay) -> SIPp uas (user 202). In `cps` mode the
same SIPp uac also calls a SIPp uas directly at each rate, in the same run: that is the harness
ceiling, the rate SIPp itself sustains on this machine without the PBX in the path. Every run is
bounded (calls and seconds) and stays on 127.0.0.1. Not part of the test suite.

Environment: DURATION (seconds per cps rate, default 5), HOLD (seconds per concurrent call,
default 20), GAP (idle seconds between cps rates, default 1), MEDIA (`relay`, the default, or `direct`: no relay unless transcoding), KEEP (keep
the work folder in /tmp/pbx-load-MODE), CARGO_TARGET_DIR.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "examples" / "sipp"
PCAP = Path("/usr/share/sip-tester/g711a.pcap")
TICK = os.sysconf("SC_CLK_TCK")
PASSWORD = "load-test-pw"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_secs(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def variant(work, src, name, *subs):
    """A copy of a repository scenario with regex substitutions applied."""
    text = (SCENARIOS / src).read_text()
    for pat, rep in subs:
        text, n = re.subn(pat, rep, text)
        if n == 0:
            sys.exit(f"{src}: pattern {pat!r} not found")
    out = work / name
    out.write_text(text)
    return str(out)


def alaw_payload(pcap, out):
    """The RTP payload bytes of a pcap (one stream), written raw for SIPp's rtp_stream."""
    import struct
    data = pcap.read_bytes()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    link = struct.unpack(endian + "I", data[20:24])[0]
    l2 = {1: 14, 113: 16, 0: 4}.get(link)
    if l2 is None:
        sys.exit(f"{pcap}: link type {link} not handled")
    pos, raw = 24, bytearray()
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        ip = frame[l2:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        rtp = ip[(ip[0] & 15) * 4 + 8:]
        if len(rtp) > 12 and rtp[0] >> 6 == 2:
            raw += rtp[12 + 4 * (rtp[0] & 15):]
    out.write_bytes(bytes(raw))
    return str(out)


def udp_drops():
    """Datagrams dropped per local port (receive buffer full), from /proc/net/udp."""
    drops = {}
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        f = line.split()
        port = int(f[1].split(":")[1], 16)
        drops[port] = drops.get(port, 0) + int(f[-1])
    return drops


def stats(csv):
    rows = [l.rstrip("\n").split(";") for l in Path(csv).read_text().splitlines() if l]
    return dict(zip(rows[0], rows[-1]))


def rtd_ms(s):
    """Mean INVITE-to-200 time of a run, in milliseconds."""
    h, m, sec, us = s["ResponseTime1(C)"].split(":")
    return ((int(h) * 60 + int(m)) * 60 + int(sec)) * 1000 + int(us) / 1000


def summary(s):
    return (f"{s['SuccessfulCall(C)']}/{s['FailedCall(C)']} | {s['Retransmissions(C)']} | "
            f"{rtd_ms(s):.1f}")


def sipp(work, name, args, timeout):
    """Runs SIPp to completion; returns its final statistics."""
    stat = work / f"{name}.csv"
    cmd = ["sipp", "-i", "127.0.0.1", "-nostdin", "-trace_stat", "-stf", str(stat), "-fd", "1",
           "-timeout", str(timeout), "-timeout_error", *args]
    subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=timeout + 30, check=False)
    return stats(stat)


def background(work, args):
    return subprocess.Popen(["sipp", "-i", "127.0.0.1", "-nostdin", *args], cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(p):
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


class Pbx:
    def __init__(self, work, extra_users, connections):
        users = "".join(
            f'[[users]]\nextension = "{e}"\npassword = "{PASSWORD}"\n'
            for e in ["201", "202", *extra_users])
        cfg = work / "pbx.toml"
        cfg.write_text(
            '[sip]\nudp = "127.0.0.1:0"\ntcp = "off"\ntls = "off"\nmax_expires = 3600\n'
            f'[media]\nrtp_ports = "20000-29999"\nconnections = {connections}\n'
            f'mode = "{os.environ.get("MEDIA", "relay")}"\n'
            '[dos]\nenabled = false\n'
            f"{users}")
        exe = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "pbx"
        self.proc = subprocess.Popen(
            [str(exe), "--config", str(cfg), "--data-dir", str(work / "data")],
            stdout=subprocess.PIPE, stderr=open(work / "pbx.log", "w"), text=True,
            env={**os.environ, "RUST_LOG": "warn"})
        self.addr = None
        deadline = time.time() + 30
        for line in self.proc.stdout:
            m = re.match(r"pbx: sip/udp listening on (\S+)", line)
            if m:
                self.addr = m.group(1)
            if line.strip() == "pbx: ready" or time.time() > deadline:
                break
        if not self.addr:
            sys.exit("the PBX did not start; see pbx.log")
        self.pid = self.proc.pid

    def register(self, work, user, port):
        sf = variant(work, "register_auth.xml", "reg.xml")
        s = sipp(work, f"reg-{user}", ["-sf", sf, "-s", user, "-au", user, "-ap", PASSWORD,
                                       "-p", str(port), "-m", "1", self.addr], 20)
        if s.get("SuccessfulCall(C)") != "1":
            sys.exit(f"user {user} did not register")

    def close(self):
        stop(self.proc)


def build():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "pbx"], cwd=ROOT, check=True)


def header(title):
    print(f"# {title} ({os.uname().nodename}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())})\n")


def run_cps(work, rates):
    duration = int(os.environ.get("DURATION", "5"))
    pbx = Pbx(work, [], 2000)
    a, b = free_port(), free_port()
    pbx.register(work, "201", a)
    pbx.register(work, "202", b)
    # call_as_user.xml with no pause between ACK and BYE: signalling only.
    sf = variant(work, "call_as_user.xml", "call.xml",
                 (r'<pause milliseconds="100"/>', "<pause/>"))
    header(f"PBX calls per second, SIPp uac -> PBX -> SIPp uas, media {os.environ.get('MEDIA', 'relay')}")
    print("| cps | calls | via PBX ok/failed | retrans | INVITE->200 ms | PBX CPU s | PBX RSS MiB "
          "| harness ok/failed | retrans | INVITE->200 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rate in rates:
        calls = rate * duration
        uas = background(work, ["-sn", "uas", "-p", str(b)])
        time.sleep(0.3)
        c0 = cpu_secs(pbx.pid)
        s = sipp(work, f"cps-{rate}", ["-sf", sf, "-key", "caller", "201", "-s", "202",
                                       "-p", str(a), "-r", str(rate), "-m", str(calls),
                                       "-l", str(rate * 2), pbx.addr], duration * 4 + 10)
        c1 = cpu_secs(pbx.pid)
        rss = rss_kib(pbx.pid) / 1024
        stop(uas)
        # The ceiling: the same uac straight at a SIPp uas.
        p = free_port()
        direct = background(work, ["-sn", "uas", "-p", str(p)])
        time.sleep(0.3)
        h = sipp(work, f"direct-{rate}", ["-sn", "uac", "-p", str(free_port()), "-r", str(rate),
                                          "-m", str(calls), "-l", str(rate * 2),
                                          f"127.0.0.1:{p}"], duration * 4 + 10)
        stop(direct)
        print(f"| {rate} | {calls} | {summary(s)} | {c1 - c0:.2f} | {rss:.1f} | {summary(h)} |")
        time.sleep(float(os.environ.get("GAP", "1")))
    pbx.close()


def run_concurrent(work, calls):
    hold = int(os.environ.get("HOLD", "20"))
    if not PCAP.exists():
        sys.exit(f"needs {PCAP} (package sip-tester)")
    pbx = Pbx(work, [], calls * 4 + 8)
    a, b = free_port(), free_port()
    pbx.register(work, "201", a)
    pbx.register(work, "202", b)
    idle = rss_kib(pbx.pid)
    # The caller streams the A-law audio of SIPp's capture into the relay, looped, for the
    # whole call; the callee answers PCMA and echoes RTP back, so both directions of every
    # relayed leg carry packets (20 ms packets, 50 per second each way).
    audio = alaw_payload(PCAP, work / "tone.al")
    caller = variant(work, "call_pcma_media.xml", "caller.xml",
                     (r'<pause milliseconds="2000"/>', "<pause/>"),
                     (r'play_pcap_audio="\[pcap\]"', f'rtp_stream="{audio},-1,8"'))
    uas_sf = work / "callee.xml"
    # `sipp -sd` prints the built-in scenario and exits with 99.
    dump = subprocess.run(["sipp", "-sd", "uas"], capture_output=True, text=True, check=False)
    if "RTP/AVP 0" not in dump.stdout:
        sys.exit("cannot dump SIPp's built-in uas scenario")
    uas_sf.write_text(dump.stdout.replace("RTP/AVP 0", "RTP/AVP 8")
                      .replace("rtpmap:0 PCMU/8000", "rtpmap:8 PCMA/8000"))
    uas = background(work, ["-sf", str(uas_sf), "-p", str(b), "-rtp_echo", "-mp", "40000"])
    time.sleep(0.3)
    rate = 100
    ramp = calls / rate
    uac = subprocess.Popen(
        ["sipp", "-i", "127.0.0.1", "-nostdin", "-sf", caller, "-key", "caller", "201",
         "-s", "202", "-p", str(a), "-mp", "30000",
         "-r", str(rate), "-m", str(calls), "-l", str(calls), "-d", str(hold * 1000),
         "-trace_stat", "-stf", str(work / "conc.csv"), "-fd", "1",
         "-timeout", str(int(ramp + hold + 30)), "-timeout_error", pbx.addr],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Peak: after the ramp, while every call is up.
    time.sleep(ramp + min(hold / 2, 5))
    peak = rss_kib(pbx.pid)
    c_peak = cpu_secs(pbx.pid)
    t_peak = time.time()
    time.sleep(2)
    busy = (cpu_secs(pbx.pid) - c_peak) / (time.time() - t_peak)
    # Who lost packets so far: the PBX's relay sockets or SIPp's (echo port 40000, media 30000+).
    drops = udp_drops()
    relay_drops = sum(n for p, n in drops.items() if 20000 <= p <= 29999)
    sipp_drops = sum(n for p, n in drops.items() if p >= 30000)
    try:
        uac.wait(ramp + hold + 60)
    except subprocess.TimeoutExpired:
        uac.kill()
    stop(uas)
    s = stats(work / "conc.csv")
    pbx.close()
    # The relay's own view of every call (CDR media statistics, per direction).
    legs = []
    cdr = work / "data" / "cdr.jsonl"
    for line in cdr.read_text().splitlines() if cdr.exists() else []:
        legs += [m for m in json.loads(line).get("media", []) if m]
    worst = max((m["loss_pct"] for m in legs), default=float("nan"))
    mos = min((m["mos"] for m in legs), default=float("nan"))
    header(f"PBX concurrent relayed G.711 calls ({calls} calls, {hold} s each, RTP both ways)")
    print("| calls | ok/failed | PBX CPU with all calls up (cores) | PBX RSS idle -> peak MiB "
          "| KiB per call | CDR directions with media | worst loss % | lowest MOS "
          "| drops in relay sockets | drops in SIPp sockets |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {calls} | {s['SuccessfulCall(C)']}/{s['FailedCall(C)']} | {busy:.2f} | "
          f"{idle / 1024:.1f} -> {peak / 1024:.1f} | {(peak - idle) / calls:.1f} | "
          f"{len(legs)} | {worst:.2f} | {mos:.2f} | {relay_drops} | {sipp_drops} |")


def run_registrations(work, n):
    users = [str(3000 + i) for i in range(n)]
    pbx = Pbx(work, users, 250)
    idle = rss_kib(pbx.pid)
    csv = work / "users.csv"
    csv.write_text("SEQUENTIAL\n" + "".join(f"{u};\n" for u in users))
    sf = variant(work, "register_auth.xml", "reg-many.xml",
                 (r"\[service\]", "[field0]"))
    s = sipp(work, "regs", ["-sf", sf, "-inf", str(csv), "-au", "[field0]", "-ap", PASSWORD,
                            "-p", str(free_port()), "-r", "200", "-m", str(n), pbx.addr], n // 50 + 30)
    time.sleep(0.5)
    after = rss_kib(pbx.pid)
    pbx.close()
    header(f"PBX memory per registration ({n} users)")
    print("| registrations ok/failed | PBX RSS before -> after MiB | KiB per registration |")
    print("|---|---|---|")
    print(f"| {s['SuccessfulCall(C)']}/{s['FailedCall(C)']} | {idle / 1024:.1f} -> "
          f"{after / 1024:.1f} | {(after - idle) / n:.2f} |")


def main():
    if not shutil.which("sipp"):
        sys.exit("needs sipp (apt-get install sip-tester)")
    mode = sys.argv[1] if len(sys.argv) > 1 else "cps"
    args = [int(a) for a in sys.argv[2:]]
    build()
    with tempfile.TemporaryDirectory(prefix="pbx-load-") as tmp:
        work = Path(tmp)
        if mode == "cps":
            run_cps(work, args or [1000, 2000, 3000, 5000])
        elif mode == "concurrent":
            run_concurrent(work, args[0] if args else 500)
        elif mode == "registrations":
            run_registrations(work, args[0] if args else 1000)
        else:
            sys.exit(__doc__)
        if os.environ.get("KEEP"):
            shutil.copytree(work, f"/tmp/pbx-load-{mode}", dirs_exist_ok=True)
            print(f"\nWork files kept in /tmp/pbx-load-{mode}")


if __name__ == "__main__":
    main()
