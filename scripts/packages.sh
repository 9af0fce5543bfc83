# shellcheck shell=bash
# Sourced by scripts/test and scripts/demo: installs the Debian packages keydesk needs when they are
# missing, so both commands work on a fresh machine. Runs apt-get only when something is missing.

# Packages the tests and the demo use (the real components: PostgreSQL for a throwaway cluster;
# SoftHSM2 as the member's key, opensc's pkcs11-tool as an independent reader of it, pcscd with the
# vpcd virtual reader, libpcsclite-dev + pkg-config to build the pcsc crate, openssl for the command CA;
# Noto CJK for labels and invoices, poppler/zbar/qpdf as independent readers of the PDFs, ippeveprinter
# with a private dbus + avahi as the test printer, the CUPS client, util-linux's unshare, iproute2, and tmux
# for the end-to-end desk test; faketime runs the suite at other instants; Debian's python3-openpyxl and
# LibreOffice Calc (headless) as independent readers of the report workbook; python3-aiosmtpd as the loopback SMTP server that receives member notices).
KEYDESK_PACKAGES=(postgresql softhsm2 opensc pcscd vsmartcard-vpcd libpcsclite-dev pkg-config pcsc-tools openssl
    fonts-noto-cjk poppler-utils zbar-tools qpdf cups-ipp-utils avahi-daemon dbus cups-client util-linux iproute2 tmux faketime
    python3-openpyxl libreoffice-calc-nogui python3-aiosmtpd)

keydesk_ensure_packages() {
    local missing=()
    local p
    for p in "${KEYDESK_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    echo "keydesk: installing missing packages: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

keydesk_ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "keydesk: cargo not found; install Rust (https://rustup.rs) and run again" >&2
        exit 1
    fi
    # scripts/test checks formatting and lints as well.
    local component
    for component in rustfmt clippy; do
        local probe=(cargo clippy --version)
        [ "$component" = rustfmt ] && probe=(cargo fmt --version)
        if ! "${probe[@]}" >/dev/null 2>&1; then
            if command -v rustup >/dev/null 2>&1; then
                rustup component add "$component"
            else
                echo "keydesk: cargo $component is missing; install the Rust component $component" >&2
                exit 1
            fi
        fi
    done
}

# Echoes the newest installed PostgreSQL server binary folder (e.g. /usr/lib/postgresql/15/bin).
keydesk_pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}
