#!/bin/sh
# Builds the fastpath Debian package from a NativeAOT publish of control/FastPath.Cli:
#   dotnet publish control/FastPath.Cli -r linux-x64 -c Release -p:PublishAot=true -o PUBLISH
#   packaging/deb/build-deb.sh PUBLISH OUTDIR        -> OUTDIR/fastpath_VERSION_amd64.deb (its path on stdout)
# The version is the binary's own (`fastpath --version`, without the +commit part). Needs dpkg-deb, gzip and
# help2man (the manual page is made from the binary's own --help); the package tree is staged in a fresh temporary
# directory, and OUTDIR must not already hold that .deb (never overwritten).
# Maintainer: "$DEBFULLNAME <$DEBEMAIL>" as dch(1) reads them (set them to whoever ships the appliance); without
# DEBEMAIL it is "FastPath developers <fastpath@localhost>", which lintian rightly calls bogus.
# Dates (changelog) come from SOURCE_DATE_EPOCH when set, so two builds of one commit are identical.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 PUBLISH_DIR OUT_DIR" >&2
    exit 2
fi

publish=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
packaging=$(dirname "$here")
binary=$publish/fastpath

if [ ! -x "$binary" ] || [ -e "$publish/fastpath.dll" ]; then
    echo "build-deb.sh: $binary is not a NativeAOT binary (publish with -p:PublishAot=true)" >&2
    exit 2
fi

full=$("$binary" --version)
version=${full%%+*}
case $version in
    [0-9]*) ;;
    *) echo "build-deb.sh: unexpected version '$full'" >&2; exit 1 ;;
esac

deb=$out/fastpath_${version}_amd64.deb
if [ -e "$deb" ]; then
    echo "build-deb.sh: $deb exists (not overwritten)" >&2
    exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
umask 022
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/fastpath" \
    "$root/usr/share/doc/fastpath/examples"

install -m 0755 "$binary" "$root/usr/bin/fastpath"
install -m 0644 "$packaging/fastpath.service" "$root/lib/systemd/system/fastpath.service"
install -m 0644 "$here/fastpath.json" "$root/etc/fastpath/fastpath.json"
install -m 0644 "$here/example.json" "$root/usr/share/doc/fastpath/examples/fastpath.json"
# copyright: the header, then the repository's LICENSE as the License paragraph (blank lines as " .").
{ cat "$here/copyright"; sed -e 's/^$/./' -e 's/^/ /' "$(dirname "$packaging")/LICENSE"; } > "$root/usr/share/doc/fastpath/copyright"
chmod 0644 "$root/usr/share/doc/fastpath/copyright"
for script in postinst prerm postrm; do
    install -m 0755 "$here/$script" "$root/DEBIAN/$script"
done
install -m 0644 "$here/conffiles" "$root/DEBIAN/conffiles"

maintainer="${DEBFULLNAME:-FastPath developers} <${DEBEMAIL:-fastpath@localhost}>"
case $maintainer in
    *[\|\&]*|*"
"*) echo "build-deb.sh: DEBFULLNAME/DEBEMAIL must not hold '|', '&' or a newline" >&2; exit 2 ;;
esac
when=$(date -u -R ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"})

# A native package's changelog (Debian format): one entry for this build.
mkdir -p "$root/usr/share/man/man1"
commit=${full#*+}
printf 'fastpath (%s) unstable; urgency=medium\n\n  * Built from the FastPath repository, commit %.12s.\n\n -- %s  %s\n' \
    "$version" "$commit" "$maintainer" "$when" | gzip -9n > "$root/usr/share/doc/fastpath/changelog.gz"

# The manual page: the top-level --help, then every command's own --help as a subsection of COMMANDS.
commands=$("$binary" --help | sed -n '/^Commands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p')
include=$stage/commands.h2m
{
    echo "[COMMANDS]"
    for command in $commands; do
        echo ".SS $command"
        echo ".nf"
        "$binary" "$command" --help | sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/'
        echo ".fi"
    done
    echo "[SEE ALSO]"
    echo "The README of the FastPath repository: configuration, the control socket, the vTPM, packaging."
} > "$include"
help2man --no-info --no-discard-stderr --section 1 --name "user-space packet data plane with a vTPM pair" \
    --include "$include" "$binary" | gzip -9n > "$root/usr/share/man/man1/fastpath.1.gz"
chmod 0644 "$root/usr/share/doc/fastpath/changelog.gz" "$root/usr/share/man/man1/fastpath.1.gz"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s|@MAINTAINER@|$maintainer|" "$here/control" > "$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control"

mkdir -p "$out"
dpkg-deb --root-owner-group --build -Zxz "$root" "$deb" >&2
echo "$deb"
