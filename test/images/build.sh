#!/usr/bin/env bash
# Builds the container images the Docker runner tests and benches use. No registry is reachable, so
# each image is made from a local root filesystem and `docker import`ed:
#   baton-test/busybox:latest  Debian's static busybox, every applet linked into /bin (~1 MB)
#   baton-test/python:3        Debian bookworm minbase + python3, made with debootstrap
# Idempotent and fast: an image is rebuilt only when missing or built by another version of this
# script (its hash is stored in the image's label). BATON_REBUILD_IMAGES=1 forces a rebuild.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

here="$(cd "$(dirname "$0")" && pwd)"
recipe="$(sha256sum "$here/build.sh" | cut -c1-16)"
label=baton.test-image.recipe

# The Debian mirror this machine's apt already uses (deb822 `URIs:` or one-line `deb URI suite`
# entries whose suite is a release, not -security/-updates); BATON_DEBIAN_MIRROR overrides it.
apt_mirror() {
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  local file
  for file in "${files[@]}"; do
    [ -f "$file" ] || continue
    case "$file" in
      *.sources)
        awk '/^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-(security|updates|backports)$/) { print uri; exit } }' "$file" ;;
      *)
        awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) !~ /-(security|updates|backports)$/) { print $i; exit } }' "$file" ;;
    esac
  done | head -n 1
}
mirror="${BATON_DEBIAN_MIRROR:-$(apt_mirror)}"

log() { printf '== %s\n' "$*"; }

# Root filesystems are built in scratch directories removed on exit, whatever the outcome.
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT
new_scratch() { scratch+=("$(mktemp -d)"); }

up_to_date() {
  [ "${BATON_REBUILD_IMAGES:-}" = 1 ] && return 1
  local have
  have="$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null || true)"
  [ "$have" = "$recipe" ]
}

need_package() {
  local command="$1" package="$2"
  command -v "$command" >/dev/null 2>&1 && return 0
  log "apt-get install $package"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$package" >/dev/null
}

# Passed to `docker import --change`: an imported image has no config of its own.
common_changes=(
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  --change "LABEL $label=$recipe"
)

build_busybox() {
  local image=baton-test/busybox:latest
  if up_to_date "$image"; then log "$image is up to date"; return; fi
  # Debian's busybox-static ships /bin/busybox; the dynamic busybox package would need libc in the image.
  if ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
    need_package file file
    if ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
      log "apt-get install busybox-static"
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
    fi
  fi
  new_scratch
  local root="${scratch[-1]}"
  mkdir -p "$root"/{bin,etc,tmp,root,home,proc,sys,dev,usr/bin,usr/sbin,sbin}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  # The applet list comes from the binary itself; every applet becomes a link to /bin/busybox.
  local applet
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf /bin/busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  log "importing $image"
  tar -C "$root" -c . | docker import "${common_changes[@]}" --change 'CMD ["/bin/sh"]' - "$image" >/dev/null
}

build_python() {
  local image=baton-test/python:3
  if up_to_date "$image"; then log "$image is up to date"; return; fi
  need_package debootstrap debootstrap
  [ -n "$mirror" ] || { echo "build.sh: no Debian mirror found in apt's sources; set BATON_DEBIAN_MIRROR" >&2; exit 1; }
  new_scratch
  local root="${scratch[-1]}"
  log "debootstrap bookworm + python3 (takes a few minutes)"
  debootstrap --variant=minbase --include=python3 bookworm "$root" "$mirror" >/tmp/baton-debootstrap.log 2>&1 || {
    tail -n 30 /tmp/baton-debootstrap.log
    exit 1
  }
  # Package lists and caches only make the image bigger.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  log "importing $image"
  tar -C "$root" -c . | docker import "${common_changes[@]}" --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$image" >/dev/null
}

docker info >/dev/null 2>&1 || { echo "build.sh: the Docker engine is not reachable (docker info failed)" >&2; exit 1; }
build_busybox
build_python
# Images replaced by a rebuild linger untagged; only ours (by label) are removed.
docker image prune -f --filter "label=$label" >/dev/null
