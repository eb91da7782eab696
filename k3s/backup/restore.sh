#!/bin/sh
# Restores the newest (or SNAPSHOT=<id>) snapshot of BACKUP_TAG into RESTORE_TO. restic keeps the
# absolute paths it saved, so the saved folder SOURCE_PATH (one of the backup's BACKUP_PATHS) is
# restored into a scratch folder INSIDE RESTORE_TO (same filesystem: no second copy of a large tree)
# and its entries are then renamed into RESTORE_TO. An entry that already exists there is never
# overwritten: move it aside first (k3s/README.md "Restore"), and stop the writers.
#
# Environment: RESTIC_REPOSITORY, RESTIC_PASSWORD(_FILE), cloud keys as for backup.sh, plus
#   BACKUP_TAG     parquet | redis
#   SOURCE_PATH    the folder as it was backed up, e.g. /data (Parquet) or /redis/appendonlydir
#   RESTORE_TO     where its contents go (created if missing)
#   SNAPSHOT       snapshot id (default: latest); BACKUP_HOST as for backup.sh
set -eu

: "${RESTIC_REPOSITORY:?RESTIC_REPOSITORY is not set}"
: "${BACKUP_TAG:?BACKUP_TAG is not set}"
: "${SOURCE_PATH:?SOURCE_PATH is not set}"
: "${RESTORE_TO:?RESTORE_TO is not set}"
BACKUP_HOST="${BACKUP_HOST:-bsky}"

# Sets the positional parameters to restic's extra options (the sftp command for a Storage Box).
. "$(dirname "$0")/restic-options.sh"

mkdir -p "$RESTORE_TO"
scratch="$(mktemp -d "$RESTORE_TO/.restore.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

restic "$@" restore "${SNAPSHOT:-latest}" --host "$BACKUP_HOST" --tag "$BACKUP_TAG" \
  --target "$scratch" --include "$SOURCE_PATH"
src="$scratch$SOURCE_PATH"
if [ ! -d "$src" ]; then
  echo "restore: $SOURCE_PATH is not in the snapshot" >&2
  exit 1
fi
for e in "$src"/* "$src"/.[!.]* "$src"/..?*; do
  [ -e "$e" ] || continue
  if [ -e "$RESTORE_TO/$(basename "$e")" ]; then
    echo "restore: $RESTORE_TO/$(basename "$e") already exists: move it aside first, nothing was changed" >&2
    exit 1
  fi
done
for e in "$src"/* "$src"/.[!.]* "$src"/..?*; do
  [ -e "$e" ] || continue
  mv "$e" "$RESTORE_TO/"
done
printf 'restored %s (%s, snapshot %s) into %s\n' "$SOURCE_PATH" "$BACKUP_TAG" "${SNAPSHOT:-latest}" "$RESTORE_TO" >&2
