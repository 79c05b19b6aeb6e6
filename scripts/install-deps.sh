#!/usr/bin/env bash
# Installs the Debian packages PBXKit's build and tests need (run as root).
#   libopus-dev    Opus, linked by the codecs crate through audiopus
#   libbcg729-dev  the G.729 reference the codecs tests compare against
#   sip-tester     SIPp, and its golden RTP/DTMF captures
#   tshark         an independent RTP analyser
#   sox            makes and measures test audio
set -euo pipefail
pkgs=(pkg-config libopus-dev libbcg729-dev sip-tester tshark sox)
missing=()
for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all Debian packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing ${missing[*]}; run this script as root (sudo $0)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
