#!/usr/bin/env bash
# Turns a fresh Raspberry Pi OS Lite (Bookworm, 64-bit) or Debian 12 machine into a kitchen
# screen: packages, the kds user, the app in /opt/kds-device, /etc/kds-device, the enrollment,
# the systemd units. Safe to run again: a second run with the same answers changes nothing.
# See docs/install.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHECKOUT="$(dirname "$SCRIPT_DIR")"
readonly SCRIPT_DIR CHECKOUT
readonly HELPER="$SCRIPT_DIR/provision_helper.py"

# Where things go. Fixed paths: the units in systemd/ name them.
readonly APP_USER=kds
readonly GATEWAY_USER=kds-gateway
readonly VENV=/opt/kds-device
readonly ETC=/etc/kds-device
readonly KIVY_HOME_DIR=$ETC/kivy
readonly DATA=/var/lib/kds-device
readonly GATEWAY_ETC=/etc/kds-gateway
readonly GATEWAY_DATA=/var/lib/kds-gateway
readonly UNIT_DIR=/etc/systemd/system
readonly MOSQUITTO_CONF=/etc/mosquitto/conf.d/kds.conf
readonly MOSQUITTO_DYNSEC=/var/lib/mosquitto/kds-dynsec.json
readonly MOSQUITTO_CERTS=/etc/mosquitto/certs
# Left by older versions of this script (one shared screen user); removed when found.
readonly OLD_MOSQUITTO_FILES=(/etc/mosquitto/kds.passwd /etc/mosquitto/kds.acl)
readonly GATEWAY_TLS=/etc/kds-gateway/tls
readonly DEVICE_CA=/etc/kds-device/gateway-ca.pem
readonly STAMP=$VENV/.kds-provisioned-source
readonly BACKLIGHT_RULE=/etc/udev/rules.d/90-kds-backlight.rules

DEVICE_PACKAGES=(
    python3 python3-venv ca-certificates # the venv's interpreter; TLS to the gateway
    libgl1 libegl1 libgles2 libgbm1 libdrm2 libgl1-mesa-dri # SDL kmsdrm + Mesa (V3D on a Pi)
    libmtdev1 # Kivy's multitouch input
    libasound2 # sound through ALSA
    # names and notes in every script: Hebrew, Arabic, Thai, Devanagari (Noto), Chinese,
    # Japanese, Korean (Noto CJK), emoji and symbols (Symbola), the rest (DejaVu)
    fonts-noto-core fonts-noto-cjk fonts-symbola fonts-dejavu-core
)
MOSQUITTO_PACKAGES=(mosquitto mosquitto-clients)

usage() {
    cat <<'EOF'
Usage: sudo deploy/provision.sh [options]

Sets this machine up as a KDS screen (and, optionally, as the site's gateway and MQTT broker).
Run it again at any time: what is already right is left alone, and it says so.

Screen:
  --gateway URL        the gateway's base URL, e.g. http://192.168.1.10:8080
  --code CODE          one-time enrollment code (on the gateway: kds-gateway enroll-code --location ID)
  --name NAME          this screen's name at the gateway (default: the host name)
  --station NAME       station shown on the board, e.g. Grill (default: Kitchen)
  --rotation DEGREES   0, 90, 180 or 270: turns the board and the touch panel together
  --bumpbar MAP        GPIO bump-bar buttons, BCM pin=action, e.g. "17=bump,27=recall,22=next";
                       "none" removes them. Actions: next previous first bump start recall undo
                       page_next page_previous all_day acknowledge clear_all
  --touch SPEC         the one Kivy input line for the touch panel (default, and kept once set:
                       probesysfs,provider=hidinput); e.g. for a panel mounted upside down:
                       "probesysfs,provider=hidinput,param=invert_x=1,param=invert_y=0"
  --re-enroll          enroll again even though this screen already is (needs --code)
  --ca-file PATH       the site CA (PEM) of an https:// gateway with its own certificates
                       (on the gateway: /etc/kds-gateway/tls/ca.pem); kept as $DEVICE_CA

This Pi as the site's server:
  --with-gateway       also run the gateway here (kds-gateway.service, user kds-gateway)
  --with-mosquitto     also run Mosquitto here: persistence on, no anonymous clients, one
                       broker user per screen (dynamic security plugin, made by the gateway)
  --with-tls           make a site CA and a server certificate (openssl, /etc/kds-gateway/tls):
                       the gateway serves HTTPS, Mosquitto's screen listener is TLS (8883).
                       Chosen when the gateway is first set up (docs/security.md)
  --public-url URL     the gateway's public base URL that Deliverect calls (with --with-gateway)
  --location ID        Deliverect location id: with --with-gateway and no --code, this screen
                       enrolls itself at the local gateway
  --broker-host HOST   address screens use to reach Mosquitto (default: this host's first IPv4)
  Secrets are read from the environment or asked for, never from the command line:
  KDS_DELIVERECT_HMAC_SECRET, KDS_DELIVERECT_CLIENT_ID, KDS_DELIVERECT_CLIENT_SECRET
  (and optionally KDS_DELIVERECT_BASE_URL).

Installation:
  --source PATH        a checkout or a kds_device wheel to install (default: this checkout)
  --python PATH        interpreter for the venv (default: /usr/bin/python3, at least 3.11)
  --no-start           install and enable, but start nothing (CI, image building)
  --dry-run            show what would change and change nothing
  --non-interactive    never prompt (also when stdin is not a terminal)
  -h, --help           this text
EOF
}

# ---------------------------------------------------------------------------------------------
# Options

GATEWAY_URL="" CODE="" NAME="" STATION="" ROTATION="" BUMPBAR="" TOUCH="" RE_ENROLL=0 CA_FILE=""
WITH_GATEWAY=0 WITH_MOSQUITTO=0 WITH_TLS=0 PUBLIC_URL="" LOCATION="" BROKER_HOST=""
SOURCE="$CHECKOUT" PYTHON="" NO_START=0 DRY_RUN=0 INTERACTIVE=1

die() {
    echo "provision: error: $*" >&2
    exit 1
}

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
    --gateway) need_value "$@"; GATEWAY_URL="$2"; shift 2 ;;
    --code) need_value "$@"; CODE="$2"; shift 2 ;;
    --name) need_value "$@"; NAME="$2"; shift 2 ;;
    --station) need_value "$@"; STATION="$2"; shift 2 ;;
    --rotation) need_value "$@"; ROTATION="$2"; shift 2 ;;
    --bumpbar) need_value "$@"; BUMPBAR="$2"; shift 2 ;;
    --touch) need_value "$@"; TOUCH="$2"; shift 2 ;;
    --re-enroll) RE_ENROLL=1; shift ;;
    --ca-file) need_value "$@"; CA_FILE="$2"; shift 2 ;;
    --with-gateway) WITH_GATEWAY=1; shift ;;
    --with-mosquitto) WITH_MOSQUITTO=1; shift ;;
    --with-tls) WITH_TLS=1; shift ;;
    --public-url) need_value "$@"; PUBLIC_URL="$2"; shift 2 ;;
    --location) need_value "$@"; LOCATION="$2"; shift 2 ;;
    --broker-host) need_value "$@"; BROKER_HOST="$2"; shift 2 ;;
    --source) need_value "$@"; SOURCE="$2"; shift 2 ;;
    --python) need_value "$@"; PYTHON="$2"; shift 2 ;;
    --no-start) NO_START=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --non-interactive | -y) INTERACTIVE=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
done
[[ -t 0 ]] || INTERACTIVE=0
[[ -z "$ROTATION" || "$ROTATION" =~ ^(0|90|180|270)$ ]] || die "--rotation must be 0, 90, 180 or 270"
[[ $RE_ENROLL -eq 0 || -n "$CODE" ]] || die "--re-enroll needs --code"
[[ -z "$GATEWAY_URL" || "$GATEWAY_URL" =~ ^https?:// ]] || die "--gateway must start with http:// or https://"
[[ $WITH_MOSQUITTO -eq 0 || $WITH_GATEWAY -eq 1 ]] || die "--with-mosquitto goes with --with-gateway (the gateway holds the broker's passwords)"
[[ $WITH_TLS -eq 0 || $WITH_GATEWAY -eq 1 ]] || die "--with-tls goes with --with-gateway (it makes the gateway's certificates)"
[[ -z "$CA_FILE" || -f "$CA_FILE" ]] || die "--ca-file: no such file $CA_FILE"

# ---------------------------------------------------------------------------------------------
# Reporting: every step says whether it changed something.

CHANGES=0
step() { printf '\n== %s\n' "$*"; }
same() { printf '   ok       %s\n' "$*"; }
changed() {
    CHANGES=$((CHANGES + 1))
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '   would    %s\n' "$*"
    else
        printf '   changed  %s\n' "$*"
    fi
}
note() { printf '   note     %s\n' "$*"; }
warn() { printf '   WARNING  %s\n' "$*" >&2; }

# Run a command that changes the system (skipped in a dry run).
act() {
    if [[ $DRY_RUN -eq 0 ]]; then
        "$@"
    fi
}

systemd_running() { [[ -d /run/systemd/system ]]; }

as_user() { # as_user USER CMD... : run with the user's rights, from a directory it can read
    (cd / && runuser -u "$1" -- "${@:2}")
}

prompt() { # prompt VAR "question" [default] [secret]
    local __var=$1 question=$2 default=${3:-} secret=${4:-} answer=""
    if [[ $INTERACTIVE -eq 0 ]]; then
        printf -v "$__var" '%s' "$default"
        return
    fi
    if [[ -n "$secret" ]]; then
        read -r -s -p "   $question: " answer
        echo
    else
        read -r -p "   $question${default:+ [$default]}: " answer
    fi
    printf -v "$__var" '%s' "${answer:-$default}"
}

# install_content DEST MODE OWNER:GROUP < content  -- writes only when something differs.
install_content() {
    local dest=$1 mode=$2 owner=$3 tmp
    tmp=$(mktemp)
    cat >"$tmp"
    if [[ -f "$dest" ]] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"
        fix_mode "$dest" "$mode" "$owner"
        return
    fi
    changed "write $dest"
    if [[ $DRY_RUN -eq 0 ]]; then
        install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$dest.kds-new"
        mv -f "$dest.kds-new" "$dest"
    fi
    rm -f "$tmp"
    DIRTY=1
}

fix_mode() { # fix_mode PATH MODE OWNER:GROUP
    local path=$1 mode=$2 owner=$3 have
    have=$(stat -c '%a %U:%G' "$path")
    if [[ "$have" == "${mode#0} $owner" ]]; then
        same "$path ($mode $owner)"
    else
        changed "set $path to $mode $owner (was $have)"
        act chown "$owner" "$path"
        act chmod "$mode" "$path"
        DIRTY=1
    fi
}

ensure_dir() { # ensure_dir PATH MODE OWNER:GROUP
    local path=$1 mode=$2 owner=$3
    if [[ -d "$path" ]]; then
        fix_mode "$path" "$mode" "$owner"
    else
        changed "create $path ($mode $owner)"
        act install -d -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$path"
    fi
}

# ---------------------------------------------------------------------------------------------
# Steps

preflight() {
    step "Checks"
    if [[ $EUID -ne 0 ]]; then
        [[ $DRY_RUN -eq 1 ]] || die "run as root: sudo $0 ..."
        warn "not root: the dry run may miss what it cannot read"
    fi
    local id="" version="" like=""
    if [[ -r /etc/os-release ]]; then
        # shellcheck disable=SC1091
        read -r id version like < <(. /etc/os-release && echo "${ID:-?} ${VERSION_CODENAME:-?} ${ID_LIKE:-}")
    fi
    if [[ "$version" == bookworm && ("$id" == debian || "$id" == raspbian || "$like" == *debian*) ]]; then
        same "system: $id $version $(uname -m)"
    else
        warn "made for Raspberry Pi OS / Debian 12 (bookworm); this is '$id $version': carrying on"
    fi
    command -v runuser >/dev/null || die "runuser (util-linux) is missing"
    command -v systemctl >/dev/null || die "systemctl is missing: this needs a systemd system"
    if [[ -f "$SOURCE" && "$SOURCE" == *.whl ]] || [[ -f "$SOURCE/pyproject.toml" ]]; then
        same "source: $SOURCE"
    else
        die "--source must be a checkout (with pyproject.toml) or a .whl file: $SOURCE"
    fi
    if systemd_running; then
        same "systemd is running"
    else
        note "systemd is not running (container, chroot or CI): units are enabled, nothing is started"
        NO_START=1
    fi
}

install_packages() {
    step "System packages"
    local wanted=("${DEVICE_PACKAGES[@]}") missing=() p
    [[ $WITH_MOSQUITTO -eq 0 ]] || wanted+=("${MOSQUITTO_PACKAGES[@]}")
    [[ $WITH_TLS -eq 0 ]] || wanted+=(openssl) # deploy/site-pki.sh
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        same "installed: ${wanted[*]}"
        return
    fi
    changed "apt-get install ${missing[*]}"
    if [[ $DRY_RUN -eq 0 ]]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

pick_python() {
    local candidate=${PYTHON:-/usr/bin/python3}
    if [[ -x "$candidate" ]] && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PYTHON=$candidate
    elif [[ $DRY_RUN -eq 1 && -z "$PYTHON" ]]; then
        PYTHON=python3 # the apt step would have installed /usr/bin/python3
    else
        die "$candidate is not Python 3.11 or newer (pass --python)"
    fi
}

ensure_user() { # ensure_user NAME HOME GROUPS...
    local user=$1 home=$2 group wanted=()
    shift 2
    for group in "$@"; do
        if getent group "$group" >/dev/null; then
            wanted+=("$group")
        else
            note "group $group does not exist here: skipped"
        fi
    done
    if id -u "$user" >/dev/null 2>&1; then
        same "user $user"
    else
        changed "create system user $user"
        act useradd --system --user-group --home-dir "$home" --no-create-home \
            --shell /usr/sbin/nologin --comment "KDS service" "$user"
    fi
    for group in "${wanted[@]}"; do
        if id -nG "$user" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
            same "$user in group $group"
        else
            changed "add $user to group $group"
            act usermod -a -G "$group" "$user"
        fi
    done
}

users_and_dirs() {
    step "Users and directories"
    ensure_user "$APP_USER" "$DATA" video render input gpio audio
    ensure_dir "$ETC" 0755 root:root
    ensure_dir "$KIVY_HOME_DIR" 0755 root:root
    ensure_dir "$KIVY_HOME_DIR/mods" 0755 root:root
    ensure_dir "$KIVY_HOME_DIR/icon" 0755 root:root
    ensure_dir "$DATA" 0750 "$APP_USER:$APP_USER"
    if [[ $WITH_GATEWAY -eq 1 ]]; then
        ensure_user "$GATEWAY_USER" "$GATEWAY_DATA"
        ensure_dir "$GATEWAY_ETC" 0750 "root:$GATEWAY_USER"
        ensure_dir "$GATEWAY_DATA" 0750 "$GATEWAY_USER:$GATEWAY_USER"
    fi
}

install_app() {
    step "The app in $VENV"
    local extras=device,pi fingerprint stage="" spec
    [[ $WITH_GATEWAY -eq 0 ]] || extras+=,gateway
    if [[ -f "$SOURCE" ]]; then
        fingerprint="wheel $(sha256sum "$SOURCE" | cut -d' ' -f1)"
    else
        # Build from a copy: a pip build in place would write build/ and *.egg-info into the checkout.
        stage=$(mktemp -d)
        local parts=(pyproject.toml kds_device) f
        for f in README.md LICENSE setup.cfg MANIFEST.in; do [[ ! -e "$SOURCE/$f" ]] || parts+=("$f"); done
        tar -C "$SOURCE" --exclude=__pycache__ --exclude='*.pyc' -cf - "${parts[@]}" | tar -xf - -C "$stage"
        fingerprint="tree $(cd "$stage" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
    fi
    fingerprint+=" python=$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
    # A gateway Pi keeps its gateway extra when a later run does not ask for it.
    local installed_extras=""
    [[ ! -f "$STAMP" ]] || installed_extras=$(sed -n 2p "$STAMP")
    [[ ",$installed_extras," != *,gateway,* || "$extras" == *gateway* ]] || extras+=,gateway
    if [[ -f "$SOURCE" ]]; then spec="${SOURCE}[$extras]"; else spec="${stage}[$extras]"; fi
    if [[ -x "$VENV/bin/python" ]]; then
        same "venv $VENV"
    else
        changed "create venv $VENV with $PYTHON"
        act "$PYTHON" -m venv "$VENV"
    fi
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$fingerprint"$'\n'"$extras" && -x "$VENV/bin/kds-device" ]]; then
        same "kds-device installed from this source ($extras)"
    else
        changed "pip install kds-device[$extras] from $SOURCE"
        if [[ $DRY_RUN -eq 0 ]]; then
            "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-warn-script-location \
                --upgrade "$spec"
            printf '%s\n%s\n' "$fingerprint" "$extras" >"$STAMP"
        fi
        APP_CHANGED=1
    fi
    [[ -z "$stage" ]] || rm -rf "$stage"
}

helper() { # run the helper with the venv's Python (it can then check the config with the app's loader)
    local py="$VENV/bin/python"
    [[ -x "$py" ]] || py=$PYTHON
    "$py" "$HELPER" "$@"
}

device_config() {
    step "Screen settings ($ETC/config.toml)"
    local existing=$ETC/config.toml
    if [[ ! -f "$existing" ]]; then
        [[ -n "$STATION" ]] || prompt STATION "Station shown on the board" "Kitchen"
        [[ -n "$ROTATION" ]] || prompt ROTATION "Display rotation (0, 90, 180, 270)" "0"
        [[ -n "$BUMPBAR" ]] || prompt BUMPBAR 'GPIO bump-bar buttons, e.g. 17=bump,27=recall ("none" for none)' "none"
        [[ "$ROTATION" =~ ^(0|90|180|270)$ ]] || die "rotation must be 0, 90, 180 or 270"
    fi
    local args=(device-config --existing "$existing")
    [[ -z "$STATION" ]] || args+=(--station "$STATION")
    [[ -z "$ROTATION" ]] || args+=(--rotation "$ROTATION")
    [[ -z "$BUMPBAR" ]] || args+=(--bumpbar "$BUMPBAR")
    local rendered status=0
    rendered=$(helper "${args[@]}") || status=$?
    case $status in
    0)
        DIRTY=0
        if [[ -f "$existing" && $DRY_RUN -eq 0 ]]; then
            cp -p "$existing" "$existing.$(date +%Y%m%d-%H%M%S).bak"
            note "previous settings kept as $existing.*.bak"
        fi
        install_content "$existing" 0644 root:root <<<"$rendered"
        APP_CHANGED=1
        ;;
    10) same "settings unchanged"; fix_mode "$existing" 0644 root:root ;;
    *) die "cannot write the screen settings (see above)" ;;
    esac
    [[ -n "$ROTATION" ]] || ROTATION=$(helper read-toml "$existing" display.rotation 2>/dev/null || echo 0)
}

kivy_config() {
    step "Touch panel and display ($KIVY_HOME_DIR/config.ini)"
    if [[ ! -x "$VENV/bin/python" ]]; then
        changed "write $KIVY_HOME_DIR/config.ini (after the venv exists)"
        return
    fi
    DIRTY=0
    local args=(kivy-config --rotation "$ROTATION" --existing "$KIVY_HOME_DIR/config.ini") rendered
    [[ -z "$TOUCH" ]] || args+=(--touch "$TOUCH")
    rendered=$(helper "${args[@]}") || die "cannot write Kivy's config (see above)"
    install_content "$KIVY_HOME_DIR/config.ini" 0644 root:root <<<"$rendered"
    [[ $DIRTY -eq 0 ]] || APP_CHANGED=1
}

install_unit() { # install_unit NAME
    local name=$1
    DIRTY=0
    install_content "$UNIT_DIR/$name" 0644 root:root <"$CHECKOUT/systemd/$name"
    if [[ $DIRTY -eq 1 ]]; then
        UNITS_CHANGED=1
        [[ "$name" != kds-device.service ]] || APP_CHANGED=1
        [[ "$name" != kds-gateway.service ]] || GATEWAY_CHANGED=1
    fi
}

enable_unit() { # works without a running systemd: systemctl enable only writes symlinks
    local name=$1
    if systemctl is-enabled --quiet "$name" 2>/dev/null; then
        same "$name enabled"
    else
        changed "enable $name"
        act systemctl enable --quiet "$name"
    fi
}

units() {
    step "systemd units"
    UNITS_CHANGED=0
    install_unit kds-device.service
    [[ $WITH_GATEWAY -eq 0 ]] || install_unit kds-gateway.service
    if [[ $UNITS_CHANGED -eq 1 ]] && systemd_running; then
        act systemctl daemon-reload
    fi
    enable_unit kds-device.service
    [[ $WITH_GATEWAY -eq 0 ]] || enable_unit kds-gateway.service
    [[ $WITH_MOSQUITTO -eq 0 ]] || enable_unit mosquitto.service
}

backlight_rule() {
    step "Backlight ($BACKLIGHT_RULE)"
    # sysfs backlight files belong to root: the rule lets the video group (the screen's user
    # is in it) dim the panel and turn it off outside opening hours (docs/screen-care.md)
    DIRTY=0
    install_content "$BACKLIGHT_RULE" 0644 root:root <<'EOF'
# Written by kds-device's provision.sh: the video group may dim the panel and turn it off.
ACTION=="add", SUBSYSTEM=="backlight", RUN+="/bin/chgrp video /sys%p/brightness /sys%p/bl_power", RUN+="/bin/chmod g+w /sys%p/brightness /sys%p/bl_power"
EOF
    if [[ $DIRTY -eq 1 ]] && command -v udevadm >/dev/null && [[ -n "$(ls -A /sys/class/backlight 2>/dev/null)" ]]; then
        act udevadm trigger --subsystem-match=backlight --action=add || warn "udevadm trigger failed; the rule applies from the next boot"
    fi
}

gateway_config() {
    step "Gateway ($GATEWAY_ETC/gateway.toml)"
    local conf=$GATEWAY_ETC/gateway.toml
    if [[ -f "$conf" ]]; then
        same "$conf exists: kept as it is (edit it by hand to change secrets)"
        fix_mode "$conf" 0640 "root:$GATEWAY_USER"
        return
    fi
    local hmac=${KDS_DELIVERECT_HMAC_SECRET:-} client_id=${KDS_DELIVERECT_CLIENT_ID:-}
    local client_secret=${KDS_DELIVERECT_CLIENT_SECRET:-}
    [[ -n "$hmac" ]] || prompt hmac "Deliverect HMAC secret" "" secret
    [[ -n "$client_id" ]] || prompt client_id "Deliverect OAuth client id" ""
    [[ -n "$client_secret" ]] || prompt client_secret "Deliverect OAuth client secret" "" secret
    [[ -n "$hmac" && -n "$client_id" && -n "$client_secret" ]] ||
        die "the gateway needs KDS_DELIVERECT_HMAC_SECRET, KDS_DELIVERECT_CLIENT_ID and KDS_DELIVERECT_CLIENT_SECRET"
    [[ -n "$PUBLIC_URL" ]] || prompt PUBLIC_URL "Public URL Deliverect calls (https://...)" "http://$(hostname):8080"
    [[ -n "$BROKER_HOST" ]] || BROKER_HOST=$(hostname -I 2>/dev/null | awk '{print $1}')
    [[ -n "$BROKER_HOST" ]] || BROKER_HOST=$(hostname)
    DIRTY=0
    KDS_DELIVERECT_HMAC_SECRET=$hmac KDS_DELIVERECT_CLIENT_ID=$client_id \
        KDS_DELIVERECT_CLIENT_SECRET=$client_secret \
        helper gateway-config --public-url "$PUBLIC_URL" --data-dir "$GATEWAY_DATA" \
        --mqtt "$WITH_MOSQUITTO" --broker-host "$BROKER_HOST" \
        --tls-dir "$([[ $WITH_TLS -eq 0 ]] || echo "$GATEWAY_TLS")" |
        install_content "$conf" 0640 "root:$GATEWAY_USER"
    GATEWAY_CHANGED=1
}

site_tls() {
    step "Site certificates ($GATEWAY_TLS)"
    [[ -n "$BROKER_HOST" ]] || BROKER_HOST=$(hostname -I 2>/dev/null | awk '{print $1}')
    local names=("$(hostname)" localhost 127.0.0.1)
    [[ -z "$BROKER_HOST" ]] || names=("$BROKER_HOST" "${names[@]}")
    if [[ $DRY_RUN -eq 1 ]]; then
        [[ -f "$GATEWAY_TLS/ca.pem" ]] || changed "make a site CA and a certificate for ${names[*]}"
        return
    fi
    ensure_dir "$GATEWAY_TLS" 0750 "root:$GATEWAY_USER"
    local made
    made=$(bash "$SCRIPT_DIR/site-pki.sh" "$GATEWAY_TLS" "${names[@]}")
    if [[ -n "$made" ]]; then
        changed "$made"
        GATEWAY_CHANGED=1 MOSQUITTO_CHANGED=1
    fi
    fix_mode "$GATEWAY_TLS/ca.key" 0600 root:root
    fix_mode "$GATEWAY_TLS/server.key" 0640 "root:$GATEWAY_USER"
    [[ -n "$CA_FILE" ]] || CA_FILE=$GATEWAY_TLS/ca.pem # this Pi's own screen
}

dynsec_plugin() {
    local found
    found=$(dpkg -L mosquitto 2>/dev/null | grep -m1 '/mosquitto_dynamic_security\.so$' || true)
    [[ -n "$found" ]] || found=$(ls /usr/lib/*/mosquitto_dynamic_security.so 2>/dev/null | head -n1 || true)
    [[ -n "$found" || $DRY_RUN -eq 1 ]] || die "Mosquitto's dynamic security plugin is missing (mosquitto >= 2.0)"
    echo "${found:-/usr/lib/mosquitto_dynamic_security.so}"
}

mosquitto_config() {
    step "Mosquitto"
    local conf=$GATEWAY_ETC/gateway.toml
    if [[ $DRY_RUN -eq 1 && ! -f "$conf" ]]; then
        changed "write $MOSQUITTO_CONF, $MOSQUITTO_DYNSEC"
        return
    fi
    DIRTY=0
    local tls_args=()
    if [[ $WITH_TLS -eq 1 ]]; then
        tls_args=(--tls-dir "$MOSQUITTO_CERTS")
        ensure_dir "$MOSQUITTO_CERTS" 0755 root:root
        install_content "$MOSQUITTO_CERTS/kds-ca.pem" 0644 root:root <"$GATEWAY_TLS/ca.pem"
        install_content "$MOSQUITTO_CERTS/kds-server.pem" 0644 root:root <"$GATEWAY_TLS/server.pem"
        install_content "$MOSQUITTO_CERTS/kds-server.key" 0640 root:mosquitto <"$GATEWAY_TLS/server.key"
    fi
    helper mosquitto-conf --template "$SCRIPT_DIR/mosquitto/kds.conf" --plugin "$(dynsec_plugin)" \
        --dynsec-file "$MOSQUITTO_DYNSEC" "${tls_args[@]}" |
        install_content "$MOSQUITTO_CONF" 0644 root:root
    # The plugin's file: Mosquitto rewrites it as the gateway adds and removes screens, so it is
    # written here only when new, or when the gateway's broker password in gateway.toml changed
    # (a rotated password reaches the broker; the screens in it are kept).
    local rendered status=0
    rendered=$(helper mqtt-dynsec "$conf" --existing "$MOSQUITTO_DYNSEC") || status=$?
    case $status in
    0)
        if [[ -f "$MOSQUITTO_DYNSEC" ]] && systemd_running && systemctl is-active --quiet mosquitto; then
            changed "stop mosquitto.service to re-key the gateway's broker user"
            act systemctl stop mosquitto
        fi
        install_content "$MOSQUITTO_DYNSEC" 0600 mosquitto:mosquitto <<<"$rendered"
        GATEWAY_CHANGED=1
        ;;
    10) fix_mode "$MOSQUITTO_DYNSEC" 0600 mosquitto:mosquitto ;;
    *) die "cannot write $MOSQUITTO_DYNSEC (see above)" ;;
    esac
    local old
    for old in "${OLD_MOSQUITTO_FILES[@]}"; do
        if [[ -e "$old" ]]; then
            changed "remove $old (replaced by the dynamic security plugin)"
            act rm -f "$old"
            DIRTY=1
        fi
    done
    [[ $DIRTY -eq 0 ]] || MOSQUITTO_CHANGED=1
    [[ $WITH_TLS -eq 1 ]] || note "screens reach the broker and the gateway in clear on the LAN: --with-tls encrypts both"
}

is_enrolled() { [[ -f "$DATA/enrollment.json" ]]; }

enroll() {
    step "Enrollment"
    if is_enrolled && [[ $RE_ENROLL -eq 0 ]]; then
        same "enrolled ($DATA/enrollment.json); --re-enroll --code CODE to enroll again"
        fix_mode "$DATA/enrollment.json" 0600 "$APP_USER:$APP_USER"
        return
    fi
    if [[ -z "$CODE" && $WITH_GATEWAY -eq 1 && -n "$LOCATION" ]]; then
        if [[ $NO_START -eq 1 ]]; then
            note "the local gateway is not running (--no-start): enroll later by running this again"
            return
        fi
        if [[ -z "$GATEWAY_URL" ]]; then
            GATEWAY_URL=http://127.0.0.1:8080
            [[ ! -f "$GATEWAY_TLS/server.pem" ]] || GATEWAY_URL=https://localhost:8080
        fi
        if [[ $DRY_RUN -eq 0 ]]; then
            CODE=$(as_user "$GATEWAY_USER" "$VENV/bin/kds-gateway" --config "$GATEWAY_ETC/gateway.toml" \
                enroll-code --location "$LOCATION" | tail -n1)
        fi
    fi
    [[ -n "$GATEWAY_URL" ]] || prompt GATEWAY_URL "Gateway URL (e.g. http://192.168.1.10:8080)" ""
    [[ -n "$CODE" ]] || prompt CODE "Enrollment code (kds-gateway enroll-code --location ID)" ""
    if [[ -z "$GATEWAY_URL" || -z "$CODE" ]]; then
        warn "not enrolled: the screen will say so. Run this again with --gateway URL --code CODE"
        return
    fi
    [[ -n "$NAME" ]] || NAME=$(hostname)
    local station
    station=$(helper read-toml "$ETC/config.toml" display.station 2>/dev/null || echo "${STATION:-Kitchen}")
    changed "enroll at $GATEWAY_URL as '$NAME' (station $station)"
    local ca_args=()
    if [[ -n "$CA_FILE" ]]; then
        install_content "$DEVICE_CA" 0644 root:root <"$CA_FILE"
        ca_args=(--ca-file "$DEVICE_CA")
    fi
    if [[ $DRY_RUN -eq 0 ]]; then
        as_user "$APP_USER" env KDS_DEVICE_DATA_DIR="$DATA" KDS_DEVICE_CONFIG="$ETC/config.toml" \
            "$VENV/bin/kds-device" enroll --gateway "$GATEWAY_URL" --code "$CODE" \
            --name "$NAME" --station "$station" "${ca_args[@]}"
        is_enrolled || die "enrollment reported success but $DATA/enrollment.json is missing"
    fi
    APP_CHANGED=1
}

start_one() { # start_one UNIT CHANGED: restart it if its files changed, start it if stopped
    if [[ $2 -eq 1 ]] && systemctl is-active --quiet "$1"; then
        changed "restart $1"
        act systemctl restart "$1"
    elif ! systemctl is-active --quiet "$1"; then
        changed "start $1"
        act systemctl start "$1"
    else
        same "$1 running"
    fi
}

start_services() {
    step "Services"
    if [[ $NO_START -eq 1 ]]; then
        note "not starting anything (--no-start or no running systemd); they start at the next boot"
        return
    fi
    [[ $WITH_MOSQUITTO -eq 0 ]] || start_one mosquitto.service "$MOSQUITTO_CHANGED"
    [[ $WITH_GATEWAY -eq 0 ]] || start_one kds-gateway.service "$GATEWAY_CHANGED"
}

start_screen() {
    [[ $NO_START -eq 0 ]] || return 0
    step "Screen"
    start_one kds-device.service "$APP_CHANGED"
}

# ---------------------------------------------------------------------------------------------

main() {
    APP_CHANGED=0 GATEWAY_CHANGED=0 MOSQUITTO_CHANGED=0 DIRTY=0
    [[ $DRY_RUN -eq 0 ]] || echo "Dry run: nothing will be changed."
    preflight
    install_packages
    pick_python
    users_and_dirs
    install_app
    device_config
    kivy_config
    backlight_rule
    [[ $WITH_TLS -eq 0 ]] || site_tls
    [[ $WITH_GATEWAY -eq 0 ]] || gateway_config
    [[ $WITH_MOSQUITTO -eq 0 ]] || mosquitto_config
    units
    start_services
    enroll
    start_screen

    echo
    if [[ $CHANGES -eq 0 ]]; then
        echo "Nothing changed: this machine already matches."
    elif [[ $DRY_RUN -eq 1 ]]; then
        echo "Dry run: $CHANGES change(s) would be made."
    else
        echo "Done: $CHANGES change(s) made."
    fi
    echo "Check it with: sudo -u $APP_USER KDS_DEVICE_DATA_DIR=$DATA $VENV/bin/kds-device status"
}

main
