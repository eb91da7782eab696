# Sourced by backup.sh and restore.sh (POSIX sh): sets "$@" to the extra restic options they share.
# SFTP_COMMAND: optional ssh command for an sftp: repository (Hetzner Storage Box, port 23); {key} in it is
# replaced by a private copy of SFTP_KEY_FILE.
set --
if [ -n "${SFTP_COMMAND:-}" ]; then
  # ssh refuses a key file others can read, and Secret volumes are root-owned: use a private copy
  # wherever SFTP_COMMAND says {key}.
  if [ -n "${SFTP_KEY_FILE:-}" ]; then
    key="$(mktemp "${TMPDIR:-/tmp}/sftp-key.XXXXXX")"
    cat "$SFTP_KEY_FILE" > "$key"
    chmod 600 "$key"
    SFTP_COMMAND="$(printf '%s' "$SFTP_COMMAND" | sed "s#{key}#$key#g")"
  fi
  set -- -o "sftp.command=${SFTP_COMMAND}"
fi
