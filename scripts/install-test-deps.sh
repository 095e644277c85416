#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, and only what is
# missing: PostgreSQL server binaries (the tests start their own throwaway
# cluster), Python's aiosmtpd (the tests' SMTP server), mosquitto (the MQTT
# channel's tests start their own broker), the wasm32-wasip2 Rust
# target (built-in plugins), npm (the dashboard) and Debian's Chromium (the
# dashboard's end-to-end tests drive /usr/bin/chromium through playwright-core;
# CHROMIUM_PATH points them at another build), Python 3.10+ with venv (Python
# plugins are built with componentize-py from PyPI).
set -euo pipefail

have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || [ -n "${BEACON_TEST_PG_BIN:-}" ]; }
have_aiosmtpd() { python3 -c "import aiosmtpd" >/dev/null 2>&1; }
chromium_path() { echo "${CHROMIUM_PATH:-/usr/bin/chromium}"; }
have_chromium() { [ -x "$(chromium_path)" ]; }
# Python plugins build in a virtualenv with componentize-py (from PyPI).
have_python_venv() { python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; }
have_mosquitto() { { [ -x /usr/sbin/mosquitto ] || [ -x /usr/bin/mosquitto ]; } && command -v mosquitto_passwd >/dev/null; }

apt_updated=0
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to install $*; install it and re-run" >&2
    return 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! have_postgres; then
  echo "installing PostgreSQL server binaries"
  apt_install postgresql
fi
if ! have_mosquitto; then
  echo "installing mosquitto (MQTT broker for the mqtt channel's tests)"
  apt_install mosquitto
fi
if ! have_python_venv; then
  echo "installing Python's venv module (Python plugin builds)"
  apt_install python3 python3-venv python3-pip
fi
if ! have_aiosmtpd; then
  echo "installing aiosmtpd"
  python3 -m pip install --quiet aiosmtpd
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  echo "installing the wasm32-wasip2 Rust target"
  rustup target add wasm32-wasip2
fi
command -v npm >/dev/null || apt_install nodejs npm
if ! have_chromium; then
  echo "installing Chromium (end-to-end tests of the dashboard)"
  apt_install chromium
fi

# Fail, never skip: a missing dependency here is an error.
have_postgres || { echo "PostgreSQL server binaries are still missing" >&2; exit 1; }
have_aiosmtpd || { echo "aiosmtpd is still missing" >&2; exit 1; }
have_python_venv || { echo "Python 3.10+ with the venv module is still missing" >&2; exit 1; }
have_mosquitto || { echo "mosquitto is still missing" >&2; exit 1; }
rustup target list --installed | grep -qx wasm32-wasip2 || { echo "the wasm32-wasip2 target is still missing" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is still missing" >&2; exit 1; }
have_chromium || { echo "Chromium is still missing at $(chromium_path)" >&2; exit 1; }
