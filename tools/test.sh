#!/usr/bin/env bash
# The README's test command (and what .ci/run calls): installs the Debian packages that the tests
# drive as real peers when they are missing, then runs every test, then reruns the SIMD-bearing tests
# with AVX-512, AVX2 and all hardware intrinsics switched off so every vector path and its scalar
# twin are exercised on this one machine.
#
# Needs: Debian 12 x86-64, the .NET 10 SDK, root (apt-get, network namespaces, AF_PACKET, TAP).
set -euo pipefail
cd "$(dirname "$0")/.."

# tshark/editcap/capinfos: capture oracle. python3-scapy: packet builder and oracle. tpm2-tools, swtpm:
# the vTPM's real client and reference. iproute2: netns/veth lab. clang, zlib1g-dev: NativeAOT linking.
# nftables, netsniff-ng: the kernel anchor of the through-the-kernel tests. iputils-ping: lab sanity checks.
# afl++: drives the header parser's coverage-guided fuzz target (tools/fuzz).
# systemd: systemd-analyze verifies packaging/fastpath.service. prometheus: promtool checks the /metrics text.
# etcd-server, etcd-client: the fleet tests' etcd cluster. iperf3: bulk TCP through the daemon.
# help2man: the .deb's manual page from --help; lintian: checks the .deb as Debian does.
packages=(etcd-server etcd-client tshark python3-scapy tpm2-tools swtpm swtpm-tools libtpms0 libtpms-dev clevis clevis-tpm2 tpm2-openssl python3-tpm2-pytss iproute2 clang zlib1g-dev nftables netsniff-ng iputils-ping curl iperf3 afl++ util-linux mount python3 systemd prometheus lintian help2man)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh: installing packages needs root (run with sudo)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build FastPath.sln -c Debug -warnaserror -nologo -v quiet
# dotnet-counters (dotnet-tools.json): the metric tests read the daemon's FastPath meter with it, as an operator would.
dotnet tool restore >/dev/null
# One test project at a time: the data-plane tests pin busy-polling workers to a core, and so does the daemon that
# the CLI tests start; run side by side on a 2-core machine they starve each other's workers and lose real packets.
for project in tests/FastPath.Dataplane.Tests tests/FastPath.Vtpm.Tests tests/FastPath.Control.Tests tests/FastPath.Cli.Tests; do
  dotnet test "$project" -c Debug --no-build --blame-hang-timeout 10m
done

# SIMD reruns. .NET 10 knob names (checked on this machine; the .NET 8 name EnableAVX512F is ignored):
# EnableAVX512=0 leaves Vector256, EnableAVX2=0 leaves Vector128, EnableHWIntrinsic=0 leaves scalar only.
# The kernel end-to-end tests exercise veth/TAP, not the SIMD paths, so the reruns leave them out.
simd_filter="(FullyQualifiedName~FastPath.Dataplane.Tests.Parsing|FullyQualifiedName~FastPath.Dataplane.Tests.Mapping|FullyQualifiedName~FastPath.Dataplane.Tests.Rewrite|FullyQualifiedName~FastPath.Dataplane.Tests.Pipeline|FullyQualifiedName~FastPath.Dataplane.Tests.Rings)&FullyQualifiedName!~KernelEndToEnd"
for knob in DOTNET_EnableAVX512 DOTNET_EnableAVX2 DOTNET_EnableHWIntrinsic; do
  echo "test.sh: SIMD tests with $knob=0"
  env "$knob=0" dotnet test tests/FastPath.Dataplane.Tests -c Debug --no-build --filter "$simd_filter" --blame-hang-timeout 10m
done

# Coverage-guided fuzzing of the header parser, bounded to 60 s, from the corpus saved in tools/fuzz/corpus.
echo "test.sh: fuzzing the header parser for 60 s"
tools/fuzz/run.sh 60
