#!/bin/sh
# One backup run with restic: snapshot BACKUP_PATHS into RESTIC_REPOSITORY, then apply the retention
# policy. The same script runs in the backup CronJobs (k3s/backup/cronjobs.yaml, mounted from a
# ConfigMap) and in tests/k3s/backup-restore.test.ts against a local repository.
#
# Environment:
#   RESTIC_REPOSITORY, RESTIC_PASSWORD (or RESTIC_PASSWORD_FILE)  where to, and its key (a Secret)
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY                     for s3: repositories (same Secret)
#   BACKUP_TAG      what this is: parquet | redis (snapshots are grouped and pruned per tag)
#   BACKUP_PATHS    space-separated folders to save
#   BACKUP_HOST     fixed host name recorded in snapshots (pods get random names; retention groups by it)
#   KEEP_DAILY=7 KEEP_WEEKLY=4 KEEP_MONTHLY=6   retention; PRUNE=0 skips forget/prune
#   SFTP_COMMAND    optional ssh command for an sftp: repository (Hetzner Storage Box, port 23)
set -eu

: "${RESTIC_REPOSITORY:?RESTIC_REPOSITORY is not set}"
: "${BACKUP_TAG:?BACKUP_TAG is not set}"
: "${BACKUP_PATHS:?BACKUP_PATHS is not set}"
BACKUP_HOST="${BACKUP_HOST:-bsky}"

# Sets the positional parameters to restic's extra options (the sftp command for a Storage Box).
. "$(dirname "$0")/restic-options.sh"

log() { printf '%s backup[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$BACKUP_TAG" "$*" >&2; }

# First run against an empty bucket or folder: create the repository.
if ! restic "$@" cat config >/dev/null 2>&1; then
  log "initialising repository"
  restic "$@" init
fi

# Folders that vanish while restic reads them (a compaction replacing batch files) make restic exit
# with 3 ("snapshot incomplete"): the snapshot is kept and the next run is complete; any other
# failure fails the job. Temporary files of an in-progress write are never worth saving.
# shellcheck disable=SC2086
set +e
restic "$@" backup --host "$BACKUP_HOST" --tag "$BACKUP_TAG" \
  --exclude '*.tmp' --exclude '*.partial' --exclude '.tmp*' --exclude '.restore.*' \
  $BACKUP_PATHS
rc=$?
set -e
if [ "$rc" -eq 3 ]; then
  log "some files changed during the backup (exit 3): snapshot kept, the next run completes it"
elif [ "$rc" -ne 0 ]; then
  log "restic backup failed (exit $rc)"
  exit "$rc"
fi

if [ "${PRUNE:-1}" = "1" ]; then
  restic "$@" forget --host "$BACKUP_HOST" --tag "$BACKUP_TAG" --group-by host,tags \
    --keep-daily "${KEEP_DAILY:-7}" --keep-weekly "${KEEP_WEEKLY:-4}" --keep-monthly "${KEEP_MONTHLY:-6}" \
    --prune
fi
log "done"
