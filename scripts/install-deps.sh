#!/usr/bin/env bash
# Installs the Debian packages PBXKit's build and tests need (run as root).
#   libopus-dev    Opus, linked by the codecs crate through audiopus
#   libbcg729-dev  the G.729 reference the codecs tests compare against
#   sip-tester     SIPp, and its golden RTP/DTMF captures
#   tshark         an independent RTP analyser
#   sox            makes and measures test audio
#   multimon-ng    an independent in-band DTMF decoder
#   coturn         turnutils_stunclient, a STUN client for the keep-alive tests
#   baresip-core   a real softphone (baresip), the SRTP/DTMF interop peer
#   python3-pip    to install pylibsrtp (libsrtp itself, an SRTP oracle)
set -euo pipefail
pkgs=(pkg-config libopus-dev libbcg729-dev sip-tester tshark sox multimon-ng coturn baresip-core python3-pip python3-aiosmtpd snmptrapd)
missing=()
for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing ${missing[*]}; run this script as root (sudo $0)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    echo "install-deps: installing ${missing[*]}"
    apt-get update
    # tshark asks whether non-root users may capture; answer no.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "install-deps: all Debian packages present"
fi
if ! python3 -c "import pylibsrtp" 2>/dev/null; then
    echo "install-deps: installing pylibsrtp (PyPI)"
    python3 -m pip install --quiet pylibsrtp \
        || python3 -m pip install --quiet --break-system-packages pylibsrtp
fi
