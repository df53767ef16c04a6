#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need on Debian 12.
# Idempotent: skips apt entirely when every package is already present.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config g++ clang libclang-rt-14-dev
      libgtest-dev libgmock-dev libbenchmark-dev libxdp-dev libbpf-dev libpcap-dev
      bison flex  # packetdrill (built from ../shared/packetdrill by scripts/packetdrill-build.sh)
      iproute2 ethtool iputils-ping curl wrk socat tshark python3 python3-scapy
      python3-matplotlib procps
      hping3 nmap tcpdump  # robustness_attacks: the attackers' own tools
      libxml2-utils shellcheck libvirt0  # deploy checks: xmllint, shellcheck, libvirt's domain.rng
      groff-base man-db  # man pages: groff lints them (man_pages), man finds them (install_deb)
      qemu-system-x86 linux-image-amd64 busybox-static cpio)  # vm_guest: a Debian kernel booted under QEMU
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
