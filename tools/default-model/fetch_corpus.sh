#!/bin/sh
# Downloads the pinned Debian packages that hold the default model's corpus into a cache
# outside the repository, checks their sha256 and unpacks them (dpkg-deb -x: nothing is
# installed, so r-cran-* does not pull in R).
#
#   tools/default-model/fetch_corpus.sh [CACHE_DIR]   (default /work/default-model-run/cache)
#
# Afterwards CACHE_DIR/root/usr/share/... holds the files extract.py reads.
set -eu

cache=${1:-/work/default-model-run/cache}
mkdir -p "$cache"
cd "$cache"

# package=version  sha256 of the .deb (Debian 12 bookworm)
pins='
sword-text-web=426.0-1 930b23670b352f0829a306501de4bebb5e654a2df02cde2cbe86b802177868e1
r-cran-janeaustenr=1.0.0-1 df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95
r-cran-tokenizers=0.3.0-1 6312f013ebfde5650235bfd7ba5c44d9e4cf9f2da9855337c9483fe778f0d8c7
wordnet-base=1:3.0-37 61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752
'

echo "$pins" | while read -r pin sum; do
  [ -n "$pin" ] || continue
  name=${pin%%=*}
  version=${pin#*=}
  # apt-get download names the file with the epoch's ':' escaped as %3a.
  deb="${name}_$(echo "$version" | sed 's/:/%3a/')_$(dpkg --print-architecture).deb"
  alldeb="${name}_$(echo "$version" | sed 's/:/%3a/')_all.deb"
  if [ ! -f "$deb" ] && [ ! -f "$alldeb" ]; then
    apt-get download "$pin"
  fi
  [ -f "$deb" ] || deb=$alldeb
  echo "$sum  $deb" | sha256sum -c -
  dpkg-deb -x "$deb" root
done
echo "corpus packages unpacked under $cache/root"
