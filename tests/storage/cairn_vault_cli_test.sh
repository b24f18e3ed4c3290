#!/usr/bin/env bash
# cairn-vault end to end: usage errors, init, wrong passphrase, list/export, check on a damaged
# page, passwd, rekey. usage: cairn_vault_cli_test.sh PATH/TO/cairn-vault
set -u
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export CAIRN_TEST_FAST_KDF=1
source "$(dirname "${BASH_SOURCE[0]}")/../support/expect.sh"

expect "no arguments is a usage error" 2 "usage:" -- "$bin"
expect "unknown command" 2 "unknown command 'frob'" -- env CAIRN_PASSPHRASE=x "$bin" frob "$dir"
expect "init" 0 "created a vault" -- env CAIRN_PASSPHRASE=hunter22 "$bin" init "$dir"
expect "init twice" 1 "already_exists" -- env CAIRN_PASSPHRASE=hunter22 "$bin" init "$dir"
expect "wrong passphrase" 1 "wrong_passphrase: wrong passphrase for the vault in $dir" -- \
  env CAIRN_PASSPHRASE=hunter23 "$bin" unlock "$dir"
expect "passphrase from stdin" 0 "0 drafts" -- sh -c "echo hunter22 | '$bin' unlock '$dir'"
expect "export needs --plaintext" 2 "add --plaintext" -- env CAIRN_PASSPHRASE=hunter22 "$bin" export "$dir"
expect "export" 0 '"format": "cairn-drafts-export"' -- \
  env CAIRN_PASSPHRASE=hunter22 "$bin" export "$dir" --plaintext
expect "check a healthy vault" 0 "vault ok" -- env CAIRN_PASSPHRASE=hunter22 "$bin" check "$dir"
expect "passwd" 0 "passphrase changed" -- \
  env CAIRN_PASSPHRASE=hunter22 CAIRN_NEW_PASSPHRASE=swordfish "$bin" passwd "$dir"
expect "old passphrase refused" 1 "wrong_passphrase" -- env CAIRN_PASSPHRASE=hunter22 "$bin" list "$dir"
expect "rekey" 0 "rekeyed" -- env CAIRN_PASSPHRASE=swordfish "$bin" rekey "$dir"
expect "after rekey" 0 "schema" -- env CAIRN_PASSPHRASE=swordfish "$bin" unlock "$dir"
# Damage page 2 of the database: check names it and fails.
db="$dir/vault-1.db"
printf '\xff\xff\xff\xff' | dd of="$db" bs=1 seek=$((4096 + 100)) conv=notrunc status=none
expect "check names the damaged page" 1 "page 2: authentication failed" -- \
  env CAIRN_PASSPHRASE=swordfish "$bin" check "$dir"
expect "missing vault" 1 "not_found: no vault in" -- env CAIRN_PASSPHRASE=x "$bin" unlock "$dir/nope"

expect_summary
